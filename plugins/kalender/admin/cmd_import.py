"""``kalender import OPD FILE.ics``: an exported calendar into an OPD calendar, guarded.

Plan (``kalender.admin.importsplit``, ``kalender.admin.importplan``), then act
(``kalender.admin.importrun``); ``--dry-run`` stops after the plan. The audit
trail names the operator: ``--as LOGIN`` (an admin, or a PIC of that OPD: the
write is then judged as that account's PUT), else the OS user as
``kalender:impor:<user>`` (the CLI's actors start ``kalender:``, which no login
can, and count as admin like every other ``kalender`` command). Ctrl-C or
SIGTERM stops between two items; the same command again continues.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from types import FrameType

from kalender.admin.importplan import CHANGED, NEW, SAME, Plan, plan
from kalender.admin.importrun import IMPORTED, REFUSED, UNREADABLE, Importer, Outcome
from kalender.admin.importsplit import Split, split
from kalender.clash.tz import JAKARTA
from kalender.deployment import Deployment
from kalender.errors import BadCalendarError, CliError
from kalender.registry import Opd

#: The progress line is redrawn at most this often (seconds).
_REDRAW = 0.1


def _opd(dep: Deployment, opd_id: str) -> Opd:
    """The registered, active OPD ``opd_id`` or a CliError."""
    opd = next((o for o in dep.opds() if o.id == opd_id), None)
    if opd is None:
        raise CliError(f"OPD {opd_id!r} tidak terdaftar (lihat 'kalender opd list')")
    if opd.archived:
        raise CliError(f"OPD {opd_id!r} sudah diarsipkan; kalendernya tidak menerima kegiatan")
    return opd


def _actor(dep: Deployment, login: str | None, opd: Opd) -> str:
    """Who the audit trail names: ``--as LOGIN`` (allowed to write there) or the OS user."""
    if not login:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (a container): the numeric id
            name = str(os.getuid())
        return f"kalender:impor:{name}"
    user = next((u for u in dep.users() if u.login == login), None)
    if user is None:
        raise CliError(f"akun {login!r} tidak terdaftar (lihat 'kalender user list')")
    if user.role != "admin" and not (user.role == "pic" and opd.id in user.opds):
        raise CliError(f"akun {login!r} tidak boleh menulis kalender {opd.href} (hanya admin "
                       f"atau PIC {opd.label})")
    return user.login


def read_calendar(path: Path) -> Split:
    """The file's items; CliError when it cannot be read or is not an iCalendar file."""
    try:
        data = path.read_bytes()
    except OSError as e:
        why = "tidak ada" if isinstance(e, FileNotFoundError) else (e.strerror or str(e))
        raise CliError(f"berkas {path} tidak dapat dibaca: {why}") from e
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", "replace")  # old Outlook exports: Windows-1252
    if "BEGIN:VCALENDAR" not in text[:4096].upper():
        raise CliError(f"{path} bukan berkas iCalendar (tidak ada BEGIN:VCALENDAR); ekspor "
                       "kalender sebagai berkas .ics")
    try:
        return split(text)
    except BadCalendarError as e:
        raise CliError(f"{path} tidak dapat dibaca sebagai iCalendar: {e.message}") from e


def _when(epoch: int) -> str:
    """``2026-12-02 09:00 WIB``."""
    return datetime.fromtimestamp(epoch, JAKARTA).strftime("%Y-%m-%d %H:%M WIB")


def print_plan(p: Plan, opd: Opd, source: Path, importer: Importer) -> None:
    """The plan of a dry run, one line per item, with what each write would meet now."""
    print(f"Rencana impor {source} ke {opd.name} ({opd.href}):")
    for step in p.steps:
        mark = "  (lampau)" if step.past else ""
        print(f"  {step.action:<10} {_when(step.item.start)}  {step.item.title}{mark}")
        seen = importer.preview(step)
        if seen.status in (REFUSED, UNREADABLE):
            print(f"{'':13}akan {seen.status}: {seen.message}")
    for bad in p.unreadable:
        print(f"  {'tak terbaca':<10} {bad.title} (UID {bad.uid}): {bad.why}")
    _summary(p)
    print("Uji coba (--dry-run): tidak ada yang ditulis.")


def _summary(p: Plan) -> None:
    """Counts of the plan and what the file held that is not imported."""
    past = sum(1 for s in p.steps if s.past and s.action != SAME)
    print(f"Baru: {p.count(NEW)}, berubah: {p.count(CHANGED)}, sudah ada: {p.count(SAME)}, "
          f"tidak terbaca: {len(p.unreadable)}; lampau (riwayat) di antaranya: {past}.")
    for name, count in p.skipped:
        print(f"Dilewati: {count} {name} (kalender OPD hanya menyimpan kegiatan/VEVENT).")
    if p.duplicates:
        print(f"UID ganda dalam berkas (dipakai salinan terbaru): {', '.join(p.duplicates)}")
    for item in p.made_uids:
        print(f"Tanpa UID, diberi UID dari isinya: {item.title} -> {item.uid}")


class _Progress:
    """``Mengimpor 120/500 ...`` on stderr, redrawn in place, only on a terminal."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.shown = total, 0, 0.0
        self.on = sys.stderr.isatty() and total > 0

    def __call__(self, outcome: Outcome) -> None:
        self.done += 1
        now = time.monotonic()
        if self.on and (now - self.shown >= _REDRAW or self.done == self.total):
            self.shown = now
            sys.stderr.write(f"\rMengimpor {self.done}/{self.total} ...")
            sys.stderr.flush()

    def close(self) -> None:
        if self.on and self.done:
            sys.stderr.write("\n")


@contextmanager
def _stoppable() -> Iterator[list[int]]:
    """Within: SIGINT and SIGTERM are noted (the list fills), stopping between items."""
    caught: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield caught
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def _quiet(debug: bool) -> Iterator[None]:
    """Hide vobject's English log lines on unknown zones (each item's outcome says it all)."""
    if debug:
        yield
        return
    logging.disable(logging.ERROR)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def report(p: Plan, outcomes: list[Outcome]) -> int:
    """The final report; the exit code (0: everything imported or already there)."""
    imported = [o for o in outcomes if o.status == IMPORTED]
    refused = [o for o in outcomes if o.status == REFUSED]
    unreadable = [o for o in outcomes if o.status == UNREADABLE]
    history = sum(1 for o in imported if o.history or o.step.past)
    print(f"Diimpor: {len(imported)} (sebagai riwayat: {history}); sudah ada: "
          f"{p.count(SAME)}; ditolak: {len(refused)}; tidak terbaca: "
          f"{len(unreadable) + len(p.unreadable)}.")
    if refused:
        print("Ditolak (bentrok):")
        for o in refused:
            print(f"  - {o.step.item.title}, {_when(o.step.item.start)}: {o.message}")
    if unreadable or p.unreadable:
        print("Tidak terbaca:")
        for o in unreadable:
            print(f"  - {o.step.item.title} (UID {o.step.item.uid}): {o.message}")
        for bad in p.unreadable:
            print(f"  - {bad.title} (UID {bad.uid}): {bad.why}")
    return 1 if refused or unreadable or p.unreadable else 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import an exported calendar file into an OPD calendar through the clash guard."""
    dep = Deployment.locate(args.dir)
    opd = _opd(dep, args.opd)
    actor = _actor(dep, args.as_login, opd)
    source = Path(args.file)
    found = read_calendar(source)
    importer = Importer(dep, opd.id, actor, history=args.riwayat)
    the_plan = plan(found, importer.stored(), importer.store.guard.now())
    if args.dry_run:
        with _quiet(args.debug):
            print_plan(the_plan, opd, source, importer)
        return 0
    _summary(the_plan)
    progress = _Progress(len(the_plan.writes))
    with _stoppable() as caught, _quiet(args.debug):
        try:
            outcomes = importer.run(the_plan.writes, progress, lambda: bool(caught))
        finally:
            progress.close()
    code = report(the_plan, outcomes)
    if caught:
        left = len(the_plan.writes) - len(outcomes)
        print(f"Dihentikan: {left} kegiatan belum diproses; jalankan perintah yang sama lagi "
              "untuk melanjutkan.", file=sys.stderr)
        return 130
    return code
