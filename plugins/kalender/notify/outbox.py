"""The mail queue: messages wait in ``kalender.db`` until the SMTP server takes them.

Sending never happens on a request's path: a refusal only adds rows here
(one SQLite insert), and the notifier thread of ``kalender serve`` delivers
them. A message that fails stays queued and is tried again after a growing
pause (30 s, 1 min, 2 min ... at most an hour), also after a restart, so
nothing is lost while the mail server is down. One message per key and
address per 24 hours: a client that re-sends a refused event forever sends
one mail a day, not thousands.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kalender import database

DAY = 86400
#: Pause after the first failure; doubled after each further one, up to MAX_BACKOFF.
FIRST_BACKOFF = 30
MAX_BACKOFF = 3600
#: Seconds a sender holds a message it is sending (another process leaves it alone).
LEASE = 120
#: Tries before a message is given up (about two days at the longest pause).
MAX_ATTEMPTS = 48


@dataclass(frozen=True)
class Queued:
    """One message waiting to be sent."""

    id: int
    address: str
    subject: str
    body: str
    attempts: int


def backoff(attempts: int) -> int:
    """Seconds to wait after ``attempts`` failed tries (1 -> 30 s, 2 -> 60 s, ...)."""
    return int(min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF))


def enqueue(db: Path | sqlite3.Connection, key: str, address: str, subject: str, body: str,
            now: int) -> bool:
    """Queue one message unless the same key went to ``address`` in the last 24 hours."""
    conn = database.connect(db) if isinstance(db, Path) else db
    recent = conn.execute("SELECT 1 FROM outbox WHERE key = ? AND address = ? AND created > ?",
                          (key, address.lower(), now - DAY)).fetchone()
    if recent is not None:
        return False
    conn.execute("INSERT INTO outbox (key, address, subject, body, created, attempts, next_try)"
                 " VALUES (?, ?, ?, ?, ?, 0, ?)", (key, address.lower(), subject, body, now, now))
    return True


def due(db: Path, now: int, limit: int = 50) -> list[Queued]:
    """Messages whose time to be (re)tried has come, oldest first."""
    rows = database.connect(db).execute(
        "SELECT id, address, subject, body, attempts FROM outbox WHERE sent IS NULL AND"
        " next_try <= ? ORDER BY next_try, id LIMIT ?", (now, limit))
    return [Queued(*row) for row in rows]


def pending_count(db: Path) -> int:
    """Messages not yet delivered."""
    row = database.connect(db).execute("SELECT COUNT(*) FROM outbox WHERE sent IS NULL")
    return int(row.fetchone()[0])


def delivered(db: Path, message_id: int, now: int) -> None:
    """Mark a message sent."""
    database.connect(db).execute("UPDATE outbox SET sent = ?, error = NULL WHERE id = ?",
                                 (now, message_id))


def failed(db: Path, message_id: int, error: str, now: int) -> None:
    """Count a failed try and schedule the next one (none after MAX_ATTEMPTS: given up)."""
    conn = database.connect(db)
    row = conn.execute("SELECT attempts FROM outbox WHERE id = ?", (message_id,)).fetchone()
    attempts = (row[0] if row else 0) + 1
    if attempts >= MAX_ATTEMPTS:  # sent = -1: never delivered, kept for the record
        conn.execute("UPDATE outbox SET attempts = ?, sent = -1, error = ? WHERE id = ?",
                     (attempts, error[:500], message_id))
        return
    conn.execute("UPDATE outbox SET attempts = ?, next_try = ?, error = ? WHERE id = ?",
                 (attempts, now + backoff(attempts), error[:500], message_id))


def deliver(db: Path, send: Callable[[Queued], None], now: int) -> tuple[int, int]:
    """Try every due message with ``send`` (raises on failure); (sent, failed) counts.

    A connection failure backs off every due message at once (the server is
    down or silent: trying the others would only wait out their timeouts); a
    message that cannot be sent at all (e.g. a header it cannot carry) is
    given up after MAX_ATTEMPTS tries like any other.
    """
    sent = fails = 0
    waiting = [m for m in due(db, now) if _claimed(db, m.id, now)]
    for n, message in enumerate(waiting):
        try:
            send(message)
        except OSError as e:  # refused, timed out, unreachable: the same for all
            for later in waiting[n:]:
                failed(db, later.id, str(e) or type(e).__name__, now)
            return sent, fails + len(waiting) - n
        except Exception as e:  # this message only
            failed(db, message.id, str(e) or type(e).__name__, now)
            fails += 1
            continue
        delivered(db, message.id, now)
        sent += 1
    return sent, fails


def _claimed(db: Path, message_id: int, now: int) -> bool:
    """Lease a due message for this sender, so a second ``kalender serve`` skips it."""
    return database.connect(db).execute(
        "UPDATE outbox SET next_try = ? WHERE id = ? AND sent IS NULL AND next_try <= ?",
        (now + LEASE, message_id, now)).rowcount == 1
