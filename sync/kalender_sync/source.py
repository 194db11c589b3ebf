"""Reading the OPD calendars over CalDAV, incrementally (RFC 6578 sync-collection).

A pass asks each calendar for the hrefs changed since its token (sync-collection
with ETags only), then for their data in calendar-multiget reports of
:data:`MULTIGET` hrefs (RFC 4791 §7.9): a full read of 1,500 events is 4
requests, not one GET per event.
"""

from __future__ import annotations

import posixpath
import warnings
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import caldav
from caldav.lib import error as caldav_error

from kalender.clash.index import uid_of
from kalender_sync.plan import Change
from kalender_sync.transform import Source

#: Hrefs per calendar-multiget report.
MULTIGET = 500


class Reader:
    """A CalDAV client of the server, as the sync account."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url.rstrip("/")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            client_class: Any = caldav.DAVClient
            self.client: Any = client_class(self.url + "/", username=username, password=password)

    def close(self) -> None:
        """Close the HTTP session."""
        self.client.close()

    def changes(self, opd: str, opd_name: str, token: str | None,
                known: Mapping[str, tuple[str, str]]) -> tuple[list[Change], str | None, bool]:
        """Changes since ``token`` (all items when None or refused): (changes, new token, full)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            cal = self.client.calendar(url=f"{self.url}/opd/{opd}/")
            full = token is None
            try:
                result = cal.get_objects_by_sync_token(sync_token=token, load_objects=False,
                                                       disable_fallback=True)
            except (caldav_error.DAVError, caldav_error.ReportError):
                if full:
                    raise
                full = True  # the token was refused (RFC 6578 §3.2): read everything
                result = cal.get_objects_by_sync_token(sync_token=None, load_objects=False,
                                                       disable_fallback=True)
            deleted = {_href(u) for u in getattr(result, "deleted_urls", ()) or ()}
            urls = [o.url for o in result if _href(o.url) not in deleted]
            texts: dict[str, str] = {}
            for i in range(0, len(urls), MULTIGET):
                for obj in cal.multiget(urls[i:i + MULTIGET], raise_notfound=False):
                    if obj.data:
                        texts[_href(obj.url)] = obj.data
        changes: list[Change] = []
        seen: set[str] = set()
        for url in urls:
            href = _href(url)
            seen.add(href)
            text = texts.get(href)
            if not text:  # gone between the two reports: a deletion
                changes.append(Change(opd, href, None))
                continue
            changes.append(Change(opd, href, Source(opd, opd_name, href, _uid(text, href), text)))
        for href in deleted:
            if href not in seen:
                changes.append(Change(opd, href, None))
        if full:
            changes += [Change(opd, href, None) for href in known if href not in seen]
        return changes, result.sync_token, full


def _href(url: Any) -> str:
    """The item name of an item URL."""
    path = url.path if hasattr(url, "path") else str(url)
    return unquote(posixpath.basename(str(path).rstrip("/")))


def _uid(text: str, fallback: str) -> str:
    """UID of a calendar object, read as the clash index reads it (the name if it has none)."""
    return uid_of(text) or fallback
