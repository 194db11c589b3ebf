"""What the guard writes: one planned item, and the whole change of one write.

Plain data shared by the guard (``kalender.clash.guard``), its repairs
(``kalender.clash.repair``) and the index maintenance of the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kalender import audit
from kalender.clash.extract import Extracted
from kalender.clash.rules import Booking


def opd_of(collection: str) -> str | None:
    """OPD id of a collection path such as ``opd/dinkes``."""
    return audit.opd_of("/" + collection.strip("/") + "/")


@dataclass
class Planned:
    """One item about to be written: where, and what it books."""

    collection: str  # stripped collection path, e.g. "opd/dinkes"
    href: str
    uid: str
    text: str
    extracted: Extracted | None = None  # None outside OPD calendars
    note: str | None = None

    @property
    def bookings(self) -> tuple[Booking, ...]:
        """Blocking occurrences of this item."""
        return self.extracted.bookings if self.extracted else ()


@dataclass
class Change:
    """Everything :meth:`Guard.commit` writes in one transaction."""

    put: list[tuple[Planned, str]] = field(default_factory=list)  # (item, etag)
    remove: list[tuple[str, str | None]] = field(default_factory=list)  # (collection, href)
    entries: list[tuple[str, str, str | None, str | None, str | None, str | None]] = field(
        default_factory=list)  # (action, path, href, before, after, note)
