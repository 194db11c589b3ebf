"""The audit trail: who changed what, when, in which OPD, with before and after.

Rows are written by ``kalender.storage`` inside Radicale's write lock, for every
write path (PUT, whole-calendar PUT, MOVE, DELETE, PROPPATCH, MKCALENDAR), with
the logged-in user as actor. ``kalender log`` reads them.
"""

from __future__ import annotations

import datetime as dt
import difflib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kalender import database


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


def record(db: Path, actor: str, action: str, path: str, href: str | None = None,
           before: str | None = None, after: str | None = None,
           note: str | None = None, now: dt.datetime | None = None) -> None:
    """Append one entry to the audit trail."""
    ts = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    database.connect(db).execute(
        "INSERT INTO audit (ts, actor, action, path, href, opd, before, after, note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (ts, actor or "-", action, path, href, opd_of(path), before, after, note))


def entries(db: Path, opd: str | None = None, since: str | None = None) -> Iterator[Entry]:
    """Entries in order, optionally for one OPD and from a date (YYYY-MM-DD) on."""
    sql = "SELECT ts, actor, action, path, href, opd, before, after, note FROM audit WHERE 1=1"
    args: list[str] = []
    if opd:
        sql += " AND opd = ?"
        args.append(opd)
    if since:
        sql += " AND ts >= ?"
        args.append(since)
    try:
        rows = database.connect(db).execute(sql + " ORDER BY id", args)
    except sqlite3.Error:  # pragma: no cover - unreadable database
        return
    for row in rows:
        yield Entry(*row)


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
