"""The rendered data of the web pages: occurrences of the agendas in ``sync.db``.

Written by the sync service after each pass (:meth:`WebIndex.refresh`: every
copy of the public and the leaders' agenda written since is expanded into its
occurrences by ``kalender_sync.occurrences``), read by every page of ``kalender.web``
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kalender.clash.match import Matcher
from kalender_sync.occurrences import HORIZON_DAYS, WIB, Occurrence, expand
from kalender_sync.publish import WINDOW_FUTURE_DAYS, WINDOW_PAST_DAYS
from kalender_sync.state import SCHEMA as STATE_SCHEMA

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
    words    TEXT NOT NULL,               -- title, place, OPD, description, casefolded
    data     TEXT NOT NULL,               -- the Occurrence as JSON
    PRIMARY KEY (calendar, id));
CREATE INDEX IF NOT EXISTS web_occurrences_start ON web_occurrences (calendar, start);
CREATE INDEX IF NOT EXISTS web_occurrences_href ON web_occurrences (calendar, href);
CREATE TABLE IF NOT EXISTS web_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
SEP = "\x1f"


def _upgrade(db: sqlite3.Connection) -> None:
    """Drop web tables of an older layout: they are derived data, rebuilt by the next refresh."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(web_occurrences)")}
    if columns and not {"calendar", "persons"} <= columns:
        db.executescript("DROP TABLE IF EXISTS web_occurrences; DROP TABLE IF EXISTS web_items;")
        if _has_table(db, "web_meta"):
            db.execute("DELETE FROM web_meta WHERE name = 'longest'")


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    """Whether ``sync.db`` has a table ``name``."""
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (name,)).fetchone() is not None


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
    fields["persons"] = tuple(fields.get("persons", ()))
    return Occurrence(**fields)


class WebIndex:
    """Occurrences of the output agendas (tables ``web_items`` and ``web_occurrences``).

    Every reading method takes ``calendar`` (the public agenda unless told)
    and the filters ``opd``, ``venue``, ``category``, ``person`` (ids) and
    ``q`` (every word must appear in title, place, OPD or description).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.executescript(STATE_SCHEMA)  # readers may come before the sync
        _upgrade(self.db)
        self.db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    # -- reading ---------------------------------------------------------------
    def _rows(self, sql: str, args: Sequence[object]) -> list[Any]:
        """The rows of one query."""
        with self._lock:
            return self.db.execute(sql, args).fetchall()

    def _where(self, calendar: str, window: tuple[dt.datetime, dt.datetime] | None,
               filters: dict[str, str | None]) -> tuple[str, list[object]]:
        """The condition of a query: calendar, window, filters."""
        where = "calendar = ?"
        args: list[object] = [calendar]
        if window is not None:
            a, b = int(window[0].timestamp()), int(window[1].timestamp())
            longest = int(self._meta("longest") or 0)  # bounds the index range of ``start``
            # an instant (end == start) at ``a`` overlaps too (RFC 4791 §9.9's rule)
            where += " AND start >= ? AND start < ? AND (end > ? OR start = ?)"
            args += [a - longest, b, a, a]
        unknown = set(filters) - {"opd", "venue", "category", "person", "q"}
        if unknown:
            raise TypeError(f"unknown filters {sorted(unknown)}")
        if filters.get("opd"):
            where, args = where + " AND opd = ?", [*args, filters["opd"]]
        if filters.get("venue"):
            where, args = where + " AND venue = ?", [*args, filters["venue"]]
        for column, key in (("category", "category"), ("persons", "person")):
            if filters.get(key):
                where += f" AND instr({column}, ?) > 0"
                args.append(SEP + str(filters[key]) + SEP)
        for word in (filters.get("q") or "").casefold().split():
            where, args = where + " AND instr(words, ?) > 0", [*args, word]
        return where, args

    def _select(self, calendar: str, window: tuple[dt.datetime, dt.datetime] | None,
                filters: dict[str, str | None], limit: int | None, newest_first: bool
                ) -> list[Occurrence]:
        """Occurrences by start then title (or the newest first)."""
        where, args = self._where(calendar, window, filters)
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT data FROM web_occurrences WHERE {where} ORDER BY start {order}, id"  # noqa: S608
        if limit is not None:
            sql, args = sql + " LIMIT ?", [*args, limit]
        found = [_from_json(text) for (text,) in self._rows(sql, args)]
        found.sort(key=lambda o: (o.start, o.title.casefold(), o.id), reverse=newest_first)
        return found

    def between(self, start: dt.datetime, end: dt.datetime, *, calendar: str = PUBLIC,
                limit: int | None = None, newest_first: bool = False,
                **filters: str | None) -> list[Occurrence]:
        """Occurrences overlapping [start, end), by start then title (or newest first)."""
        return self._select(calendar, (start, end), filters, limit, newest_first)

    def count(self, start: dt.datetime, end: dt.datetime, *, calendar: str = PUBLIC,
              **filters: str | None) -> int:
        """How many occurrences :meth:`between` would list without a limit."""
        where, args = self._where(calendar, (start, end), filters)
        sql = f"SELECT count(*) FROM web_occurrences WHERE {where}"  # noqa: S608
        return int(self._rows(sql, args)[0][0])

    def search(self, q: str, *, calendar: str = PUBLIC, limit: int = 200,
               **filters: str | None) -> list[Occurrence]:
        """Occurrences of every date holding every word of ``q``, by start."""
        return self._select(calendar, None, {**filters, "q": q}, limit, False)

    def get(self, occurrence_id: str, calendar: str = PUBLIC) -> Occurrence | None:
        """One occurrence by its page id."""
        rows = self._rows("SELECT data FROM web_occurrences WHERE calendar = ? AND id = ?",
                          (calendar, occurrence_id))
        return _from_json(rows[0][0]) if rows else None

    def categories(self, calendar: str = PUBLIC) -> list[str]:
        """Every category in use, sorted."""
        rows = self._rows("SELECT DISTINCT category FROM web_occurrences WHERE calendar = ?",
                          (calendar,))
        return sorted({c for (text,) in rows for c in text.split(SEP) if c}, key=str.casefold)

    def window(self, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
        """The public feed's window (what the JSON lists), from WIB midnights."""
        today = (now or dt.datetime.now(WIB)).astimezone(WIB).replace(
            hour=0, minute=0, second=0, microsecond=0)
        return (today - dt.timedelta(days=WINDOW_PAST_DAYS),
                today + dt.timedelta(days=WINDOW_FUTURE_DAYS))

    def source_text(self, uid: str, calendar: str = PUBLIC) -> str | None:
        """The copy (VCALENDAR text) of the activity with this UID."""
        href = uid.split("@", 1)[0] + ".ics"
        rows = self._rows("SELECT text FROM outputs WHERE calendar = ? AND href = ? "
                          "AND key IS NOT NULL", (calendar, href))
        return rows[0][0] if rows else None

    def source_of(self, occurrence: Occurrence) -> tuple[str, str] | None:
        """(OPD id, item name in its OPD calendar) of the event an occurrence comes from."""
        href = occurrence.uid.split("@", 1)[0] + ".ics"
        rows = self._rows("SELECT opd, source FROM outputs WHERE calendar = ? AND href = ? "
                          "AND key IS NOT NULL", (LEADERS, href))
        return (rows[0][0], rows[0][1]) if rows else None

    def version(self) -> str:
        """A value that changes whenever the data changes."""
        return self._meta("version") or "0"

    def _meta(self, name: str) -> str | None:
        """One value of ``web_meta``."""
        rows = self._rows("SELECT value FROM web_meta WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    # -- writing (the sync service) ----------------------------------------------
    def refresh(self, matcher: Matcher, opd_names: Callable[[str], str], now: dt.datetime
                ) -> int:
        """Index every copy written since the last refresh; the copies indexed."""
        soon = int((now + dt.timedelta(days=HORIZON_DAYS // 2)).timestamp())
        changed = self._rows(
            "SELECT o.calendar, o.href, o.opd, o.text, o.key FROM outputs o "
            "LEFT JOIN web_items w ON w.calendar = o.calendar AND w.href = o.href "
            "WHERE o.calendar IN (?, ?) AND o.written = 1 AND o.key IS NOT NULL AND "
            "(w.key IS NULL OR w.key != o.key OR w.until < ?)", (*CALENDARS, soon))
        gone = self._rows(
            "SELECT w.calendar, w.href FROM web_items w LEFT JOIN outputs o ON "
            "o.calendar = w.calendar AND o.href = w.href AND o.key IS NOT NULL "
            "WHERE o.href IS NULL", ())
        if not changed and not gone:
            return 0
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for calendar, href in gone:
                    self._forget(calendar, href)
                longest = int(self._meta_locked("longest") or 0)
                for calendar, href, opd, text, key in changed:
                    longest = max(longest, self._index(calendar, href, opd, opd_names(opd),
                                                       text, key, matcher, now))
                self.db.execute("INSERT OR REPLACE INTO web_meta VALUES ('longest', ?)",
                                (str(longest),))
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

    def _forget(self, calendar: str, href: str) -> None:
        """Drop a copy's occurrences."""
        self.db.execute("DELETE FROM web_occurrences WHERE calendar = ? AND href = ?",
                        (calendar, href))
        self.db.execute("DELETE FROM web_items WHERE calendar = ? AND href = ?",
                        (calendar, href))

    def _index(self, calendar: str, href: str, opd: str, opd_name: str, text: str, key: str,
               matcher: Matcher, now: dt.datetime) -> int:
        """Replace a copy's occurrences; the longest duration among them (seconds).

        An unreadable copy is indexed as having none: the feed still carries it.
        """
        self._forget(calendar, href)
        try:
            found, endless = expand(text, opd, opd_name, matcher, now, calendar == PUBLIC)
        except Exception:
            found, endless = [], False
        until = int((now + dt.timedelta(days=HORIZON_DAYS)).timestamp()) if endless else None
        self.db.execute("INSERT INTO web_items VALUES (?, ?, ?, ?)", (calendar, href, key, until))
        longest = 0
        for o in found:
            words = " ".join((o.title, o.location, o.opd_name, o.description)).casefold()
            a, b = int(o.start.timestamp()), int(o.end.timestamp())
            longest = max(longest, b - a)
            self.db.execute(
                "INSERT OR REPLACE INTO web_occurrences VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (calendar, o.id, href, a, b, o.opd, o.venue, SEP + SEP.join(o.categories) + SEP,
                 SEP + SEP.join(o.persons) + SEP, words, _to_json(o)))
        return longest
