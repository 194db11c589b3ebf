"""The notice board: which Bentrok calendar entries should exist, kept in ``kalender.db``.

One row per (OPD, UID). A refusal or a location notice *posts* a row; an
accepted write or a deletion of that UID *withdraws* it (in the same SQLite
transaction as the clash index, :mod:`kalender.clash.guard`); rows expire a
number of days after the event's time. The notifier thread then makes the
Bentrok calendars match the board (``state`` 'write' or 'remove'), and marks
each row done only if it did not change meanwhile (``version``), so a refusal
that arrives while an entry is being written is never lost.
"""

from __future__ import annotations

import sqlite3
from dataclasses import astuple, dataclass
from pathlib import Path

from kalender import database
from kalender.notify.notice import Notice

DAY = 86400
#: A retry within this many seconds that says the same thing does not rewrite the entry.
QUIET = 3600
_FIELDS = ("kind", "opd", "opd_name", "uid", "title", "start", "end", "location", "reason",
           "message", "actor", "at")
# Column lists are built from these constants only (never from input): hence the S608 noqa.
_COLUMNS = ", ".join(f'"{f}"' for f in _FIELDS)


@dataclass(frozen=True)
class Pending:
    """A change the Bentrok calendar of ``notice.opd`` still has to get."""

    notice: Notice
    remove: bool
    version: int


def post(db: Path | sqlite3.Connection, notice: Notice) -> bool:
    """Put ``notice`` on the board; False when an identical recent one is already there."""
    conn = database.connect(db) if isinstance(db, Path) else db
    row = conn.execute(f"SELECT {_COLUMNS}, state, withdrawn FROM notices "  # noqa: S608
                       "WHERE opd = ? AND uid = ?", (notice.opd, notice.uid)).fetchone()
    if row is not None and notice.at < row[-1]:
        return False  # recorded after the write that settled it (a late refusal): stale
    if row is not None and row[-2] not in ("remove", "gone"):
        old = Notice(*row[:-2])
        if astuple(old)[:-1] == astuple(notice)[:-1] and notice.at - old.at < QUIET:
            return False
    conn.execute(
        f"INSERT INTO notices ({_COLUMNS}, state, version) VALUES "  # noqa: S608
        f"({', '.join('?' * len(_FIELDS))}, 'write', 1) ON CONFLICT (opd, uid) DO UPDATE SET "
        + ", ".join(f'"{f}" = excluded."{f}"' for f in _FIELDS)
        + ", state = 'write', version = version + 1", astuple(notice))
    return True


def withdraw(conn: sqlite3.Connection, opd: str, uids: set[str], now: int) -> int:
    """Mark the notices of ``uids`` in ``opd`` for removal, remembering when.

    The time stays as a tombstone (pruned after an hour by :func:`expire`): a
    refusal recorded after it, by a late recorder or another process, is
    stale and :func:`post` ignores it.
    """
    done = 0
    for uid in uids:
        done += conn.execute(
            "UPDATE notices SET state = 'remove', version = version + 1, withdrawn = ? "
            "WHERE opd = ? AND uid = ? AND state NOT IN ('remove', 'gone')",
            (now, opd, uid)).rowcount
        conn.execute(
            "INSERT INTO notices (opd, uid, kind, opd_name, title, location, reason, message,"
            " actor, at, state, version, withdrawn) VALUES (?, ?, '', '', '', '', '', '', '',"
            " ?, 'gone', 1, ?) ON CONFLICT (opd, uid) DO UPDATE SET withdrawn = excluded.withdrawn",
            (opd, uid, now, now))
    return done


def expire(db: Path, now: int, days: int) -> int:
    """Mark notices whose event ended more than ``days`` days ago for removal."""
    cutoff = now - days * DAY
    conn = database.connect(db)
    conn.execute("DELETE FROM notices WHERE state = 'gone' AND withdrawn < ?", (now - QUIET,))
    return conn.execute(
        "UPDATE notices SET state = 'remove', version = version + 1 WHERE state NOT IN "
        "('remove', 'gone') AND COALESCE(\"end\", at) < ?", (cutoff,)).rowcount


def pending(db: Path) -> list[Pending]:
    """Board rows the Bentrok calendars do not reflect yet."""
    rows = database.connect(db).execute(
        f"SELECT {_COLUMNS}, state, version FROM notices WHERE state IN ('write', 'remove')"  # noqa: S608
        " ORDER BY opd, uid")
    return [Pending(Notice(*r[:-2]), r[-2] == "remove", r[-1]) for r in rows]


def done(db: Path, item: Pending) -> None:
    """Record that ``item`` reached its calendar (unless the row changed meanwhile)."""
    conn = database.connect(db)
    if item.remove:  # kept as a tombstone until expire() prunes it
        conn.execute("UPDATE notices SET state = 'gone' WHERE opd = ? AND uid = ? AND "
                     "version = ?", (item.notice.opd, item.notice.uid, item.version))
    else:
        conn.execute("UPDATE notices SET state = 'shown' WHERE opd = ? AND uid = ? AND "
                     "version = ?", (item.notice.opd, item.notice.uid, item.version))


def current(db: Path, opd: str | None = None) -> list[Notice]:
    """Notices now on the board (shown or about to be), optionally of one OPD."""
    sql = f"SELECT {_COLUMNS} FROM notices WHERE state NOT IN ('remove', 'gone')"  # noqa: S608
    args: tuple[str, ...] = ()
    if opd is not None:
        sql += " AND opd = ?"
        args = (opd,)
    return [Notice(*r) for r in database.connect(db).execute(sql + " ORDER BY at DESC", args)]
