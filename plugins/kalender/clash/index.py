"""The clash index: what a write needs to know without reading every event.

Persistent in ``kalender.db`` (SQLite, see ``kalender.database``), updated by
the storage plugin inside Radicale's write lock, in one transaction per write
together with the audit row. It answers the UID lookup Radicale does before
every PUT (vanilla reads every item for it) and the question "which blocking
occurrences use these venues or persons in this window".

Crash safety: ``begin`` commits a *pending* row before the storage file is
written; ``commit`` replaces the item's rows and removes the pending row in
one transaction. After a crash, pending rows name exactly the items whose
index rows may be stale; ``kalender.clash.guard`` re-reads them from storage before
the next check.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from kalender import database
from kalender.clash.rules import Booking, Venue, venue_family

UID_RE = re.compile(r"^UID:(.*?)\r?$", re.MULTILINE)


@dataclass(frozen=True)
class ItemRow:
    """One indexed item."""

    collection: str
    href: str
    uid: str
    etag: str
    horizon: int
    recurring: bool
    locations: tuple[str, ...]
    #: names in labelled DESCRIPTION lines that matched no key person (Extracted)
    unknown_persons: tuple[str, ...] = ()


class Index:
    """Operations on the index tables of one deployment database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection."""
        return database.connect(self.path)

    # -- reads ---------------------------------------------------------------
    def has_uid(self, collection: str, uid: str) -> bool:
        """Whether an item with ``uid`` is stored in ``collection``."""
        row = self.db.execute("SELECT 1 FROM items WHERE collection = ? AND uid = ? LIMIT 1",
                              (collection, uid)).fetchone()
        return row is not None

    def is_indexed(self, collection: str) -> bool:
        """Whether the index knows ``collection`` (it has at least one item)."""
        return self.db.execute("SELECT 1 FROM items WHERE collection = ? LIMIT 1",
                               (collection,)).fetchone() is not None

    def items(self, collection: str | None = None) -> Iterator[ItemRow]:
        """Indexed items, of one collection or all."""
        sql = "SELECT collection, href, uid, etag, horizon, recurring, locations FROM items"
        rows = (self.db.execute(sql + " WHERE collection = ?", (collection,)) if collection
                else self.db.execute(sql))
        for c, h, u, e, hz, rec, loc in rows:
            yield ItemRow(c, h, u, e, hz, bool(rec), tuple(x for x in loc.split("\n") if x))

    def bookings(self, kind: str, resources: Iterable[str], windows: Iterable[tuple[int, int]]
                 ) -> list[Booking]:
        """Blocking occurrences using any of ``resources`` that overlap one of ``windows``.

        One range scan of the (kind, resource, start) index per window: a booking
        overlapping [s, e) starts before e and no earlier than s minus the longest
        booking ever indexed, so a weekly series over two years reads only the
        bookings near each of its occurrences, not all of them.
        """
        ids = sorted(set(resources))
        if not ids:
            return []
        row = self.db.execute("SELECT value FROM meta WHERE key = 'max_span'").fetchone()
        if row is None:  # an index written before the bound was kept: compute it once
            row = self.db.execute('SELECT coalesce(max("end" - start), 0) FROM slots').fetchone()
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('max_span', ?)", (row[0],))
        longest = int(row[0])
        marks = ",".join("?" * len(ids))
        sql = (f"SELECT rowid, uid, opd, resource, start, \"end\", title, private, rid, "  # noqa: S608
               f"tentative "
               f"FROM slots WHERE kind = ? AND resource IN ({marks}) "
               f"AND start >= ? AND start < ? AND \"end\" > ?")
        seen: dict[int, tuple] = {}  # type: ignore[type-arg]
        for start, end in _merged(windows):
            for r in self.db.execute(sql, (kind, *ids, start - longest, end, start)):
                seen[r[0]] = r[1:]
        result = []
        for uid, opd, resource, s, e, title, private, rid, tentative in seen.values():
            res = frozenset({resource})
            result.append(Booking(uid, opd, s, e, res if kind == "venue" else frozenset(),
                                  res if kind == "person" else frozenset(), title,
                                  bool(private), rid, bool(tentative)))
        return result

    def around(self, bookings: Iterable[Booking], venues: Mapping[str, Venue]) -> list[Booking]:
        """Indexed bookings that could clash with ``bookings`` (a superset: rules.py judges)."""
        bookings = list(bookings)
        # a hall and its part may have different buffers: the widest pair bounds the scan
        buffer = 60 * (max((v.setup_min for v in venues.values()), default=0)
                       + max((v.teardown_min for v in venues.values()), default=0))
        family: set[str] = set()
        for vid in {v for b in bookings for v in b.venues}:
            family |= venue_family(vid, venues)
        persons = {p for b in bookings for p in b.persons}
        at_venues = [(b.start - buffer, b.end + buffer) for b in bookings if b.venues]
        with_persons = [(b.start, b.end) for b in bookings if b.persons]
        return (self.bookings("venue", family, at_venues)
                + self.bookings("person", persons, with_persons))

    def stale_recurring(self, before: int) -> list[tuple[str, str]]:
        """(collection, href) of recurring items indexed only up to ``before``."""
        return list(self.db.execute(
            "SELECT collection, href FROM items WHERE recurring = 1 AND horizon < ?", (before,)))

    def pending(self) -> list[tuple[str, str]]:
        """(collection, href) of writes that may not have reached the index."""
        return list(self.db.execute("SELECT collection, href FROM pending"))

    def unknown_locations(self) -> dict[str, int]:
        """Free-text locations that matched no venue, with how many items use them."""
        counts: dict[str, int] = {}
        for (text,) in self.db.execute("SELECT locations FROM items WHERE locations != ''"):
            for loc in text.split("\n"):
                counts[loc] = counts.get(loc, 0) + 1
        return counts

    def unknown_persons(self) -> dict[str, int]:
        """Names given to key persons that matched no registered person, with item counts."""
        return dict(self.db.execute(
            "SELECT name, COUNT(*) FROM unknown_persons GROUP BY name"))

    # -- writes ----------------------------------------------------------------
    def begin(self, collection: str, hrefs: Iterable[str]) -> None:
        """Mark writes in flight (committed before the storage is touched)."""
        self.db.executemany("INSERT OR IGNORE INTO pending VALUES (?, ?)",
                            [(collection, h) for h in hrefs])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection inside BEGIN IMMEDIATE: commit, or roll back on error."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @staticmethod
    def put(db: sqlite3.Connection, row: ItemRow, opd: str | None,
            bookings: Iterable[Booking]) -> None:
        """Replace the rows of one item (inside a transaction)."""
        Index.remove(db, row.collection, row.href)
        db.execute("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (row.collection, row.href, row.uid, row.etag, row.horizon,
                    int(row.recurring), "\n".join(row.locations)))
        db.executemany("INSERT OR IGNORE INTO unknown_persons VALUES (?, ?, ?)",
                       [(row.collection, row.href, name) for name in row.unknown_persons])
        if opd is None:
            return
        slots: list[tuple[object, ...]] = []
        for b in bookings:
            for kind, resources in (("venue", b.venues), ("person", b.persons)):
                slots.extend((row.collection, row.href, b.uid, opd, kind, r, b.start, b.end,
                              b.title, int(b.private), b.recurrence_id, int(b.tentative))
                             for r in resources)
        db.executemany("INSERT INTO slots (collection, href, uid, opd, kind, resource, start, "
                       "\"end\", title, private, rid, tentative) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", slots)
        longest = max((b.end - b.start for b in bookings), default=0) if slots else 0
        if longest:
            db.execute("INSERT INTO meta VALUES ('max_span', ?) ON CONFLICT (key) DO UPDATE "
                       "SET value = max(value, excluded.value)", (longest,))

    @staticmethod
    def uids(db: sqlite3.Connection, collection: str, href: str) -> list[str]:
        """The UID indexed for one item (empty when it is not indexed)."""
        rows = db.execute("SELECT uid FROM items WHERE collection = ? AND href = ?",
                          (collection, href))
        return [row[0] for row in rows]

    @staticmethod
    def remove(db: sqlite3.Connection, collection: str, href: str | None = None) -> None:
        """Remove one item, or a whole collection when ``href`` is None."""
        # a whole collection takes the calendars below it too (DELETE of /opd/)
        where, args = ("(collection = ? OR collection LIKE ? ESCAPE '\\')",
                       (collection, _like_prefix(collection))) if href is None else (
            "collection = ? AND href = ?", (collection, href))
        for table in ("items", "slots", "pending", "unknown_persons"):
            db.execute(f"DELETE FROM {table} WHERE {where}", args)  # noqa: S608

    def clear(self) -> None:
        """Empty the index (before a rebuild)."""
        with self.transaction() as db:
            for table in ("items", "slots", "pending", "meta", "unknown_persons"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608


def _merged(windows: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching windows merged, sorted by start."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def uid_of(text: str) -> str | None:
    """The UID of a stored item without parsing it (RFC 5545 §3.8.4.7, lines unfolded)."""
    match = UID_RE.search(text.replace("\r\n ", "").replace("\n ", ""))
    return match.group(1).strip() if match else None


def _like_prefix(collection: str) -> str:
    """A LIKE pattern for the collections below ``collection``."""
    escaped = collection.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "/%"

