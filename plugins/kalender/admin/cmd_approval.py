"""``kalender approval``, ``kalender approve`` and ``kalender reject``: the protocol office.

Approval is off by default; while it is on, an activity that names a key
person is "definitif" (and public) only after its approval, for its present
time and place (``kalender.pemda``). The decisions are the web page's
(``/persetujuan/``): both call :mod:`kalender.pemda.decisions`.
"""

from __future__ import annotations

import argparse

from kalender import audit, database
from kalender.deployment import Deployment
from kalender.notify.notice import local_time
from kalender.pemda import approvals, decisions
from kalender.pemda.approval import REJECTED, label

#: The actor of decisions made on the command line, unless --oleh names the officer.
CLI_ACTOR = "kalender:cli"


def cmd_approval(args: argparse.Namespace) -> int:
    """Print, switch on or off, or list what waits (``list``)."""
    dep = Deployment.locate(args.dir)
    if args.state == "list":
        return _list(dep, args.opd)
    if args.state is None:
        on = approvals.enabled(dep.database)
        print("Persetujuan Prokopim: " + ("aktif" if on else "tidak aktif") + (
            "" if on else " (aktifkan dengan 'kalender approval on')"))
        return 0
    on = args.state == "on"
    conn = database.connect(dep.database)
    conn.execute("BEGIN IMMEDIATE")
    try:
        changed = approvals.switch(conn, on)
        if changed:
            audit.record(conn, args.oleh or CLI_ACTOR, audit.APPROVAL_ACTION, "/opd/", None,
                         "tidak aktif" if on else "aktif", "aktif" if on else "tidak aktif",
                         "persetujuan Prokopim " + ("diaktifkan" if on else "dimatikan"))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    state = "aktif" if on else "tidak aktif"
    print(f"Persetujuan Prokopim {'sekarang' if changed else 'sudah'} {state}." + (
        " Kegiatan yang melibatkan pejabat kunci tampil di agenda publik setelah disetujui."
        if on and changed else ""))
    return 0


def _list(dep: Deployment, opd: str | None) -> int:
    """The activities waiting for approval (and the rejected ones), soonest first."""
    waiting = decisions.pending(dep.root, opd=opd)
    if not approvals.enabled(dep.database):
        print("Catatan: persetujuan Prokopim tidak aktif; kegiatan ini tidak menunggu apa pun.")
    if not waiting:
        print("Tidak ada kegiatan yang menunggu persetujuan.")
        return 0
    for w in waiting:
        where = f" @ {w.location}" if w.location else ""
        print(f"{local_time(w.start)}  {w.opd:<14} {w.uid}  {w.title!r}{where}")
        line = f"    {label(w.state)}; pejabat: {', '.join(w.persons)}"
        if w.state == REJECTED and w.reason:
            line += f"; alasan: {w.reason}"
        print(line)
    print(f"{len(waiting)} kegiatan. Setujui: kalender approve OPD UID; tolak: "
          "kalender reject OPD UID --reason TEKS")
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    """Approve one activity for its present time and place."""
    dep = Deployment.locate(args.dir)
    done = decisions.approve(dep.root, args.opd, args.uid, args.oleh or CLI_ACTOR)
    print(f"Kegiatan {done.title!r} ({args.opd}) disetujui: sekarang {label(done.state)}. "
          "Bila waktu atau tempatnya diubah, kegiatan menunggu persetujuan lagi.")
    return 0


def cmd_reject(args: argparse.Namespace) -> int:
    """Reject one activity; the reason goes to the OPD's PICs (Bentrok calendar, e-mail)."""
    dep = Deployment.locate(args.dir)
    done = decisions.reject(dep.root, args.opd, args.uid, args.oleh or CLI_ACTOR, args.reason)
    print(f"Kegiatan {done.title!r} ({args.opd}) ditolak. Alasannya dikirim ke PIC OPD "
          "(kalender Bentrok dan e-mail).")
    return 0
