"""Which OPD calendars changed since the sync service last looked (in this process).

The storage plugin notes every committed change to an OPD calendar; the sync
service, running in the same ``kalender serve`` process, takes the set and
reads only those calendars (a sync-collection REPORT costs time in proportion
to a calendar's size, so reading all 40 after every change would not scale).
Changes made through another process are caught by the service's periodic
full pass.
"""

from __future__ import annotations

import threading


class ChangeSet:
    """A set of OPD ids with an event that is set while the set is non-empty."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._opds: set[str] = set()
        self.event = threading.Event()

    def note(self, opds: set[str]) -> None:
        """Record changed OPD calendars and wake the waiter."""
        if not opds:
            return
        with self._lock:
            self._opds |= opds
        self.event.set()

    def take(self) -> set[str]:
        """The changed OPD ids so far (and forget them)."""
        with self._lock:
            taken, self._opds = self._opds, set()
            self.event.clear()
        return taken

    def wake(self) -> None:
        """Wake the waiter without a change (e.g. to stop)."""
        self.event.set()


#: The changes of this process (filled by kalender.dav.storage, read by kalender_sync).
CHANGES = ChangeSet()
