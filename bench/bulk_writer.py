"""Prototype (bench only): the copies of one sync pass written under one storage lock.

Inside ``kalender serve`` the sync service runs in the server's process, so it
can write the output calendars through the storage plugin directly instead of
one HTTP PUT per copy. What one PUT costs, and what this does once per pass:

- the write lock (Radicale's ``acquire_lock("w")``): taken once;
- ``fsync`` of every file and folder: one ``os.sync`` after all files are in
  place, before the journal confirms them (``kalender_sync.state``), so a
  confirmed copy is on disk as with a PUT;
- Radicale's history clean-up (``_clean_history``, which scans the whole history
  folder of the calendar: O(items) per PUT): once per calendar;
- index and audit rows (``Guard.commit``): one transaction.

Each copy still gets what a PUT gives it: its file written atomically (temporary
file and rename), its item cache entry, and its history entry (RFC 6578
sync-collection: the next token reports exactly the copies whose ETag changed).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from radicale import item as radicale_item
from radicale import pathutils
from radicale.storage import multifilesystem

from kalender.clash.planned import Change, Planned
from kalender_sync.state import Output

if TYPE_CHECKING:
    from kalender.dav.storage import Storage


def write(storage: Storage, actor: str, actions: Sequence[Output], cache: bool = True
          ) -> list[Output]:
    """Write ``actions`` (already journalled) under one lock; those written.

    ``cache`` False: no item cache entry (Radicale builds it at the first read).
    """
    written: list[Output] = []
    if not actions:
        return written
    by_calendar: dict[str, list[Output]] = {}
    for action in actions:
        by_calendar.setdefault(action.calendar, []).append(action)
    with storage.acquire_lock("w", actor), _fsync_deferred(storage):
        puts: list[tuple[Planned, str]] = []
        removes: list[tuple[str, str | None]] = []
        entries: list[tuple[str, str, str | None, str | None, str | None, str | None]] = []
        for calendar, group in by_calendar.items():
            col = next(iter(storage.discover(f"/{calendar}/")), None)
            if not isinstance(col, multifilesystem.Collection):
                continue  # not created yet: stays journalled, the next pass retries
            storage.guard.index.begin(calendar, [a.href for a in group])
            for action in group:
                before, item = _write_one(col, action, cache)
                path = "/" + calendar + "/"
                if item is None:
                    removes.append((calendar, action.href))
                    entries.append(("delete", path, action.href, before, None, None))
                else:
                    text = action.text or ""
                    puts.append((Planned(calendar, action.href, item.uid, text), item.etag))
                    entries.append(("update" if before else "create", path, action.href,
                                    before, text, None))
                written.append(action)
            col._clean_history()  # once per calendar, not once per copy
        storage.guard.commit(Change(put=puts, remove=removes, entries=entries), actor)
    return written


@contextlib.contextmanager
def _fsync_deferred(storage: Storage) -> Iterator[None]:
    """Within: no fsync per file (item, cache, history); one ``os.sync`` at the end.

    Safe to switch while the write lock is held: only writers fsync.
    """
    wanted = storage._filesystem_fsync
    storage._filesystem_fsync = False
    try:
        yield
    finally:
        storage._filesystem_fsync = wanted
    if wanted:
        os.sync()  # every file on disk before the journal confirms it


def _write_one(col: multifilesystem.Collection, action: Output, cache: bool
               ) -> tuple[str | None, radicale_item.Item | None]:
    """Write or delete one copy with its cache and history entries; (old text, new item)."""
    href = action.href
    if not pathutils.is_safe_filesystem_path_component(href):
        raise pathutils.UnsafePathError(href)
    path = pathutils.path_to_filesystem(col._filesystem_path, href, col._is_collision_free)
    before: str | None = None
    with contextlib.suppress(OSError, UnicodeDecodeError), \
            open(path, encoding="utf-8", newline="") as f:
        before = f.read()
    if action.key is None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        col._update_history_etag(href, None)
        return before, None
    text = action.text or ""
    if before != text:
        fd, tmp = tempfile.mkstemp(prefix=".Radicale.tmp-", dir=col._filesystem_path)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    item = radicale_item.Item(collection=col, href=href, text=text)
    if col._storage._use_mtime_and_size_for_item_cache:
        stat = os.stat(path)
        cache_hash = col._item_cache_mtime_and_size(stat.st_size, stat.st_mtime_ns)
    else:
        cache_hash = col._item_cache_hash(text.encode(col._encoding))
    if cache:
        col._store_item_cache(href, item, cache_hash)
    col._update_history_etag(href, item)
    return before, item
