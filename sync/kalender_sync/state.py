"""The sync service's saved state (``DIR/sync.db``): tokens, sources, written outputs.

A write to an output calendar is journalled: the row is saved with
``written = 0`` (its intended text, or a tombstone for a delete) before the
HTTP request and flagged ``written = 1`` after it. A sync token is saved only
after every action it led to is written. So the service can be killed at any
point: at the next start it finishes the journalled writes, then re-reads the
changes after the last saved token, which plan to nothing already done.
"""

from __future__ import annotations

import sqlite3
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

    def intend(self, out: Output) -> None:
        """Journal a write (or a delete: ``key`` None) before making it."""
        self.db.execute("INSERT OR REPLACE INTO outputs VALUES (?,?,?,?,?,?,?,?,?,?,0)",
                        (out.calendar, out.href, out.opd, out.source, out.key, out.sequence,
                         out.dtstamp, out.text, out.span_start, out.span_end))

    def done(self, out: Output) -> None:
        """Confirm a journalled write; a confirmed delete removes the row."""
        if out.key is None:
            self.db.execute("DELETE FROM outputs WHERE calendar = ? AND href = ?",
                            (out.calendar, out.href))
        else:
            self.db.execute("UPDATE outputs SET written = 1 WHERE calendar = ? AND href = ?",
                            (out.calendar, out.href))

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
