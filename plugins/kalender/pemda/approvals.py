"""The approval state the server keeps in ``kalender.db``, beside the PIC's data.

Tables ``approval_settings``, ``approvals`` (the last decision per (OPD, UID),
for the fingerprint it was made on) and ``approval_history`` (every decision),
declared in :mod:`kalender.database`. Approval is off until ``kalender
approval on``. ``version`` grows with every decision and every switch, so the
sync service re-plans exactly the items whose decision changed
(:func:`changed_since`), and everything when approval is switched on or off.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from kalender import database
from kalender.pemda.approval import APPROVED, PENDING, REJECTED


@dataclass(frozen=True)
class Decision:
    """The last decision about one item."""

    opd: str
    uid: str
    fingerprint: str
    decision: str  # APPROVED or REJECTED
    reason: str
    actor: str
    at: int
    asked: str  # the fingerprint whose "asks again" is in the audit trail ('' if none)


def _conn(db: Path | sqlite3.Connection) -> sqlite3.Connection:
    """The connection of ``db`` (a path: this thread's connection to it)."""
    return database.connect(db) if isinstance(db, Path) else db


def _setting(conn: sqlite3.Connection, key: str) -> int:
    """One integer setting (0 when never set)."""
    row = conn.execute("SELECT value FROM approval_settings WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else 0


def _put(conn: sqlite3.Connection, key: str, value: int) -> None:
    """Set one integer setting."""
    conn.execute("INSERT INTO approval_settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                 "SET value = excluded.value", (key, value))


def _bump(conn: sqlite3.Connection) -> int:
    """The next version (stored)."""
    version = _setting(conn, "version") + 1
    _put(conn, "version", version)
    return version


def enabled(db: Path | sqlite3.Connection) -> bool:
    """Whether approval by the protocol office is on (off by default)."""
    return _setting(_conn(db), "enabled") == 1


def switch(db: Path | sqlite3.Connection, on: bool) -> bool:
    """Switch approval on or off; False when it already was (nothing changes then)."""
    conn = _conn(db)
    if enabled(conn) == on:
        return False
    _put(conn, "enabled", int(on))
    _put(conn, "switched", _bump(conn))
    return True


def decision(db: Path | sqlite3.Connection, opd: str, uid: str) -> Decision | None:
    """The last decision about (OPD, UID), or None."""
    row = _conn(db).execute(
        "SELECT opd, uid, fingerprint, decision, reason, actor, at, asked FROM approvals "
        "WHERE opd = ? AND uid = ?", (opd, uid)).fetchone()
    return Decision(*row) if row else None


def state(db: Path | sqlite3.Connection, opd: str, uid: str, fingerprint: str) -> str:
    """APPROVED iff approved for this fingerprint, REJECTED iff rejected for it, else PENDING."""
    found = decision(db, opd, uid)
    if found is None or found.fingerprint != fingerprint:
        return PENDING
    return found.decision


def reason(db: Path | sqlite3.Connection, opd: str, uid: str) -> str:
    """The last rejection's reason ("" when the last decision was no rejection)."""
    found = decision(db, opd, uid)
    return found.reason if found is not None and found.decision == REJECTED else ""


def record(db: Path | sqlite3.Connection, opd: str, uid: str, fingerprint: str, decided: str,
           reason_text: str, actor: str, now: int) -> int:
    """Store one decision (and its history row); the new version."""
    if decided not in (APPROVED, REJECTED):
        raise ValueError(decided)
    conn = _conn(db)
    version = _bump(conn)
    conn.execute(
        "INSERT INTO approvals (opd, uid, fingerprint, decision, reason, actor, at, version) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (opd, uid) DO UPDATE SET "
        "fingerprint = excluded.fingerprint, decision = excluded.decision, "
        "reason = excluded.reason, actor = excluded.actor, at = excluded.at, "
        "version = excluded.version, asked = ''",
        (opd, uid, fingerprint, decided, reason_text, actor, now, version))
    conn.execute("INSERT INTO approval_history (opd, uid, fingerprint, decision, reason, actor,"
                 " at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (opd, uid, fingerprint, decided, reason_text, actor, now))
    return version


def forget(conn: sqlite3.Connection, opd: str, uid: str) -> bool:
    """Drop the decision about a deleted activity (its history stays); whether there was one.

    A decision holds for one stored activity: one deleted and later made again
    with the same UID, time and place waits for the protocol office again.
    """
    # no version bump: the deletion itself removes the copies (kalender_sync)
    return bool(conn.execute("DELETE FROM approvals WHERE opd = ? AND uid = ?",
                             (opd, uid)).rowcount)


def mark_asked(conn: sqlite3.Connection, opd: str, uid: str, fingerprint: str) -> None:
    """Remember that the "asks again" of this fingerprint is in the audit trail."""
    conn.execute("UPDATE approvals SET asked = ? WHERE opd = ? AND uid = ?",
                 (fingerprint, opd, uid))


def history(db: Path | sqlite3.Connection, opd: str, uid: str) -> list[Decision]:
    """Every decision about (OPD, UID), oldest first."""
    rows = _conn(db).execute(
        "SELECT opd, uid, fingerprint, decision, reason, actor, at, '' FROM approval_history "
        "WHERE opd = ? AND uid = ? ORDER BY id", (opd, uid))
    return [Decision(*row) for row in rows]


def version(db: Path | sqlite3.Connection) -> int:
    """Grows with every decision and every on/off switch."""
    return _setting(_conn(db), "version")


def changed_since(db: Path | sqlite3.Connection, since: int
                  ) -> tuple[list[tuple[str, str]] | None, int]:
    """((OPD, UID) decided after ``since``, or None: switched on/off -> rebuild all), version."""
    conn = _conn(db)
    now = _setting(conn, "version")
    if now <= since:
        return [], now
    if _setting(conn, "switched") > since:
        return None, now
    rows = conn.execute("SELECT opd, uid FROM approvals WHERE version > ? ORDER BY opd, uid",
                        (since,))
    return [(opd, uid) for opd, uid in rows], now
