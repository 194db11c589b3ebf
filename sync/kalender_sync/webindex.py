"""The rendered data of the web pages: occurrences of the agendas in ``sync.db``.

Written by the sync service after each pass (:meth:`WebIndex.refresh`, done by
:mod:`kalender_sync.webtables`, which also holds the tables' layout), read by
every page of ``kalender.web`` through a connection of its own. SQLite in WAL
mode lets readers run beside the writer, and nothing here touches Radicale's
storage or its lock, so a burst of readers never slows an OPD's write.

A cancelled occurrence of the public agenda stays listed, marked, until it has
ended, then leaves every public query (each takes ``now``); the refresh after
its end changes :meth:`WebIndex.version`, so cached answers follow.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kalender.clash.match import Matcher
from kalender_sync import webtables
from kalender_sync.occurrences import WIB, Occurrence
from kalender_sync.publish import WINDOW_FUTURE_DAYS, WINDOW_PAST_DAYS
from kalender_sync.state import SCHEMA as STATE_SCHEMA
from kalender_sync.webtables import LEADERS, PUBLIC, SEP, epoch, from_json

#: ``LEADERS`` and ``PUBLIC`` name the calendars a query reads (``calendar=``).
__all__ = ["LEADERS", "PUBLIC", "WebIndex"]


class WebIndex:
    """Occurrences of the output agendas (tables ``web_items`` and ``web_occurrences``).

    Every reading method takes ``calendar`` (the public agenda unless told),
    the filters ``opd``, ``venue``, ``category``, ``person`` (ids) and
    ``q`` (every word must appear in title, place, OPD or description), and
    ``now`` (the clock when None): the public agenda leaves out what was
    cancelled and has ended by then.
    """

    def __init__(self, path: Path) -> None:
        """Open ``sync.db`` at ``path``, its web tables made or upgraded."""
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.executescript(STATE_SCHEMA)  # readers may come before the sync
        webtables.upgrade(self.db)
        self.db.executescript(webtables.SCHEMA)
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
            args.append(epoch(now))
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
        found = [from_json(text) for (text,) in self._rows(sql, args)]
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
        return from_json(rows[0][0]) if rows else None

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
        return webtables.refresh(self.db, self._lock, matcher, opd_names, now)
