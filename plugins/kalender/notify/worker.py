"""The notifier thread of ``kalender serve``: Bentrok calendars and mail delivery.

Every few seconds, or at once when something was posted, it makes each OPD's
Bentrok calendar (``/bentrok/<opd>/``) match the notice board, taking the
storage's write lock once for all the changes of a pass, then delivers due
mail. Nobody else writes the Bentrok calendars (the rights give PICs, leaders
and admins read access only), so the board is the whole truth and a pass
after a crash repairs anything half done.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Any

import vobject
from radicale import item as radicale_item
from radicale import storage as radicale_storage

from kalender import audit
from kalender.notify import board, mail, outbox
from kalender.notify.channel import POSTED
from kalender.notify.notice import entry_href, ics
from kalender.roles import bentrok_href

#: The actor of the notifier's writes (kept out of the audit trail: not people's changes).
ACTOR = audit.NOTIFIER_ACTOR
#: Board changes applied per storage lock.
BATCH = 50
logger = logging.getLogger("kalender")


class Notifier:
    """Applies the notice board to storage and delivers the mail queue."""

    def __init__(self, root: Path, store: radicale_storage.BaseStorage,
                 expire_days: int = 14) -> None:
        self.root = root
        self.db = root / "kalender.db"
        self.store = store
        self.expire_days = expire_days

    def apply(self, now: int) -> int:
        """Write and remove Bentrok entries as the board says; how many changed.

        The board is read inside the storage lock, so two ``kalender serve``
        processes on one deployment never write a stale entry over a newer one,
        and at most BATCH changes are made per lock, so writers wait little.
        """
        changed = 0
        # Expiring and looking are done outside the lock: a pass with nothing to
        # write never holds the storage lock, so it never stalls a PUT behind a
        # kalender.db that another process keeps busy.
        board.expire(self.db, now, self.expire_days)
        while board.pending(self.db):
            with self.store.acquire_lock("w", ACTOR, actor=ACTOR):
                items = board.pending(self.db)[:BATCH]
                written = 0
                for item in items:
                    if self._apply(item):
                        board.done(self.db, item)
                        written += 1
            changed += written
            if len(items) < BATCH or not written:
                break  # done, or only entries that wait for their calendar
        return changed

    def _apply(self, item: board.Pending) -> bool:
        """One entry written or removed (False: the OPD has no Bentrok calendar now)."""
        col = next(iter(self.store.discover(bentrok_href(item.notice.opd))), None)
        if not isinstance(col, radicale_storage.BaseCollection):
            return False  # e.g. an OPD removed meanwhile: kept until its calendar exists
        href = entry_href(item.notice.opd, item.notice.uid)
        if item.remove:
            if next(iter(col.get_multi([href])), (href, None))[1] is not None:
                col.delete(href)
        else:
            entry = radicale_item.Item(collection_path=col.path,
                                       vobject_item=vobject.readOne(ics(item.notice)))
            entry.prepare()
            col.upload(href, entry)
        return True

    def deliver(self, now: int) -> tuple[int, int]:
        """Send due mail when e-mail is set up; (sent, failed)."""
        settings = mail.load(self.root)
        if settings is None:
            return 0, 0

        def send(message: outbox.Queued) -> None:
            mail.send(settings, mail.compose(settings, message.address, message.subject,
                                             message.body))

        return outbox.deliver(self.db, send, now)

    def run_once(self, now: int | None = None) -> None:
        """One pass: calendars first (seconds matter there), then mail."""
        moment = int(time.time()) if now is None else now
        changed = self.apply(moment)
        sent, failed = self.deliver(moment)
        if changed or sent or failed:
            logger.info("Pemberitahuan: %d entri Bentrok diperbarui, %d e-mail terkirim, "
                        "%d gagal (dicoba lagi nanti)", changed, sent, failed)

    def run_forever(self, stop: threading.Event, interval: float = 5.0) -> None:
        """Passes until ``stop`` is set; a failing pass is logged and retried."""
        while not stop.is_set():
            POSTED.clear()
            try:
                self.run_once()
            except Exception as e:  # never let the thread die; the board keeps the work
                logger.error("Pemberitahuan gagal: %s", e)
            with contextlib.suppress(Exception):
                POSTED.wait(interval)


def start(root: Path, store: Any, stop: threading.Event, expire_days: int = 14
          ) -> threading.Thread:
    """The notifier in a daemon thread."""
    notifier = Notifier(root, store, expire_days)
    thread = threading.Thread(target=notifier.run_forever, args=(stop,),
                              name="kalender-notify", daemon=True)
    thread.start()
    return thread
