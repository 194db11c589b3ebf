"""Approve or reject an activity, and list what waits: for the CLI and the web page alike.

An item is found by (OPD, UID) through the clash index (``items`` of
``kalender.db``) and read from the collection folder; its fingerprint
(:func:`kalender.pemda.approval.fingerprint`) is what the decision is for.
Each decision is one SQLite transaction: the decision and its history row, the
audit entry and, for a rejection, the Bentrok notice and the e-mails to the
OPD's PICs (sent by the notifier thread of ``kalender serve``). Nothing is
written into the PIC's calendar.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from kalender import audit, database
from kalender.clash import fields
from kalender.deployment import Deployment
from kalender.errors import KalenderError
from kalender.notify import board, outbox
from kalender.notify.channel import POSTED
from kalender.notify.mail import notice_subject, notice_text
from kalender.notify.notice import REJECTED_BY_PROTOCOL, Notice
from kalender.pemda import approvals
from kalender.pemda.approval import APPROVED, PENDING, REJECTED, fingerprint, label

#: Longest reason kept (a sentence or a few, not a letter).
MAX_REASON = 1000
#: The reason phrase of a rejection notice (kalender.notify.notice).
REJECTION_REASON = "Ditolak Prokopim"


class UnknownItemError(KalenderError):
    """No such OPD, or no activity with that UID in its calendar."""

    status = 404
    reason = "Tidak Ditemukan"
    condition = "approval-item-exists"


class MissingReasonError(KalenderError):
    """A rejection without a reason: the PIC must learn why."""

    status = 400
    reason = "Alasan Wajib Diisi"
    condition = "approval-reason"


class ApprovalOffError(KalenderError):
    """A decision while approval is switched off."""

    status = 409
    reason = "Persetujuan Tidak Aktif"
    condition = "approval-enabled"


class NotNeededError(KalenderError):
    """A decision about an activity that names no key person (it needs none)."""

    status = 409
    reason = "Tidak Perlu Persetujuan"
    condition = "approval-needed"


@dataclass(frozen=True)
class Decided:
    """What a decision did."""

    opd: str
    uid: str
    title: str
    before: str  # the state before (PENDING, APPROVED, REJECTED)
    state: str  # APPROVED or REJECTED
    reason: str
    fingerprint: str


@dataclass(frozen=True)
class Waiting:
    """An activity that names a key person and is not approved (for its present time and place)."""

    opd: str
    opd_name: str
    uid: str
    href: str
    title: str
    start: int  # its first occurrence that has not ended yet, epoch
    end: int
    location: str
    persons: tuple[str, ...]  # the key persons' titles
    state: str  # PENDING or REJECTED
    reason: str  # of the rejection ('' while pending)


@dataclass(frozen=True)
class _Item:
    """One stored activity of an OPD calendar."""

    opd: str
    opd_name: str
    uid: str
    href: str
    text: str


def _read(dep: Deployment, collection: str, href: str) -> str | None:
    """The stored iCalendar text of one item (None when it cannot be read)."""
    try:
        return (dep.collections / "collection-root" / collection / href).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _find(dep: Deployment, opd: str, uid: str) -> _Item:
    """The item (OPD, UID), or UnknownItemError."""
    known = {o.id: o for o in dep.opds()}
    if opd not in known:
        raise UnknownItemError(f"OPD {opd!r} tidak terdaftar; lihat 'kalender opd list'.")
    name = known[opd].label
    row = database.connect(dep.database).execute(
        "SELECT href FROM items WHERE collection = ? AND uid = ? LIMIT 1",
        (f"opd/{opd}", uid)).fetchone()
    text = _read(dep, f"opd/{opd}", row[0]) if row else None
    if row is None or text is None:
        raise UnknownItemError(f"Kegiatan dengan UID {uid!r} tidak ada di kalender {name}.")
    return _Item(opd, name, uid, row[0], text)


def _needs(dep: Deployment, item: _Item) -> bool:
    """Whether the index books a key person for the item (persons after stand-ins)."""
    return database.connect(dep.database).execute(
        "SELECT 1 FROM slots WHERE collection = ? AND href = ? AND kind = 'person' LIMIT 1",
        (f"opd/{item.opd}", item.href)).fetchone() is not None


def _decide(root: Path, opd: str, uid: str, actor: str, decided: str, why: str,
            now: int) -> Decided:
    """Record one decision with its audit entry (and a rejection's notice), atomically."""
    dep = Deployment(root)
    if not approvals.enabled(dep.database):
        raise ApprovalOffError("Persetujuan Prokopim belum aktif; aktifkan dulu dengan "
                               "'kalender approval on'.")
    item = _find(dep, opd, uid)
    if not _needs(dep, item):
        raise NotNeededError("Kegiatan ini tidak melibatkan pejabat kunci, jadi tidak "
                             "memerlukan persetujuan Prokopim.")
    found = fields.event_fields(item.text)
    title = fields.event_identity(item.text)[1]
    print_ = fingerprint(item.text)
    conn = database.connect(dep.database)
    conn.execute("BEGIN IMMEDIATE")
    try:
        before = approvals.state(conn, opd, uid, print_)
        approvals.record(conn, opd, uid, print_, decided, why, actor, now)
        note = "disetujui Prokopim" if decided == APPROVED else f"ditolak Prokopim: {why}"
        audit.record(conn, actor, audit.APPROVAL_ACTION, f"/opd/{opd}/", item.href,
                     label(before), label(decided), note)
        if decided == REJECTED:
            notice = Notice(REJECTED_BY_PROTOCOL, opd, item.opd_name, uid, title,
                            fields.event_time(found), fields.event_time(found, "DTEND"),
                            fields.event_place(found), REJECTION_REASON, why, actor, now)
            if board.post(conn, notice):
                key = f"{opd}\0{uid}\0{REJECTION_REASON}\0{why}"
                for address in _addresses(dep, opd):
                    outbox.enqueue(conn, key, address, notice_subject(notice),
                                   notice_text(notice), now)
        else:  # an earlier rejection's Bentrok entry goes
            current = [n for n in board.current(dep.database, opd) if n.uid == uid]
            if current and current[0].kind == REJECTED_BY_PROTOCOL:
                board.withdraw(conn, opd, {uid}, now)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    POSTED.set()
    return Decided(opd, uid, title, before, decided, why, print_)


def _addresses(dep: Deployment, opd: str) -> list[str]:
    """E-mail addresses of the PICs of ``opd`` (each once)."""
    return list(dict.fromkeys(u.email.strip() for u in dep.users()
                              if u.role == "pic" and opd in u.opds and u.email.strip()))


def approve(root: Path, opd: str, uid: str, actor: str, now: int | None = None) -> Decided:
    """Approve (OPD, UID) for its present time and place: it becomes "definitif"."""
    return _decide(root, opd, uid, actor, APPROVED, "", int(time.time()) if now is None else now)


def reject(root: Path, opd: str, uid: str, actor: str, reason: str,
           now: int | None = None) -> Decided:
    """Reject (OPD, UID) with a reason, which reaches its PICs (Bentrok entry and e-mail)."""
    why = " ".join(reason.split())
    if not why:
        raise MissingReasonError("Tulis alasan penolakan: PIC OPD perlu tahu apa yang harus "
                                 "diubah.")
    if len(why) > MAX_REASON:
        raise MissingReasonError(f"Alasan penolakan terlalu panjang (maks. {MAX_REASON} "
                                 "karakter).")
    return _decide(root, opd, uid, actor, REJECTED, why,
                   int(time.time()) if now is None else now)


def pending(root: Path, now: int | None = None, opd: str | None = None) -> list[Waiting]:
    """Activities that name a key person, have not ended and are not approved, soonest first.

    Approval switched off or not: the caller says what that means (the CLI notes it).
    """
    dep = Deployment(root)
    moment = int(time.time()) if now is None else now
    names = {o.id: o.label for o in dep.opds() if not o.archived}
    persons = {p.id: p.title for p in dep.persons(check_names=False)}
    conn = database.connect(dep.database)
    rows = conn.execute(
        "SELECT collection, href, opd, uid, MIN(start), MIN(\"end\"), "
        "GROUP_CONCAT(DISTINCT resource) FROM slots WHERE kind = 'person' AND \"end\" > ? "
        "AND (? IS NULL OR opd = ?) GROUP BY collection, href ORDER BY MIN(start), uid",
        (moment, opd, opd)).fetchall()
    out: list[Waiting] = []
    for collection, href, owner, uid, start, end, ids in rows:
        if owner not in names or collection != f"opd/{owner}":
            continue
        text = _read(dep, collection, href)
        if text is None:
            continue
        state = approvals.state(conn, owner, uid, fingerprint(text))
        if state == APPROVED:
            continue
        found = fields.event_fields(text)
        who = tuple(persons.get(i, i) for i in sorted(str(ids).split(",")))
        out.append(Waiting(owner, names[owner], uid, href, fields.event_identity(text)[1],
                           start, end, fields.event_place(found), who, state,
                           approvals.reason(conn, owner, uid) if state == REJECTED else ""))
    return out


__all__ = ["APPROVED", "PENDING", "REJECTED", "ApprovalOffError", "Decided",
           "MissingReasonError", "NotNeededError", "UnknownItemError", "Waiting", "approve",
           "pending", "reject"]
