"""Acting on an import's plan: each item written as a CalDAV PUT would write it.

In-process, through the deployment's storage plugin (``kalender.dav.storage``)
and under Radicale's write lock, like ``kalender reindex``: no password or HTTP
round trip per item, and the audit entry can say ``import`` with the real
operator. Each item follows exactly the steps of ``Collection.upload``:
Radicale's own check of the object (``check_and_sanitize_items``, the
``[server] max_resource_size`` limit), :meth:`Guard.maintain` (crash repair),
:meth:`Guard.plan`, :meth:`Guard.check`, the journal row
(``Index.begin``), Radicale's atomic file write, and :meth:`Guard.commit`
(index and audit in one transaction). So an item is written whole or not at
all, even if the process is killed: the journal names it and the next write
repairs the index. The lock is taken per batch of items (at most
:data:`BATCH_SECONDS`), so the server's own writes are not held back for long.

History (``--riwayat``): an item whose occurrences have all ended is history.
The guard already ignores occurrences before now - 1 day; a clash of history
with bookings that have ended too (other history) is excused and noted in
the audit entry. A clash with anything still running or to come is refused as
always, and nothing of the past can block a booking that starts after now
(the intervals cannot overlap).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import vobject
from radicale import item as radicale_item
from radicale import storage as radicale_storage
from radicale.storage import multifilesystem

from kalender import audit
from kalender.admin import provision
from kalender.admin.importplan import SAME, Step
from kalender.admin.importsplit import unreadable_why
from kalender.admin.maintenance import stored_items
from kalender.clash.index import uid_of
from kalender.clash.planned import Change, Planned
from kalender.dav.storage import Storage
from kalender.deployment import Deployment
from kalender.errors import ClashError, KalenderError

__all__ = ["IMPORTED", "REFUSED", "SKIPPED", "UNREADABLE", "Importer", "Outcome"]

IMPORTED, SKIPPED, REFUSED, UNREADABLE = "diimpor", "dilewati", "ditolak", "tidak terbaca"
#: The write lock is given back to the server after this many seconds of importing.
BATCH_SECONDS = 0.5


@dataclass(frozen=True)
class Outcome:
    """What became of one step."""

    step: Step
    status: str  # IMPORTED, SKIPPED, REFUSED or UNREADABLE
    message: str = ""  # the clash sentence a PIC gets, or why it cannot be read
    history: bool = False  # written as history (clashes with other history excused)


class Importer:
    """Writes the steps of an import into one OPD calendar as ``actor``."""

    def __init__(self, dep: Deployment, opd: str, actor: str, history: bool = False) -> None:
        store = radicale_storage.load(provision.load_configuration(dep))
        assert isinstance(store, Storage)
        self.store = store
        self.dep = dep
        self.collection = f"opd/{opd}"
        self.actor = actor
        self.history = history
        configuration = store.configuration
        self.max_size = int(configuration.get("server", "max_resource_size"))
        self.max_rrule = int(configuration.get("server", "max_vevent_rrule_occurrence"))

    def stored(self) -> dict[str, tuple[str, str]]:
        """UID -> (href, text) of what the calendar holds now."""
        found: dict[str, tuple[str, str]] = {}
        with self.store.acquire_lock("r"):
            col = self._calendar()
            for href, text in stored_items(col):
                found.setdefault(uid_of(text) or href, (href, text))
        return found

    def _calendar(self) -> multifilesystem.Collection:
        """The OPD's calendar collection."""
        col = next(iter(self.store.discover(f"/{self.collection}/")), None)
        if not isinstance(col, multifilesystem.Collection):
            raise KalenderError(f"Kalender /{self.collection}/ tidak ada.")
        return col

    def run(self, steps: Sequence[Step], done: Callable[[Outcome], None],
            stopped: Callable[[], bool] = lambda: False) -> list[Outcome]:
        """Write ``steps`` in order; ``done`` hears of each; stops between items when asked."""
        outcomes: list[Outcome] = []
        todo = list(steps)
        while todo and not stopped():
            with self.store.acquire_lock("w", self.actor, actor=self.actor), self._synced():
                col = self._calendar()
                # Radicale's upload scans the calendar's whole history cache for deleted
                # items after every item (O(n) each: an import of n items would cost
                # O(n^2)); here it is done once, at the end
                setattr(col, "_clean_history", lambda: None)  # noqa: B010 - this object only
                began = time.monotonic()
                while todo and not stopped() and time.monotonic() - began < BATCH_SECONDS:
                    step = todo.pop(0)
                    outcome = (Outcome(step, SKIPPED) if step.action == SAME
                               else self.write(col, step))
                    outcomes.append(outcome)
                    done(outcome)
        if outcomes:
            with self.store.acquire_lock("w", self.actor, actor=self.actor):
                self._calendar()._clean_history()
        return outcomes

    @contextlib.contextmanager
    def _synced(self) -> Iterator[None]:
        """Within: Radicale writes each file atomically but flushes to disk once, at the end.

        Radicale fsyncs three files and their folders per item (the item, its
        cache entry, its history etag): six disk flushes that make a PUT slow
        and an import of thousands of items take an hour. A killed process
        loses nothing either way (every file is renamed into place whole); one
        ``sync`` per batch keeps the batch on disk before the lock is given back.
        """
        store: Any = self.store
        flushing = store._filesystem_fsync
        store._filesystem_fsync = False
        try:
            yield
        finally:
            store._filesystem_fsync = flushing
            if flushing:
                os.sync()

    def prepare(self, step: Step) -> radicale_item.Item:
        """Radicale's own check and serialisation of the item (what its PUT does)."""
        try:
            vobject_items = list(vobject.readComponents(step.item.text))
            radicale_item.check_and_sanitize_items(
                vobject_items, is_collection=False, tag="VCALENDAR",
                max_vevent_rrule_occurrence=self.max_rrule)
            item = radicale_item.Item(collection_path=self.collection,
                                      vobject_item=vobject_items[0])
            item.prepare()
        except Exception as e:  # vobject's and Radicale's own (English) refusals
            raise KalenderError(unreadable_why(e)) from e
        if len(item.serialize()) > self.max_size:
            raise KalenderError(f"Kegiatan ini lebih besar dari batas server "
                                f"({self.max_size} bait); perkecil lampiran atau "
                                "deskripsinya.")
        return item

    def preview(self, step: Step) -> Outcome:
        """What writing ``step`` would meet now (a dry run): reads, writes nothing.

        Judged against what the calendars hold now, not against the file's
        earlier items (those are not written in a dry run).
        """
        if step.action == SAME:
            return Outcome(step, SKIPPED)
        guard = self.store.guard
        try:
            item = self.prepare(step)
            trial = guard.trial(self.collection, item.serialize(), self.actor)
        except KalenderError as e:
            return Outcome(step, UNREADABLE, e.message)
        if trial.accepted:
            return Outcome(step, IMPORTED)
        now = guard.now()
        if (self.history and step.past and all(c.booking.end <= now and c.other.end <= now
                                               for c in trial.clashes)):
            return Outcome(step, IMPORTED, history=True)
        return Outcome(step, REFUSED, trial.message)

    def write(self, col: multifilesystem.Collection, step: Step) -> Outcome:
        """One item: plan, check, write, record (inside the write lock)."""
        guard = self.store.guard
        try:
            item = self.prepare(step)
            guard.maintain(self.store.read_item)
            planned = guard.plan(col.path, step.href, item.serialize(), item.uid)
            note, history = self._check(planned, step)
        except ClashError as e:
            audit.record_refusal(self.dep.database, self.actor, f"/{self.collection}/",
                                 step.item.uid, step.item.title, e.reason, e.message)
            return Outcome(step, REFUSED, e.message)
        except KalenderError as e:
            return Outcome(step, UNREADABLE, e.message)
        guard.index.begin(col.path, [step.href])
        try:
            new, old = multifilesystem.Collection.upload(col, step.href, item)
        except (OSError, ValueError, RuntimeError) as e:  # a full disk, a vanished folder
            # the journal row stays: the next write re-reads this item (kalender.clash.repair)
            return Outcome(step, UNREADABLE, f"Gagal disimpan ({' '.join(str(e).split())}); "
                                             "periksa ruang disk, lalu jalankan impor lagi.")
        guard.commit(Change(
            put=[(planned, new.etag)],
            entries=[("import", f"/{self.collection}/", step.href,
                      old.serialize() if old is not None else None, planned.text, note)]),
            self.actor)
        return Outcome(step, IMPORTED, history=history)

    def _check(self, planned: Planned, step: Step) -> tuple[str | None, bool]:
        """The guard's verdict; history may clash with history. (audit note, as history)."""
        guard = self.store.guard
        now = guard.now()
        history = self.history and step.past and all(b.end <= now for b in planned.bookings)
        try:
            return guard.check([planned], self.actor), history
        except ClashError as e:
            if not history or any(c.other.end > now for c in e.clashes):
                raise
            return (f"riwayat: {len(e.clashes)} bentrok dengan kegiatan yang sudah lewat "
                    "diabaikan"), True
