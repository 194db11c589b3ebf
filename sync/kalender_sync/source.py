"""Reading the OPD calendars over CalDAV, incrementally (RFC 6578 sync-collection)."""

from __future__ import annotations

import posixpath
import warnings
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import caldav
import icalendar
from caldav.lib import error as caldav_error

from kalender_sync.plan import Change
from kalender_sync.transform import Source


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
                result = cal.get_objects_by_sync_token(sync_token=token, load_objects=True,
                                                       disable_fallback=True)
            except (caldav_error.DAVError, caldav_error.ReportError):
                if full:
                    raise
                full = True  # the token was refused (RFC 6578 §3.2): read everything
                result = cal.get_objects_by_sync_token(sync_token=None, load_objects=True,
                                                       disable_fallback=True)
        changes: list[Change] = []
        seen: set[str] = set()
        for obj in result:
            href = unquote(posixpath.basename(str(obj.url.path)))
            seen.add(href)
            text = obj.data
            if not text:
                changes.append(Change(opd, href, None))
                continue
            changes.append(Change(opd, href, Source(opd, opd_name, href, _uid(text, href), text)))
        for url in getattr(result, "deleted_urls", ()) or ():
            href = unquote(posixpath.basename(str(url).rstrip("/")))
            if href not in seen:
                changes.append(Change(opd, href, None))
        if full:
            changes += [Change(opd, href, None) for href in known if href not in seen]
        return changes, result.sync_token, full


def _uid(text: str, fallback: str) -> str:
    """UID of a calendar object (the file name if it has none)."""
    try:
        for event in icalendar.Calendar.from_ical(text).walk("VEVENT"):
            if event.get("UID"):
                return str(event["UID"])
    except ValueError:
        pass
    return fallback
