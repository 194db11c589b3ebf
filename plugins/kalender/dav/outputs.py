"""The output calendars as CalDAV collections, served from the sync's ``sync.db``.

``/publik/agenda/``, ``/pimpinan/agenda/``, ``/ruang/<id>/`` and ``/orang/<id>/``
are written by the sync service only, in one SQLite transaction per pass
(``kalender_sync.state.State.apply``). Their folders under ``collection-root``
keep only the calendar's properties (``.Radicale.props``: name, colour); the
items, ETags, Last-Modified and RFC 6578 sync tokens come from
``kalender_sync.served``. So:

- writing the outputs never takes Radicale's storage lock: an OPD's PUT does
  not wait behind a sync pass (issue 12);
- reading them does not either (``Storage.acquire_lock``), as a subscriber's
  feed GET already did not (``kalender.dav.feeds``): readers never hold writers;
- nobody else writes them: a PUT, DELETE or MOVE answers 403 with the reason.

The semantics stay CalDAV's: ``sync`` returns the copies logged after a token
(deleted ones answer 404 in the sync-collection report, RFC 6578 §3.5), an old
or foreign token raises ``ValueError`` (Radicale answers 403
DAV:valid-sync-token, the client then reads the calendar afresh, RFC 6578
§3.2), multiget and calendar-query read the rows asked for; a time-range query
is narrowed by the sync's spans and then judged by Radicale's own filters.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any, cast
from xml.etree import ElementTree as ET

from radicale import item as radicale_item
from radicale import pathutils
from radicale.item import filter as radicale_filter
from radicale.storage import multifilesystem

from kalender.clash.index import uid_of
from kalender.errors import ForbiddenChangeError
from kalender_sync.served import Copy, Served

#: The output calendars' paths (without slashes), as the sync writes them.
CALENDARS = r"publik/agenda|pimpinan/agenda|ruang/[a-z0-9-]+|orang/[a-z0-9-]+"
_CALENDAR = re.compile(rf"^(?:{CALENDARS})$")
_TOKEN = re.compile(r"^http://radicale\.org/ns/sync/kalender-([0-9a-f]+)-(\d+)$")
#: Last-Modified of what was never logged (an empty calendar): when this process began.
_STARTED = int(time.time())
READ_ONLY = ("Kalender ini disusun otomatis dari kalender OPD; ubah kegiatannya di kalender "
             "OPD penyelenggara, perubahan tampil di sini dalam beberapa detik.")


def split(path: str) -> tuple[str, str | None] | None:
    """(calendar, item name or None) when ``path`` is an output calendar or one of its items."""
    try:
        sane = pathutils.strip_path(pathutils.sanitize_path(path))
    except ValueError:
        return None
    if _CALENDAR.match(sane):
        return sane, None
    calendar, _, href = sane.rpartition("/")
    if _CALENDAR.match(calendar) and pathutils.is_safe_filesystem_path_component(href):
        return calendar, href
    return None


def is_output(path: str) -> bool:
    """True for an output calendar or an item in one (its reads need no storage lock)."""
    return split(path) is not None


def is_calendar(path: str) -> bool:
    """True for an output calendar's own path (not an item in it)."""
    found = split(path)
    return found is not None and found[1] is None


def refused() -> ForbiddenChangeError:
    """The refusal of any write into an output calendar."""
    return ForbiddenChangeError(READ_ONLY)


def _http_date(stamp: int) -> str:
    """RFC 9110 §5.6.7 HTTP-date of epoch seconds."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(stamp))


class OutputPart:
    """The read side of an output calendar; mixed in before ``kalender.dav.storage.Collection``."""

    _storage: Any  # kalender.dav.storage.Storage (which imports this module)
    path: str

    @property
    def _served(self) -> Served:
        """The sync.db reader of the deployment."""
        return self._storage.served

    def _item(self, copy: Copy) -> radicale_item.Item:
        """A Radicale item of one copy (nothing parsed until a filter asks)."""
        return radicale_item.Item(
            collection=self, href=copy.href, text=copy.text,  # type: ignore[arg-type]
            uid=uid_of(copy.text) or copy.href, component_name="VEVENT",
            last_modified=_http_date(copy.stamp or _STARTED))

    def _list(self) -> Iterator[str]:
        """Names of the copies."""
        yield from self._served.hrefs(self.path)

    def _get(self, href: str, verify_href: bool = True) -> radicale_item.Item | None:
        """One copy, or None."""
        found = next(iter(self._served.copies(self.path, [href])), None)
        return self._item(found) if found is not None else None

    def get_multi(self, hrefs: Iterable[str]
                  ) -> Iterator[tuple[str, radicale_item.Item | None]]:
        """calendar-multiget (RFC 4791 §7.9) and sync-collection: the copies named."""
        wanted = list(hrefs)
        found = {c.href: c for c in self._served.copies(self.path, wanted)}
        for href in dict.fromkeys(wanted):
            copy = found.get(href)
            yield href, self._item(copy) if copy is not None else None

    def get_all(self) -> Iterator[radicale_item.Item]:
        """Every copy."""
        for copy in self._served.copies(self.path):
            yield self._item(copy)

    def get_filtered(self, filters: Iterable[ET.Element]
                     ) -> Iterator[tuple[radicale_item.Item, bool]]:
        """calendar-query (RFC 4791 §7.8): the copies whose span meets the time range.

        The spans are the sync's envelopes of the source's occurrences, so each
        candidate is still judged by Radicale's filters (``False``: not matched yet).
        """
        tag, start, end, _simple = radicale_filter.simplify_prefilters(filters, "VCALENDAR")
        if tag not in (None, "VEVENT"):
            return
        for copy in self._served.copies(self.path, window=(start, end)):
            yield self._item(copy), False

    def has_uid(self, uid: str) -> bool:
        """A PUT into an output is refused anyway; no copy is looked up."""
        return False

    def sync(self, old_token: str = "") -> tuple[str, Iterable[str]]:
        """RFC 6578: the token now and the copies changed (or deleted) since ``old_token``."""
        pos = self._served.position(self.path)
        token = f"http://radicale.org/ns/sync/kalender-{pos.ident}-{pos.seq}"
        if not old_token:
            return token, self._served.hrefs(self.path)
        match = _TOKEN.match(old_token)
        if match is None or match.group(1) != pos.ident or int(match.group(2)) > pos.seq:
            raise ValueError(f"sync token {old_token!r} is not one of this calendar's")
        return token, self._served.changed(self.path, int(match.group(2)))

    @property
    def etag(self) -> str:
        """The calendar's ETag: changes with every transaction that changes it, and its props."""
        pos = self._served.position(self.path)
        meta = repr(sorted(self._storage_meta().items()))
        digest = hashlib.sha256(f"{pos.ident}/{self.path}/{pos.seq}/{pos.count}/{meta}"
                                .encode()).hexdigest()
        return f'"{digest}"'

    @property
    def last_modified(self) -> str:
        """The last change of a copy (or when this sync.db began serving)."""
        return _http_date(self._served.position(self.path).stamp or _STARTED)

    def _storage_meta(self) -> dict[str, Any]:
        """The calendar's shared properties (.Radicale.props)."""
        return dict(multifilesystem.Collection.get_meta(cast(multifilesystem.Collection, self)))
