"""Keeping the clash index true to storage: crash repair, moving horizons, one-off rechecks.

A write is journalled (``pending``) before its file is written and the journal
row goes with the index update, so :func:`maintain` after a crash re-reads
exactly the items that may differ; it also re-expands recurring items whose
indexed horizon runs out. :func:`refresh` re-indexes one item as stored.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kalender.clash.index import Index
from kalender.clash.planned import Change, Planned
from kalender.deployment import CachedRegistry, Deployment

if TYPE_CHECKING:  # pragma: no cover
    from kalender.clash.guard import Guard, ReadItem

DAY = 86400
#: Pending-journal name meaning "the whole collection" (imports, calendar DELETE).
WHOLE = "*"
#: Re-expand recurring items when fewer than this many seconds of horizon remain.
HORIZON_SLACK = 7 * DAY
#: meta key set once the index's private flags follow kalender.visibility
VISIBILITY_MARK = "visibility_rule"
#: A CLASS other than exactly PUBLIC: the only items whose private flags the rule changed.
_NOT_PUBLIC = re.compile(r"^CLASS[;:](?!PUBLIC\r?$)", re.MULTILINE)
#: meta key set once the index's tentative flags were read from stored items
TENTATIVE_MARK = "tentative_holds"
#: STATUS:TENTATIVE anywhere in an item (a master or an override; RFC 5545 §3.8.1.11)
_TENTATIVE = re.compile(r"^STATUS(?:;[^:\r\n]*)?:[ \t]*TENTATIVE[ \t]*\r?$",
                        re.MULTILINE | re.IGNORECASE)


def maintain(guard: Guard, read_item: ReadItem) -> None:
    """Repair crash leftovers and move the horizon of recurring items forward."""
    todo = set(guard.index.pending())
    todo |= set(guard.index.stale_recurring(
        guard.now() + guard.horizon_days * DAY - HORIZON_SLACK))
    for collection, href in sorted(todo):
        if href == WHOLE and guard.list_hrefs is not None:
            # an import or a calendar DELETE was cut short: re-read the calendar
            guard.commit(Change(remove=[(collection, None)]), "kalender:perbaikan")
            guard.index.begin(collection, [WHOLE])  # kept until every item is back
            for item in guard.list_hrefs(collection):
                refresh(guard, collection, item, read_item)
            guard.index.db.execute("DELETE FROM pending WHERE collection = ? AND href = ?",
                                  (collection, WHOLE))
            continue
        guard.refresh(collection, href, read_item)

def refresh(guard: Guard, collection: str, href: str, read_item: ReadItem,
            horizon_days: int | None = None) -> None:
    """Re-index one item from storage (or forget it if it is gone)."""
    found = read_item(collection, href)
    change = Change(remove=[(collection, href)])
    if found is not None:
        text, etag, uid = found
        try:
            planned = guard.plan(collection, href, text, uid, horizon_days, storing=False)
        except ValueError:  # stored before the rules or unparseable: keep it unbooked
            planned = Planned(collection.strip("/"), href, uid, text)
        change.put.append((planned, etag))
    guard.commit(change, "kalender:perbaikan")


def _reader(text: str, etag: str, uid: str) -> ReadItem:
    """A ReadItem that returns one item already read."""
    def read(collection: str, href: str) -> tuple[str, str, str]:
        return text, etag, uid

    return read


def recheck_private(deployment: Deployment) -> int:
    """Re-index, once, the items whose private flags predate the one visibility rule.

    Before it, CLASS was compared exactly and each VEVENT alone: an unknown
    value, ``PRIVATE `` or an override of a private series was indexed as
    public, and a clash answer named its title. Returns how many bookings are
    private now that were not; a mark in ``meta`` makes it run once (and once
    more after ``kalender reindex``, which empties ``meta``).
    """
    return _recheck(deployment, VISIBILITY_MARK, _NOT_PUBLIC, "private")


def recheck_tentative(deployment: Deployment) -> int:
    """Re-index, once, the items with STATUS:TENTATIVE indexed before holds were told apart.

    Their bookings were indexed as firm (``slots.tentative`` 0): under ``[storage]
    kalender_tentative = warn`` they would still refuse. Returns how many
    bookings are holds now; runs once like :func:`recheck_private`.
    """
    return _recheck(deployment, TENTATIVE_MARK, _TENTATIVE, "tentative")


def _recheck(deployment: Deployment, mark: str, pattern: re.Pattern[str], flag: str) -> int:
    """Re-index the items whose text matches ``pattern`` and that have a booking without
    ``flag``; the number of bookings that have it now. Once per ``mark`` in ``meta``."""
    index = Index(deployment.database)
    db = index.db
    if db.execute("SELECT 1 FROM meta WHERE key = ?", (mark,)).fetchone():
        return 0
    root = deployment.collections / "collection-root"
    from kalender.clash.guard import Guard  # the guard imports this module

    guard = Guard(deployment, CachedRegistry(deployment))
    changed = 0
    # ``flag`` is one of two column names given above, never input: hence the S608 noqa
    for collection, href, etag, uid in db.execute(
            "SELECT collection, href, etag, uid FROM items WHERE EXISTS (SELECT 1 FROM slots "  # noqa: S608
            "WHERE slots.collection = items.collection AND slots.href = items.href "
            f"AND {flag} = 0)").fetchall():
        try:
            text = (root / collection / href).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # kalender verify reports it
        if not pattern.search(text):
            continue
        query = f"SELECT count(*) FROM slots WHERE collection = ? AND href = ? AND {flag} = 1"  # noqa: S608
        before = db.execute(query, (collection, href)).fetchone()[0]
        refresh(guard, collection, href, _reader(text, etag, uid))
        changed += db.execute(query, (collection, href)).fetchone()[0] - before
    with index.transaction() as tx:
        tx.execute("INSERT OR REPLACE INTO meta VALUES (?, 1)", (mark,))
    return changed
