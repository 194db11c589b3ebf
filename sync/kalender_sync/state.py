"""The sync service's saved state (``DIR/sync.db``): tokens, sources, written outputs.

The output calendars (``/publik/agenda/``, ``/pimpinan/agenda/``, ``/ruang/*/``,
``/orang/*/``) are served from this database (``kalender_sync.served`` through
``kalender.dav.outputs``), so writing a pass's copies is one SQLite transaction
(:meth:`State.apply`): the rows and their entries in ``output_log``, the change
log behind the calendars' ETags and RFC 6578 sync tokens, land together or not
at all, and never take Radicale's storage lock. A sync token of an OPD
calendar is saved only after the transaction of the changes it covers. So the
service can be killed at any point: the next pass re-reads the changes after
the last saved token, which plan to nothing already done. Rows left with
``written = 0`` by a version that wrote through CalDAV are applied at the
start of a pass (:meth:`State.pending`).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (opd TEXT PRIMARY KEY, token TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    opd TEXT NOT NULL, href TEXT NOT NULL, uid TEXT NOT NULL, etag TEXT NOT NULL,
    PRIMARY KEY (opd, href));
CREATE TABLE IF NOT EXISTS outputs (
    calendar   TEXT NOT NULL,             -- e.g. publik/agenda
    href       TEXT NOT NULL,
    opd        TEXT NOT NULL,             -- the source it is a copy of
    source     TEXT NOT NULL,
    key        TEXT,                      -- content hash without DTSTAMP/SEQUENCE; NULL = delete
    sequence   INTEGER NOT NULL,
    dtstamp    TEXT NOT NULL,
    text       TEXT,                      -- the whole VCALENDAR as written
    span_start INTEGER NOT NULL,          -- first start / last end (epoch): feed windows
    span_end   INTEGER NOT NULL,
    written    INTEGER NOT NULL,
    PRIMARY KEY (calendar, href));
CREATE INDEX IF NOT EXISTS outputs_source ON outputs (opd, source);
CREATE TABLE IF NOT EXISTS sync_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outputs_pending ON outputs (written);
CREATE TABLE IF NOT EXISTS output_log (   -- the last change of each copy (a delete too)
    calendar TEXT NOT NULL, href TEXT NOT NULL,
    seq      INTEGER NOT NULL,            -- the transaction (State.apply) that made it
    stamp    INTEGER NOT NULL,            -- when (epoch): Last-Modified
    PRIMARY KEY (calendar, href));
CREATE INDEX IF NOT EXISTS output_log_seq ON output_log (calendar, seq);
"""


@dataclass(frozen=True)
class Output:
    """One copy written (or to be written) into an output calendar."""

    calendar: str
    href: str
    opd: str
    source: str
    key: str | None
    sequence: int
    dtstamp: str
    text: str | None
    span_start: int
    span_end: int
    written: bool


class State:
    """Access to ``sync.db``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.executescript(SCHEMA)
        # the id in the output calendars' sync tokens: a new sync.db invalidates older ones
        self.db.execute("INSERT OR IGNORE INTO sync_meta VALUES ('served-id', ?)",
                        (uuid.uuid4().hex[:12],))

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    def token(self, opd: str) -> str | None:
        """The saved sync token of an OPD calendar."""
        row = self.db.execute("SELECT token FROM tokens WHERE opd = ?", (opd,)).fetchone()
        return row[0] if row else None

    def save_token(self, opd: str, token: str | None) -> None:
        """Remember ``token`` (after the changes it covers are written)."""
        if token is None:
            self.db.execute("DELETE FROM tokens WHERE opd = ?", (opd,))
        else:
            self.db.execute("INSERT OR REPLACE INTO tokens VALUES (?, ?)", (opd, token))

    def sources(self, opd: str) -> dict[str, tuple[str, str]]:
        """href -> (uid, etag) of the sources known for ``opd``."""
        return {h: (u, e) for h, u, e in self.db.execute(
            "SELECT href, uid, etag FROM sources WHERE opd = ?", (opd,))}

    def set_source(self, opd: str, href: str, uid: str | None, etag: str = "") -> None:
        """Record (or forget, when ``uid`` is None) one source item."""
        if uid is None:
            self.db.execute("DELETE FROM sources WHERE opd = ? AND href = ?", (opd, href))
        else:
            self.db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?)",
                            (opd, href, uid, etag))

    def outputs_of(self, opd: str, source: str) -> dict[tuple[str, str], Output]:
        """The copies currently recorded for one source."""
        rows = self.db.execute("SELECT * FROM outputs WHERE opd = ? AND source = ?",
                               (opd, source))
        return {(r[0], r[1]): _output(r) for r in rows}

    def pending(self) -> list[Output]:
        """Journalled writes not yet confirmed."""
        return [_output(r) for r in self.db.execute("SELECT * FROM outputs WHERE written = 0")]

    def apply(self, actions: list[Output], stamp: int) -> None:
        """Write (or delete) every copy of ``actions`` and log them, in one transaction."""
        if not actions:
            return
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            (seq,) = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM output_log").fetchone()
            for out in actions:
                if out.key is None:
                    db.execute("DELETE FROM outputs WHERE calendar = ? AND href = ?",
                               (out.calendar, out.href))
                else:
                    db.execute("INSERT OR REPLACE INTO outputs VALUES (?,?,?,?,?,?,?,?,?,?,1)",
                               (out.calendar, out.href, out.opd, out.source, out.key,
                                out.sequence, out.dtstamp, out.text, out.span_start,
                                out.span_end))
                db.execute("INSERT OR REPLACE INTO output_log VALUES (?, ?, ?, ?)",
                           (out.calendar, out.href, seq, stamp))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def log_unlogged(self, stamp: int) -> int:
        """Give the copies written before the change log an entry (upgrade to 0.6); how many."""
        return self.db.execute(
            "INSERT OR IGNORE INTO output_log SELECT calendar, href, 1, ? FROM outputs "
            "WHERE key IS NOT NULL", (stamp,)).rowcount

    def calendar_texts(self, calendar: str, start: int | None = None, end: int | None = None
                       ) -> Iterator[str]:
        """Texts of the written copies in ``calendar``, optionally overlapping a window."""
        for _opd, text in self.calendar_rows(calendar, start, end):
            yield text

    def calendar_rows(self, calendar: str, start: int | None = None, end: int | None = None
                      ) -> Iterator[tuple[str, str]]:
        """(source OPD, text) of the written copies in ``calendar``, optionally windowed."""
        sql = "SELECT opd, text FROM outputs WHERE calendar = ? AND key IS NOT NULL"
        args: list[object] = [calendar]
        if start is not None and end is not None:
            sql += " AND span_end >= ? AND span_start <= ?"
            args += [start, end]
        yield from self.db.execute(sql + " ORDER BY span_start, href", args)

    def calendar_entries(self, calendar: str, start: int | None = None, end: int | None = None
                         ) -> Iterator[tuple[str, str, int]]:
        """(source OPD, text, last end) of the written copies in ``calendar`` (or a window)."""
        sql = "SELECT opd, text, span_end FROM outputs WHERE calendar = ? AND key IS NOT NULL"
        args: list[object] = [calendar]
        if start is not None and end is not None:
            sql += " AND span_end >= ? AND span_start <= ?"
            args += [start, end]
        yield from self.db.execute(sql + " ORDER BY span_start, href", args)

    def next_end(self, calendar: str, after: int, containing: str) -> int | None:
        """The first last-end after ``after`` of the copies whose text holds ``containing``."""
        (found,) = self.db.execute(
            "SELECT min(span_end) FROM outputs WHERE calendar = ? AND key IS NOT NULL "
            "AND span_end > ? AND instr(text, ?) > 0", (calendar, after, containing)).fetchone()
        return int(found) if found is not None else None

    def meta(self, name: str) -> str | None:
        """One value the service keeps between runs (table ``sync_meta``)."""
        row = self.db.execute("SELECT value FROM sync_meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_meta(self, name: str, value: str) -> None:
        """Keep one value between runs."""
        self.db.execute("INSERT OR REPLACE INTO sync_meta VALUES (?, ?)", (name, value))

    def calendars(self) -> list[str]:
        """Output calendars that hold copies."""
        return [c for (c,) in self.db.execute("SELECT DISTINCT calendar FROM outputs")]


def _output(row: tuple) -> Output:  # type: ignore[type-arg]
    """An Output from a table row."""
    c, h, o, s, k, seq, stamp, text, a, b, w = row
    return Output(c, h, o, s, k, seq, stamp, text, a, b, bool(w))
