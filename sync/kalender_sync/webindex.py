"""The rendered data of the web pages: occurrences of the public agenda in ``sync.db``.

Written by the sync service after each pass (:meth:`WebIndex.refresh`: every
public copy written since is expanded into its occurrences by
``kalender_sync.occurrences``), read by every page of ``kalender.web``
through a connection of its own. SQLite in WAL mode lets readers run beside
the writer, and nothing here touches Radicale's storage or its lock, so a
burst of readers never slows an OPD's write.

``refresh`` compares what is indexed with the written public copies (by
their content key), so it heals itself: a deployment made before the web
existed, or a pass killed half-way, is indexed in full at the next pass.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kalender.clash.match import Matcher
from kalender_sync.occurrences import HORIZON_DAYS, WIB, Occurrence, expand
from kalender_sync.publish import WINDOW_FUTURE_DAYS, WINDOW_PAST_DAYS
from kalender_sync.state import SCHEMA as STATE_SCHEMA

PUBLIC = "publik/agenda"
SCHEMA = """
CREATE TABLE IF NOT EXISTS web_items (
    href  TEXT PRIMARY KEY,               -- the public copy (outputs.href)
    key   TEXT NOT NULL,                  -- its content key when indexed
    until INTEGER);                       -- epoch up to which an endless series is listed
CREATE TABLE IF NOT EXISTS web_occurrences (
    id       TEXT PRIMARY KEY,            -- the page id, /kegiatan/<id>
    href     TEXT NOT NULL,
    start    INTEGER NOT NULL,            -- epoch seconds
    end      INTEGER NOT NULL,
    opd      TEXT NOT NULL,
    venue    TEXT,
    category TEXT NOT NULL,               -- "\x1f"-separated, with one at each end
    words    TEXT NOT NULL,               -- title, place, OPD, description, casefolded
    data     TEXT NOT NULL);              -- the Occurrence as JSON
CREATE INDEX IF NOT EXISTS web_occurrences_start ON web_occurrences (start);
CREATE INDEX IF NOT EXISTS web_occurrences_href ON web_occurrences (href);
CREATE TABLE IF NOT EXISTS web_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
SEP = "\x1f"


def _to_json(o: Occurrence) -> str:
    """An occurrence as a JSON text."""
    fields = {k: getattr(o, k) for k in Occurrence.__dataclass_fields__}
    fields["start"], fields["end"] = o.start.isoformat(), o.end.isoformat()
    return json.dumps(fields, ensure_ascii=False)


def _from_json(text: str) -> Occurrence:
    """An occurrence from its JSON text."""
    fields: dict[str, Any] = json.loads(text)
    fields["start"] = dt.datetime.fromisoformat(fields["start"]).astimezone(WIB)
    fields["end"] = dt.datetime.fromisoformat(fields["end"]).astimezone(WIB)
    fields["categories"] = tuple(fields["categories"])
    return Occurrence(**fields)


class WebIndex:
    """Occurrences of the public agenda (tables ``web_items`` and ``web_occurrences``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.executescript(STATE_SCHEMA + SCHEMA)  # readers may come before the sync
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    # -- reading ---------------------------------------------------------------
    def _select(self, where: str, args: list[object], opd: str | None, venue: str | None,
                category: str | None, q: str | None, limit: int | None) -> list[Occurrence]:
        """Occurrences matching ``where`` and the filters, by start then title."""
        if opd:
            where, args = where + " AND opd = ?", [*args, opd]
        if venue:
            where, args = where + " AND venue = ?", [*args, venue]
        if category:
            where, args = where + " AND instr(category, ?) > 0", [*args, SEP + category + SEP]
        for word in (q or "").casefold().split():
            where, args = where + " AND instr(words, ?) > 0", [*args, word]
        sql = f"SELECT data FROM web_occurrences WHERE {where} ORDER BY start, id"  # noqa: S608
        if limit is not None:
            sql, args = sql + " LIMIT ?", [*args, limit]
        with self._lock:
            rows = self.db.execute(sql, args).fetchall()
        found = [_from_json(text) for (text,) in rows]
        found.sort(key=lambda o: (o.start, o.title.casefold(), o.id))
        return found

    def between(self, start: dt.datetime, end: dt.datetime, *, opd: str | None = None,
                venue: str | None = None, category: str | None = None, q: str | None = None,
                limit: int | None = None) -> list[Occurrence]:
        """Occurrences overlapping [start, end), by start then title, filtered."""
        a, b = int(start.timestamp()), int(end.timestamp())
        longest = int(self._meta("longest") or 0)  # bounds the index range of ``start``
        # an instant (end == start) at ``a`` overlaps too (RFC 4791 §9.9's rule)
        return self._select("start >= ? AND start < ? AND (end > ? OR start = ?)",
                            [a - longest, b, a, a], opd, venue, category, q, limit)

    def search(self, q: str, *, opd: str | None = None, venue: str | None = None,
               category: str | None = None, limit: int = 200) -> list[Occurrence]:
        """Occurrences whose title, place, OPD or description hold every word of ``q``."""
        return self._select("1", [], opd, venue, category, q, limit)

    def get(self, occurrence_id: str) -> Occurrence | None:
        """One occurrence by its page id."""
        with self._lock:
            row = self.db.execute("SELECT data FROM web_occurrences WHERE id = ?",
                                  (occurrence_id,)).fetchone()
        return _from_json(row[0]) if row else None

    def categories(self) -> list[str]:
        """Every category in use, sorted."""
        with self._lock:
            rows = self.db.execute("SELECT DISTINCT category FROM web_occurrences").fetchall()
        found = {c for (text,) in rows for c in text.split(SEP) if c}
        return sorted(found, key=str.casefold)

    def window(self, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
        """The public feed's window (what the JSON lists), from WIB midnights."""
        today = (now or dt.datetime.now(WIB)).astimezone(WIB).replace(
            hour=0, minute=0, second=0, microsecond=0)
        return (today - dt.timedelta(days=WINDOW_PAST_DAYS),
                today + dt.timedelta(days=WINDOW_FUTURE_DAYS))

    def source_text(self, uid: str) -> str | None:
        """The public copy (VCALENDAR text) of the activity with this UID."""
        href = uid.split("@", 1)[0] + ".ics"
        with self._lock:
            row = self.db.execute("SELECT text FROM outputs WHERE calendar = ? AND href = ? "
                                  "AND key IS NOT NULL", (PUBLIC, href)).fetchone()
        return row[0] if row else None

    def version(self) -> str:
        """A value that changes whenever the data changes."""
        return self._meta("version") or "0"

    def _meta(self, name: str) -> str | None:
        """One value of ``web_meta``."""
        with self._lock:
            row = self.db.execute("SELECT value FROM web_meta WHERE name = ?",
                                  (name,)).fetchone()
        return row[0] if row else None

    # -- writing (the sync service) ----------------------------------------------
    def refresh(self, matcher: Matcher, opd_names: Callable[[str], str], now: dt.datetime
                ) -> int:
        """Index every public copy written since the last refresh; the copies indexed."""
        soon = int((now + dt.timedelta(days=HORIZON_DAYS // 2)).timestamp())
        with self._lock:
            changed = self.db.execute(
                "SELECT o.href, o.opd, o.text, o.key FROM outputs o "
                "LEFT JOIN web_items w ON w.href = o.href WHERE o.calendar = ? AND "
                "o.written = 1 AND o.key IS NOT NULL AND (w.key IS NULL OR w.key != o.key "
                "OR w.until < ?)", (PUBLIC, soon)).fetchall()
            gone = self.db.execute(
                "SELECT href FROM web_items WHERE href NOT IN (SELECT href FROM outputs "
                "WHERE calendar = ? AND key IS NOT NULL)", (PUBLIC,)).fetchall()
        if not changed and not gone:
            return 0
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for (href,) in gone:
                    self._forget(href)
                for href, opd, text, key in changed:
                    self._index(href, opd, opd_names(opd), text, key, matcher, now)
                self.db.execute("INSERT OR REPLACE INTO web_meta VALUES ('version', ?)",
                                (str(int(self._meta_locked("version") or 0) + 1),))
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
        return len(changed) + len(gone)

    def _meta_locked(self, name: str) -> str | None:
        """One value of ``web_meta`` (the lock already held)."""
        row = self.db.execute("SELECT value FROM web_meta WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def _forget(self, href: str) -> None:
        """Drop a copy's occurrences."""
        self.db.execute("DELETE FROM web_occurrences WHERE href = ?", (href,))
        self.db.execute("DELETE FROM web_items WHERE href = ?", (href,))

    def _index(self, href: str, opd: str, opd_name: str, text: str, key: str,
               matcher: Matcher, now: dt.datetime) -> None:
        """Replace a copy's occurrences (an unreadable copy is left out, not fatal)."""
        self._forget(href)
        try:
            found, endless = expand(text, opd, opd_name, matcher, now)
        except Exception:  # the feed still carries it; the page just cannot list it
            found, endless = [], False
        until = int((now + dt.timedelta(days=HORIZON_DAYS)).timestamp()) if endless else None
        self.db.execute("INSERT INTO web_items VALUES (?, ?, ?)", (href, key, until))
        longest = int(self._meta_locked("longest") or 0)
        for o in found:
            words = " ".join((o.title, o.location, o.opd_name, o.description)).casefold()
            a, b = int(o.start.timestamp()), int(o.end.timestamp())
            longest = max(longest, b - a)
            self.db.execute("INSERT OR REPLACE INTO web_occurrences VALUES (?,?,?,?,?,?,?,?,?)",
                            (o.id, href, a, b, o.opd, o.venue,
                             SEP + SEP.join(o.categories) + SEP, words, _to_json(o)))
        self.db.execute("INSERT OR REPLACE INTO web_meta VALUES ('longest', ?)", (str(longest),))
