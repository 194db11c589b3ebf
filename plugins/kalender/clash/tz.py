"""Resolve a TZID as real clients send it to a ``tzinfo``.

RFC 5545 §3.2.19 makes a TZID an opaque label whose meaning is given by a
VTIMEZONE in the same object (§3.6.5). Clients differ wildly: IANA names,
Windows ids ("SE Asia Standard Time"), Outlook display names ("(UTC+07:00)
Bangkok, Hanoi, Jakarta", "Kuala Lumpur, Singapore"), Evolution's
"/freeassociation.sourceforge.net/Tzfile/Europe/Vienna", localized names
with trailing spaces, quotes or a stray colon. Order of resolution:

1. an IANA name (exact, then case-insensitive); a fixed "UTC+07:00";
2. a Windows id (icalendar's CLDR table), then an Outlook display name;
3. the IANA name at the end of a "/vendor/.../Area/City" path;
4. the VTIMEZONE's X-LIC-LOCATION, when it names an IANA zone;
5. the embedded VTIMEZONE definition itself (offsets with seconds work).

A name known to tzdata wins over a contradicting VTIMEZONE: tzdata is
maintained, a client's VTIMEZONE is often truncated or stale. If nothing
resolves we raise :class:`UnknownTimezoneError`: a zoned time never silently
becomes floating. Floating times and all-day dates are :data:`JAKARTA` (WIB).
"""

from __future__ import annotations

import re
import threading
import zoneinfo
from collections.abc import Mapping
from datetime import timedelta, timezone, tzinfo
from functools import cache
from typing import Any

from icalendar import Component
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from kalender.errors import UnknownTimezoneError

__all__ = ["JAKARTA", "resolve_tzid"]

#: Kota Kediri is in WIB (UTC+7, no daylight saving time).
JAKARTA: tzinfo = zoneinfo.ZoneInfo("Asia/Jakarta")

# Outlook/Windows display names and local names, keyed by _squash() of the
# name without its "(UTC+hh:mm)" prefix. Indonesia's three zones come first.
_DISPLAY = {
    "Asia/Jakarta": ["Bangkok, Hanoi, Jakarta", "Jakarta", "WIB", "Waktu Indonesia Barat",
                     "Western Indonesia Time", "Western Indonesian Time",
                     "SE Asia Standard Time"],  # CLDR says Asia/Bangkok; same offset, ours
    "Asia/Makassar": ["WITA", "Waktu Indonesia Tengah", "Central Indonesia Time",
                      "Central Indonesian Time", "Makassar"],
    "Asia/Jayapura": ["WIT", "Waktu Indonesia Timur", "Eastern Indonesia Time",
                      "Eastern Indonesian Time", "Jayapura"],
    "Asia/Singapore": ["Kuala Lumpur, Singapore"],
    "Asia/Shanghai": ["Beijing, Chongqing, Hong Kong, Urumqi"],
    "Asia/Taipei": ["Taipei"],
    "Asia/Tokyo": ["Osaka, Sapporo, Tokyo"],
    "Asia/Seoul": ["Seoul"],
    "Asia/Kolkata": ["Chennai, Kolkata, Mumbai, New Delhi"],
    "Asia/Dubai": ["Abu Dhabi, Muscat"],
    "Asia/Riyadh": ["Kuwait, Riyadh"],
    "Asia/Yekaterinburg": ["Ekaterinburg", "Yekaterinburg", "Екатеринбург"],
    "Australia/Sydney": ["Canberra, Melbourne, Sydney"],
    "Australia/Brisbane": ["Brisbane"],
    "Australia/Perth": ["Perth"],
    "Pacific/Auckland": ["Auckland, Wellington"],
    "Europe/Berlin": ["Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
                      "Mitteleuropäische Zeit", "Mitteleuropäische Sommerzeit"],
    "Europe/Paris": ["Brussels, Copenhagen, Madrid, Paris"],
    "Europe/Budapest": ["Belgrade, Bratislava, Budapest, Ljubljana, Prague"],
    "Europe/Warsaw": ["Sarajevo, Skopje, Warsaw, Zagreb"],
    "Europe/London": ["Dublin, Edinburgh, Lisbon, London",
                      "Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London"],
    "Europe/Moscow": ["Moscow, St. Petersburg", "Moscow, St. Petersburg, Volgograd"],
    "Europe/Istanbul": ["Istanbul"],
    "America/New_York": ["Eastern Time (US & Canada)"],
    "America/Chicago": ["Central Time (US & Canada)"],
    "America/Denver": ["Mountain Time (US & Canada)"],
    "America/Los_Angeles": ["Pacific Time (US & Canada)", "Pacific Time (US & Canada); Tijuana"],
    "UTC": ["UTC", "GMT", "Z", "Coordinated Universal Time", "Universal", "Zulu"],
}

_PREFIX = re.compile(r"^\(\s*(?:utc|gmt)\s*(?:[+-−]\s*\d{1,2}(?:[:.]?\d{2})?)?\s*\)\s*", re.I)
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-−])\s*(\d{1,2})(?:[:.]?(\d{2}))?$", re.I)


def _squash(name: str) -> str:
    """Case-fold and keep letters and digits only: spacing and commas vary by client."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


def _clean(tzid: str) -> str:
    """Strip what clients wrap around a TZID: spaces, quotes, a trailing colon."""
    return " ".join(tzid.strip().strip("\"'").strip().rstrip(":").split())


@cache
def _iana() -> dict[str, str]:
    """Case-folded IANA name -> canonical spelling, computed once."""
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


@cache
def _named() -> dict[str, str]:
    """Squashed Windows id or display name -> IANA name."""
    table = {_squash(win): olson for win, olson in WINDOWS_TO_OLSON.items()}
    for olson, names in _DISPLAY.items():
        table.update({_squash(n): olson for n in names})
    return table


def _zone(name: str) -> tzinfo | None:
    """The tzdata zone of that name (any case), or None; never touches odd paths."""
    canonical = _iana().get(name.casefold())
    return zoneinfo.ZoneInfo(canonical) if canonical else None


def _by_name(name: str) -> tzinfo | None:
    """Steps 1-3 of the module docstring: everything that needs no VTIMEZONE."""
    if (tz := _zone(name)) is not None:
        return tz
    if match := _OFFSET.match(name):
        sign = -1 if match[1] in "-−" else 1
        offset = timedelta(hours=int(match[2]), minutes=int(match[3] or 0))
        if offset >= timedelta(hours=24):  # "UTC+30" is no zone (RFC 5545 §3.3.14)
            return None
        return timezone(sign * offset)
    without_prefix = _PREFIX.sub("", name)
    olson = _named().get(_squash(name)) or _named().get(_squash(without_prefix))
    if olson and (tz := _zone(olson)) is not None:
        return tz
    if name.startswith("/"):
        parts = [p for p in name.split("/") if p]
        for i in range(1, len(parts)):  # longest suffix first: America/Argentina/Salta
            if (tz := _zone("/".join(parts[i:]))) is not None:
                return tz
    return None


_DEFINITIONS: dict[bytes, tzinfo | None] = {}
_DEFINITIONS_LOCK = threading.Lock()


def _from_definition(vtimezone: Component) -> tzinfo | None:
    """Build a tzinfo from a VTIMEZONE; cached by its text because clients repeat them."""
    key = vtimezone.to_ical()
    with _DEFINITIONS_LOCK:  # server threads share the cache
        if key in _DEFINITIONS:
            return _DEFINITIONS[key]
    try:
        built: tzinfo | None = tzp.create_timezone(vtimezone)  # type: ignore[arg-type]
    except Exception:
        built = None
    with _DEFINITIONS_LOCK:
        if len(_DEFINITIONS) >= 256:  # bounded: TZIDs come from untrusted clients
            _DEFINITIONS.clear()
        _DEFINITIONS[key] = built
    return built


def _find(name: str, vtimezones: Mapping[str, Any]) -> Any:
    """The VTIMEZONE for a TZID, tolerating the same spelling noise as the name."""
    if name in vtimezones:
        return vtimezones[name]
    for key, component in vtimezones.items():
        if _clean(str(key)) == name:
            return component
    return None


def resolve_tzid(tzid: str, vtimezones: Mapping[str, Component]) -> tzinfo:
    """Resolve a TZID (and the VTIMEZONEs of its object, by TZID) to a tzinfo."""
    name = _clean(str(tzid))
    if name and (tz := _by_name(name)) is not None:
        return tz
    vtimezone = _find(name, vtimezones) if name else None
    if vtimezone is not None:
        location = vtimezone.get("X-LIC-LOCATION")
        if location and (tz := _by_name(_clean(str(location)))) is not None:
            return tz
        tz = _from_definition(vtimezone)
        if tz is not None:
            return tz
    raise UnknownTimezoneError(str(tzid).strip())
