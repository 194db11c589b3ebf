"""The audit trail: who changed what, when, in which OPD, with before and after.

Rows are written by ``kalender.dav.storage`` inside Radicale's write lock, for every
write path (PUT, whole-calendar PUT, MOVE, DELETE, PROPPATCH, MKCALENDAR), with
the logged-in user as actor. ``kalender log`` reads them. Decisions of the protocol
office (action ``approval``, ``kalender.pemda.decisions``) are entries too: before and
after hold the approval state ("Menunggu persetujuan" -> "Definitif").
"""

from __future__ import annotations

import datetime as dt
import difflib
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kalender import database

#: The action of an approval entry (a decision, a switch, an approval asked again).
APPROVAL_ACTION = "approval"
#: Actors whose writes are not audited: the notifier keeping the Bentrok calendars
#: (kalender.notify.worker) only mirrors the notice board, which says it all.
NOTIFIER_ACTOR = "kalender:bentrok"
UNAUDITED_ACTORS = frozenset({NOTIFIER_ACTOR})


@dataclass(frozen=True)
class Entry:
    """One recorded change."""

    ts: str
    actor: str
    action: str
    path: str
    href: str | None
    opd: str | None
    before: str | None
    after: str | None
    note: str | None


def opd_of(path: str) -> str | None:
    """OPD id of a collection path like ``/opd/dinkes/``, else None."""
    parts = path.strip("/").split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "opd" else None


def record(db: Path | sqlite3.Connection, actor: str, action: str, path: str,
           href: str | None = None, before: str | None = None, after: str | None = None,
           note: str | None = None, now: dt.datetime | None = None) -> None:
    """Append one entry to the audit trail (``db``: a path, or a connection in a transaction)."""
    ts = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn = database.connect(db) if isinstance(db, Path) else db
    conn.execute(
        "INSERT INTO audit (ts, actor, action, path, href, opd, before, after, note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (ts, actor or "-", action, path, href, opd_of(path), before, after, note))


@dataclass(frozen=True)
class Refusal:
    """Refused writes of one event by one actor with one reason, counted."""

    first_ts: str
    last_ts: str
    count: int
    actor: str
    path: str
    opd: str | None
    uid: str
    title: str
    reason: str
    message: str


#: Distinct refused events one actor may leave per hour; more are counted in one '*' row.
FLOOD_ROWS = 50


def record_refusal(db: Path, actor: str, path: str, uid: str, title: str, reason: str,
                   message: str, now: dt.datetime | None = None) -> None:
    """Count one refused write; a retry of the same event updates its row."""
    moment = now or dt.datetime.now(dt.UTC)
    ts = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    hour_ago = (moment - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    conn = database.connect(db)
    with conn:
        known = conn.execute("SELECT 1 FROM refusals WHERE actor = ? AND path = ? AND uid = ?"
                             " AND reason = ?", (actor, path, uid, reason)).fetchone()
        if known is None:
            recent = conn.execute("SELECT COUNT(*) FROM refusals WHERE actor = ? AND "
                                  "last_ts >= ?", (actor, hour_ago)).fetchone()[0]
            if recent >= FLOOD_ROWS:  # a flood: summarised, not stored row by row
                uid, title, message = "*", "", "(banyak penolakan lain)"
        conn.execute(
            "INSERT INTO refusals (first_ts, last_ts, count, actor, path, opd, uid, title,"
            " reason, message) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (actor, path, uid, reason) DO UPDATE SET last_ts = excluded.last_ts,"
            " count = count + 1, title = excluded.title, message = excluded.message",
            (ts, ts, actor or "-", path, opd_of(path), uid, title[:200], reason, message[:2000]))


def refusals(db: Path, opd: str | None = None, since: str | None = None) -> Iterator[Refusal]:
    """Refused writes, latest last, optionally of one OPD and from a date on."""
    sql = ("SELECT first_ts, last_ts, count, actor, path, opd, uid, title, reason, message"
           " FROM refusals WHERE 1=1")
    args: list[str] = []
    if opd:
        sql += " AND opd = ?"
        args.append(opd)
    if since:
        sql += " AND last_ts >= ?"
        args.append(since)
    for row in database.connect(db).execute(sql + " ORDER BY last_ts, id", args):
        yield Refusal(*row)


def entries(db: Path, opd: str | None = None, since: str | None = None, *,
            actor: str | None = None, action: str | None = None,
            hide_actors: Iterable[str] = ()) -> Iterator[Entry]:
    """Entries in order, filtered by OPD, date (YYYY-MM-DD) on, actor and action.

    ``hide_actors`` leaves out whole accounts (the sync account's copies, which
    repeat every change a person made into the merged calendars).
    """
    sql = "SELECT ts, actor, action, path, href, opd, before, after, note FROM audit WHERE 1=1"
    args: list[str] = []
    for column, value in (("opd", opd), ("actor", actor), ("action", action)):
        if value:
            sql += f" AND {column} = ?"
            args.append(value)
    if since:
        sql += " AND ts >= ?"
        args.append(since)
    hidden = sorted(set(hide_actors) - ({actor} if actor else set()))
    if hidden:
        sql += f" AND actor NOT IN ({', '.join('?' * len(hidden))})"
        args += hidden
    for row in database.connect(db).execute(sql + " ORDER BY id", args):
        yield Entry(*row)


def known(db: Path, column: str) -> set[str]:
    """Every value of ``column`` ('actor' or 'opd') in the audit trail and the refusals."""
    if column not in ("actor", "opd"):
        raise ValueError(column)
    conn = database.connect(db)
    return {row[0] for table in ("audit", "refusals")
            for row in conn.execute(f"SELECT DISTINCT {column} FROM {table}")  # noqa: S608
            if row[0]}


def render_refusal(refusal: Refusal) -> str:
    """One line of ``kalender log --refused``: when, who, OPD, how often, why, what."""
    count = f"{refusal.count}x" + (f" sejak {refusal.first_ts}" if refusal.count > 1 else "")
    title = refusal.title or ("(banyak kegiatan)" if refusal.uid == "*" else "(tanpa judul)")
    return (f"{refusal.last_ts}  {refusal.actor:<14} {refusal.opd or refusal.path:<14} "
            f"{refusal.reason}  {title!r}  {count}")


def render(entry: Entry) -> str:
    """Readable text of one entry: a header line and a unified diff of the content."""
    where = entry.path + (entry.href or "")
    head = f"{entry.ts}  {entry.actor:<14} {entry.action:<7} {where}"
    if entry.note:
        head += f"  ({entry.note})"
    before = (entry.before or "").replace("\r\n", "\n").splitlines()
    after = (entry.after or "").replace("\r\n", "\n").splitlines()
    diff = difflib.unified_diff(before, after, "sebelum", "sesudah", lineterm="", n=1)
    body = [f"    {line}" for line in list(diff)[2:]]
    return "\n".join([head, *body])
