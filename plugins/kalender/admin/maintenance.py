"""``kalender reindex`` and ``kalender verify``: the index against the storage.

Both take Radicale's write lock through the storage plugin, so they are safe
while the server runs (writes wait for them). Both read the item files as
stored (not through Radicale's item cache, which would parse every item with
vobject first), and compare ETags of the stored text (``stored_items``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from radicale import storage as radicale_storage
from radicale.item import get_etag
from radicale.storage import multifilesystem

from kalender.admin import provision
from kalender.clash.guard import Guard
from kalender.clash.index import uid_of
from kalender.clash.planned import Change, Planned
from kalender.dav.storage import Storage
from kalender.deployment import Deployment

Progress = Callable[[int, int], None]


def calendars(store: radicale_storage.BaseStorage, path: str = "/"
              ) -> Iterator[multifilesystem.Collection]:
    """Every calendar collection below ``path`` (depth first), each once.

    Only real children count: a home's listing also names the role's calendars
    (discovery, ``kalender.dav.storage``), which live elsewhere in the tree.
    """
    parent = path.strip("/")
    children = iter(store.discover(path, depth="1"))
    next(children, None)  # the collection itself
    for child in children:
        if not isinstance(child, multifilesystem.Collection):
            continue
        if child.path.strip("/").rpartition("/")[0] != parent:
            continue
        if child.tag == "VCALENDAR":
            yield child
        else:
            yield from calendars(store, "/" + child.path.strip("/") + "/")


def stored_items(col: multifilesystem.Collection) -> Iterator[tuple[str, str]]:
    """(href, text) of every item file of a collection, as stored."""
    for href in col._list():
        try:
            with open(os.path.join(col._filesystem_path, href), encoding="utf-8",
                      newline="") as f:
                yield href, f.read()
        except (OSError, UnicodeDecodeError):
            continue


@dataclass(frozen=True)
class Stats:
    """What a rebuild did."""

    items: int
    bookings: int
    unreadable: list[str]
    seconds: float


def reindex(dep: Deployment, progress: Progress | None = None) -> Stats:
    """Rebuild the whole index from storage, one transaction per calendar."""
    began = time.monotonic()
    unreadable: list[str] = []
    with provision.storage_locked(dep, "kalender:reindex") as store:
        assert isinstance(store, Storage)
        guard = store.guard
        cols = list(calendars(store))
        total = sum(len(list(c._list())) for c in cols)
        guard.index.clear()
        with guard.registry.held():
            items, bookings = _rebuild(guard, cols, total, unreadable, progress)
        if progress is not None:
            progress(items, total)
    return Stats(items, bookings, unreadable, time.monotonic() - began)


def _rebuild(guard: Guard, cols: list[multifilesystem.Collection], total: int,
             unreadable: list[str], progress: Progress | None) -> tuple[int, int]:
    """Index every item of ``cols``, one transaction per calendar."""
    items = bookings = 0
    for col in cols:
        change = Change()
        for href, text in stored_items(col):
            uid = uid_of(text) or href
            try:
                planned = guard.plan(col.path, href, text, uid, storing=False)
            except ValueError as e:
                unreadable.append(f"/{col.path}/{href}: {e}")
                planned = Planned(col.path.strip("/"), href, uid, text)
            change.put.append((planned, get_etag(text)))
            bookings += len(planned.bookings)
            items += 1
            if progress is not None and items % 200 == 0:
                progress(items, total)
        guard.commit(change, "kalender:reindex")
    return items, bookings


def verify(dep: Deployment) -> list[str]:
    """Differences between index and storage (empty when they agree)."""
    problems: list[str] = []
    with provision.storage_locked(dep, "kalender:verify") as store:
        assert isinstance(store, Storage)
        index = store.guard.index
        for collection, href in index.pending():
            problems.append(f"/{collection}/{href}: penulisan belum tercatat di indeks")
        seen: set[str] = set()
        for col in calendars(store):
            path = col.path.strip("/")
            seen.add(path)
            stored = {href: get_etag(text) for href, text in stored_items(col)}
            indexed = {r.href: r.etag for r in index.items(path)}
            for href in sorted(stored.keys() - indexed.keys()):
                problems.append(f"/{path}/{href}: ada di penyimpanan, tidak ada di indeks")
            for href in sorted(indexed.keys() - stored.keys()):
                problems.append(f"/{path}/{href}: ada di indeks, tidak ada di penyimpanan")
            for href in sorted(stored.keys() & indexed.keys()):
                if stored[href] != indexed[href]:
                    problems.append(f"/{path}/{href}: isi berbeda dari indeks")
        for row in index.items():
            if row.collection not in seen:
                problems.append(f"/{row.collection}/{row.href}: kalender tidak ada lagi")
    return problems


def progress_bar(done: int, total: int) -> None:
    """A one-line progress bar on stderr."""
    width = 30
    filled = width * done // total if total else width
    end = "\n" if done >= total else ""
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
    sys.stderr.flush()
