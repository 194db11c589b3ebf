"""The web index's tables in ``sync.db``: their layout, an occurrence's stored form, the refresh.

The sync service calls :func:`refresh` after each pass (through
:meth:`kalender_sync.webindex.WebIndex.refresh`): every copy of the public and
the leaders' agenda written since is expanded into its occurrences by
``kalender_sync.occurrences``. It compares what is indexed with the written
copies (by their content key), so it heals itself: a deployment made before
the web existed, or a pass killed half-way, is indexed in full at the next pass.

A cancelled occurrence of the public agenda leaves the public queries once it
has ended; ``web_meta``'s ``expiry`` holds the next such end, so the refresh
after it changes the ``version`` even when no copy changed, and cached answers
follow.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

from kalender.clash.match import Matcher
from kalender.pemda.protocol import Protocol
from kalender_sync.occurrences import HORIZON_DAYS, WIB, Occurrence, expand

__all__ = ["CALENDARS", "LEADERS", "PUBLIC", "SCHEMA", "SEP", "epoch", "from_json", "refresh",
           "upgrade"]

PUBLIC = "publik/agenda"
LEADERS = "pimpinan/agenda"
#: The calendars indexed: the public agenda and the leaders' (full detail).
CALENDARS = (PUBLIC, LEADERS)
SCHEMA = """
CREATE TABLE IF NOT EXISTS web_items (
    calendar TEXT NOT NULL,               -- publik/agenda or pimpinan/agenda
    href     TEXT NOT NULL,               -- the copy (outputs.href)
    key      TEXT NOT NULL,               -- its content key when indexed
    until    INTEGER,                     -- epoch up to which an endless series is listed
    PRIMARY KEY (calendar, href));
CREATE TABLE IF NOT EXISTS web_occurrences (
    calendar TEXT NOT NULL,
    id       TEXT NOT NULL,               -- the page id, /kegiatan/<id>
    href     TEXT NOT NULL,
    start    INTEGER NOT NULL,            -- epoch seconds
    end      INTEGER NOT NULL,
    opd      TEXT NOT NULL,
    venue    TEXT,
    category TEXT NOT NULL,               -- "\x1f"-separated, with one at each end
    persons  TEXT NOT NULL,               -- key person ids, the same way
    cancelled INTEGER NOT NULL,           -- STATUS:CANCELLED: public until its end
    words    TEXT NOT NULL,               -- title, place, OPD, description, casefolded
    data     TEXT NOT NULL,               -- the Occurrence as JSON
    PRIMARY KEY (calendar, id));
CREATE INDEX IF NOT EXISTS web_occurrences_start ON web_occurrences (calendar, start);
CREATE INDEX IF NOT EXISTS web_occurrences_href ON web_occurrences (calendar, href);
CREATE INDEX IF NOT EXISTS web_occurrences_cancelled ON web_occurrences (calendar, cancelled, end);
CREATE TABLE IF NOT EXISTS web_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
SEP = "\x1f"


def upgrade(db: sqlite3.Connection) -> None:
    """Drop web tables of an older layout: they are derived data, rebuilt by the next refresh."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(web_occurrences)")}
    if columns and not {"calendar", "persons", "cancelled"} <= columns:
        db.executescript("DROP TABLE IF EXISTS web_occurrences; DROP TABLE IF EXISTS web_items;")
        if _has_table(db, "web_meta"):
            db.execute("DELETE FROM web_meta WHERE name = 'longest'")


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    """Whether ``sync.db`` has a table ``name``."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (name,)).fetchone() is not None


def epoch(when: dt.datetime | None) -> int:
    """Epoch seconds of ``when`` (the clock when None)."""
    return int((when or dt.datetime.now(dt.UTC)).timestamp())


def _to_json(o: Occurrence) -> str:
    """An occurrence as a JSON text."""
    fields = {k: getattr(o, k) for k in Occurrence.__dataclass_fields__}
    fields["start"], fields["end"] = o.start.isoformat(), o.end.isoformat()
    fields["protocol"] = dataclasses.asdict(o.protocol)
    return json.dumps(fields, ensure_ascii=False)


def from_json(text: str) -> Occurrence:
    """An occurrence from its JSON text."""
    fields: dict[str, Any] = json.loads(text)
    fields["start"] = dt.datetime.fromisoformat(fields["start"]).astimezone(WIB)
    fields["end"] = dt.datetime.fromisoformat(fields["end"]).astimezone(WIB)
    fields["categories"] = tuple(fields["categories"])
    fields["persons"] = tuple(fields.get("persons", ()))
    fields["stand_ins"] = tuple(fields.get("stand_ins", ()))
    fields["protocol"] = Protocol(**fields.get("protocol", {}))
    return Occurrence(**fields)


def refresh(db: sqlite3.Connection, lock: threading.Lock, matcher: Matcher,
            opd_names: Callable[[str], str], now: dt.datetime) -> int:
    """Index every copy written since the last refresh; the copies indexed.

    ``lock`` guards ``db`` (shared with the readers of the same connection):
    each look-up takes it, and it is held over the whole write transaction.
    """
    def rows(sql: str, args: Sequence[object]) -> list[Any]:
        with lock:
            return db.execute(sql, args).fetchall()

    soon = int((now + dt.timedelta(days=HORIZON_DAYS // 2)).timestamp())
    changed = rows(
        "SELECT o.calendar, o.href, o.opd, o.text, o.key FROM outputs o "
        "LEFT JOIN web_items w ON w.calendar = o.calendar AND w.href = o.href "
        "WHERE o.calendar IN (?, ?) AND o.written = 1 AND o.key IS NOT NULL AND "
        "(w.key IS NULL OR w.key != o.key OR w.until < ?)", (*CALENDARS, soon))
    gone = rows(
        "SELECT w.calendar, w.href FROM web_items w LEFT JOIN outputs o ON "
        "o.calendar = w.calendar AND o.href = w.href AND o.key IS NOT NULL "
        "WHERE o.href IS NULL", ())
    # the end of the next cancellation to leave the public
    expiry_rows = rows("SELECT value FROM web_meta WHERE name = ?", ("expiry",))
    expiry = expiry_rows[0][0] if expiry_rows else None
    due = expiry is not None and int(expiry) <= epoch(now)
    if not changed and not gone and not due:
        return 0
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            for calendar, href in gone:
                _forget(db, calendar, href)
            longest = int(_meta(db, "longest") or 0)
            for calendar, href, opd, text, key in changed:
                longest = max(longest, _index(db, calendar, href, opd, opd_names(opd),
                                              text, key, matcher, now))
            db.execute("INSERT OR REPLACE INTO web_meta VALUES ('longest', ?)", (str(longest),))
            (following,) = db.execute(
                "SELECT min(end) FROM web_occurrences WHERE calendar = ? AND cancelled = 1 "
                "AND end > ?", (PUBLIC, epoch(now))).fetchone()
            db.execute("DELETE FROM web_meta WHERE name = 'expiry'")
            if following is not None:
                db.execute("INSERT INTO web_meta VALUES ('expiry', ?)", (str(following),))
            db.execute("INSERT OR REPLACE INTO web_meta VALUES ('version', ?)",
                       (str(int(_meta(db, "version") or 0) + 1),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return len(changed) + len(gone)


def _meta(db: sqlite3.Connection, name: str) -> str | None:
    """One value of ``web_meta`` (the lock already held)."""
    row = db.execute("SELECT value FROM web_meta WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def _forget(db: sqlite3.Connection, calendar: str, href: str) -> None:
    """Drop a copy's occurrences."""
    db.execute("DELETE FROM web_occurrences WHERE calendar = ? AND href = ?", (calendar, href))
    db.execute("DELETE FROM web_items WHERE calendar = ? AND href = ?", (calendar, href))


def _index(db: sqlite3.Connection, calendar: str, href: str, opd: str, opd_name: str,
           text: str, key: str, matcher: Matcher, now: dt.datetime) -> int:
    """Replace a copy's occurrences; the longest duration among them (seconds).

    An unreadable copy is indexed as having none: the feed still carries it.
    """
    _forget(db, calendar, href)
    try:
        found, endless = expand(text, opd, opd_name, matcher, now, calendar == PUBLIC)
    except Exception:
        found, endless = [], False
    until = int((now + dt.timedelta(days=HORIZON_DAYS)).timestamp()) if endless else None
    db.execute("INSERT INTO web_items VALUES (?, ?, ?, ?)", (calendar, href, key, until))
    longest = 0
    for o in found:
        words = " ".join((o.title, o.location, o.opd_name, o.description,
                          *o.stand_ins)).casefold()
        a, b = int(o.start.timestamp()), int(o.end.timestamp())
        longest = max(longest, b - a)
        db.execute(
            "INSERT OR REPLACE INTO web_occurrences VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (calendar, o.id, href, a, b, o.opd, o.venue, SEP + SEP.join(o.categories) + SEP,
             SEP + SEP.join(o.persons) + SEP, int(o.cancelled), words, _to_json(o)))
    return longest
