"""What the output calendars serve, read from ``DIR/sync.db`` (the sync's own state).

The sync service writes each pass's copies in one transaction
(``State.apply``); the storage plugin (``kalender.dav.outputs``) answers every
CalDAV read of ``/publik/agenda/``, ``/pimpinan/agenda/``, ``/ruang/*/`` and
``/orang/*/`` from here, without Radicale's storage lock. ``output_log`` keeps
the last change of every copy (a deletion too), which is all RFC 6578 needs:
the changes since a token are the copies logged after it.

Readers use read-only connections, one per thread, reopened when ``sync.db``
is replaced (a rebuild); a deployment not synced yet serves empty calendars.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: Floating times and dates are read in WIB by the sync and in UTC by Radicale's
#: filters: a time-range prefilter on the sync's spans widens by this much.
MARGIN = 86_400


@dataclass(frozen=True)
class Copy:
    """One copy in an output calendar, as served."""

    href: str
    text: str
    stamp: int  # when it was last written (epoch seconds); 0 when not logged


@dataclass(frozen=True)
class Position:
    """Where an output calendar's change log stands: its sync token's parts."""

    ident: str  # the database's own id: a rebuilt sync.db makes earlier tokens invalid
    seq: int  # the last transaction that changed this calendar (0: none logged)
    count: int  # copies it holds
    stamp: int  # its last change (epoch seconds), 0 when none logged


class Served:
    """Read-only access to the output calendars kept in ``sync.db``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection | None:
        """This thread's connection (None while the deployment has no sync.db)."""
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            return None
        held: tuple[int, sqlite3.Connection] | None = getattr(self._local, "db", None)
        if held is not None and held[0] == inode:
            return held[1]
        if held is not None:
            held[1].close()
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=30,
                             isolation_level=None, check_same_thread=False)
        try:
            db.execute("SELECT 1 FROM output_log LIMIT 1")
        except sqlite3.OperationalError:  # created by an older sync: no log yet
            db.close()
            return None
        self._local.db = (inode, db)
        return db

    def _rows(self, sql: str, args: Iterable[object]) -> list[tuple]:  # type: ignore[type-arg]
        """Rows of a query, none when there is no database."""
        db = self._db()
        return db.execute(sql, tuple(args)).fetchall() if db is not None else []

    def hrefs(self, calendar: str) -> list[str]:
        """Names of the copies in ``calendar``."""
        return [h for (h,) in self._rows(
            "SELECT href FROM outputs WHERE calendar = ? AND key IS NOT NULL ORDER BY href",
            (calendar,))]

    def copies(self, calendar: str, hrefs: Iterable[str] | None = None,
               window: tuple[int, int] | None = None) -> Iterator[Copy]:
        """The copies of ``calendar``: all, those named, or those whose span meets ``window``."""
        sql = ("SELECT o.href, o.text, coalesce(l.stamp, 0) FROM outputs o LEFT JOIN "
               "output_log l ON l.calendar = o.calendar AND l.href = o.href "
               "WHERE o.calendar = ? AND o.key IS NOT NULL")
        args: list[object] = [calendar]
        if window is not None:
            sql += " AND o.span_end >= ? AND o.span_start <= ?"
            args += [window[0] - MARGIN, window[1] + MARGIN]
        if hrefs is None:
            for href, text, stamp in self._rows(sql + " ORDER BY o.href", args):
                yield Copy(href, text, stamp)
            return
        names = list(dict.fromkeys(hrefs))
        for i in range(0, len(names), 500):  # SQLite's limit on bound parameters
            chunk = names[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for href, text, stamp in self._rows(f"{sql} AND o.href IN ({marks})",
                                                [*args, *chunk]):
                yield Copy(href, text, stamp)

    def position(self, calendar: str) -> Position:
        """The change log's position for ``calendar`` (its token, ETag and Last-Modified)."""
        db = self._db()
        if db is None:
            return Position("0", 0, 0, 0)
        ident = db.execute("SELECT value FROM sync_meta WHERE name = 'served-id'").fetchone()
        seq, stamp = db.execute("SELECT coalesce(max(seq), 0), coalesce(max(stamp), 0) "
                                "FROM output_log WHERE calendar = ?", (calendar,)).fetchone()
        (count,) = db.execute("SELECT count(*) FROM outputs WHERE calendar = ? AND "
                              "key IS NOT NULL", (calendar,)).fetchone()
        return Position(ident[0] if ident else "0", int(seq), int(count), int(stamp))

    def changed(self, calendar: str, after: int) -> list[str]:
        """Names of the copies written or deleted after transaction ``after``."""
        return [h for (h,) in self._rows(
            "SELECT href FROM output_log WHERE calendar = ? AND seq > ? ORDER BY href",
            (calendar, after))]
