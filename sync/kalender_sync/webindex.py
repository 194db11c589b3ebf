"""The rendered data of the web pages: occurrences of the agendas in ``sync.db``.

Written by the sync service after each pass (:meth:`WebIndex.refresh`: every
copy of the public and the leaders' agenda written since is expanded into its
occurrences by ``kalender_sync.occurrences``), read by every page of ``kalender.web``
through a connection of its own. SQLite in WAL mode lets readers run beside
the writer, and nothing here touches Radicale's storage or its lock, so a
burst of readers never slows an OPD's write.

A cancelled occurrence of the public agenda stays listed, marked, until it has
ended, then leaves every public query (each takes ``now``); the refresh after
its end changes :meth:`WebIndex.version`, so cached answers follow.

``refresh`` compares what is indexed with the written public copies (by
their content key), so it heals itself: a deployment made before the web
existed, or a pass killed half-way, is indexed in full at the next pass.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kalender.clash.match import Matcher
from kalender.pemda.protocol import Protocol
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


def _upgrade(db: sqlite3.Connection) -> None:
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


def _epoch(when: dt.datetime | None) -> int:
    """Epoch seconds of ``when`` (the clock when None)."""
    return int((when or dt.datetime.now(dt.UTC)).timestamp())


def _to_json(o: Occurrence) -> str:
    """An occurrence as a JSON text."""
    fields = {k: getattr(o, k) for k in Occurrence.__dataclass_fields__}
    fields["start"], fields["end"] = o.start.isoformat(), o.end.isoformat()
    fields["protocol"] = dataclasses.asdict(o.protocol)
    return json.dumps(fields, ensure_ascii=False)


def _from_json(text: str) -> Occurrence:
    """An occurrence from its JSON text."""
    fields: dict[str, Any] = json.loads(text)
    fields["start"] = dt.datetime.fromisoformat(fields["start"]).astimezone(WIB)
    fields["end"] = dt.datetime.fromisoformat(fields["end"]).astimezone(WIB)
    fields["categories"] = tuple(fields["categories"])
    fields["persons"] = tuple(fields.get("persons", ()))
    fields["stand_ins"] = tuple(fields.get("stand_ins", ()))
    fields["protocol"] = Protocol(**fields.get("protocol", {}))
    return Occurrence(**fields)


class WebIndex:
    """Occurrences of the output agendas (tables ``web_items`` and ``web_occurrences``).

    Every reading method takes ``calendar`` (the public agenda unless told),
    the filters ``opd``, ``venue``, ``category``, ``person`` (ids) and
    ``q`` (every word must appear in title, place, OPD or description), and
    ``now`` (the clock when None): the public agenda leaves out what was
    cancelled and has ended by then.
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
               filters: dict[str, str | None], now: dt.datetime | None
               ) -> tuple[str, list[object]]:
        """The condition of a query: calendar, window, filters, cancellations over by ``now``."""
        where = "calendar = ?"
        args: list[object] = [calendar]
        if calendar == PUBLIC:  # a cancelled activity is news until it has ended (issue 11)
            where += " AND (cancelled = 0 OR end > ?)"
            args.append(_epoch(now))
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
                filters: dict[str, str | None], limit: int | None, newest_first: bool,
                now: dt.datetime | None) -> list[Occurrence]:
        """Occurrences by start then title (or the newest first)."""
        where, args = self._where(calendar, window, filters, now)
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT data FROM web_occurrences WHERE {where} ORDER BY start {order}, id"  # noqa: S608
        if limit is not None:
            sql, args = sql + " LIMIT ?", [*args, limit]
        found = [_from_json(text) for (text,) in self._rows(sql, args)]
        found.sort(key=lambda o: (o.start, o.title.casefold(), o.id), reverse=newest_first)
        return found

    def between(self, start: dt.datetime, end: dt.datetime, *, calendar: str = PUBLIC,
                limit: int | None = None, newest_first: bool = False,
                now: dt.datetime | None = None, **filters: str | None) -> list[Occurrence]:
        """Occurrences overlapping [start, end), by start then title (or newest first)."""
        return self._select(calendar, (start, end), filters, limit, newest_first, now)

    def count(self, start: dt.datetime, end: dt.datetime, *, calendar: str = PUBLIC,
              now: dt.datetime | None = None, **filters: str | None) -> int:
        """How many occurrences :meth:`between` would list without a limit."""
        where, args = self._where(calendar, (start, end), filters, now)
        sql = f"SELECT count(*) FROM web_occurrences WHERE {where}"  # noqa: S608
        return int(self._rows(sql, args)[0][0])

    def search(self, q: str, *, calendar: str = PUBLIC, limit: int = 200,
               now: dt.datetime | None = None, **filters: str | None) -> list[Occurrence]:
        """Occurrences of every date holding every word of ``q``, by start."""
        return self._select(calendar, None, {**filters, "q": q}, limit, False, now)

    def get(self, occurrence_id: str, calendar: str = PUBLIC, now: dt.datetime | None = None
            ) -> Occurrence | None:
        """One occurrence by its page id."""
        where, args = self._where(calendar, None, {}, now)
        rows = self._rows(f"SELECT data FROM web_occurrences WHERE {where} AND id = ?",  # noqa: S608
                          (*args, occurrence_id))
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
        expiry = self._meta("expiry")  # the end of the next cancellation to leave the public
        due = expiry is not None and int(expiry) <= _epoch(now)
        if not changed and not gone and not due:
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
                (following,) = self.db.execute(
                    "SELECT min(end) FROM web_occurrences WHERE calendar = ? AND cancelled = 1 "
                    "AND end > ?", (PUBLIC, _epoch(now))).fetchone()
                self.db.execute("DELETE FROM web_meta WHERE name = 'expiry'")
                if following is not None:
                    self.db.execute("INSERT INTO web_meta VALUES ('expiry', ?)",
                                    (str(following),))
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
            words = " ".join((o.title, o.location, o.opd_name, o.description,
                              *o.stand_ins)).casefold()
            a, b = int(o.start.timestamp()), int(o.end.timestamp())
            longest = max(longest, b - a)
            self.db.execute(
                "INSERT OR REPLACE INTO web_occurrences VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (calendar, o.id, href, a, b, o.opd, o.venue, SEP + SEP.join(o.categories) + SEP,
                 SEP + SEP.join(o.persons) + SEP, int(o.cancelled), words, _to_json(o)))
        return longest
