"""Time zones of an output copy: every TZID it uses has its VTIMEZONE, named as tzdata names it.

RFC 5545 §3.2.19 / §3.6.5: a TZID parameter must match a VTIMEZONE in the same
object. Clients often send none (``TZID=WIB``) or a name only the server
understands (a Windows id such as "SE Asia Standard Time", an Outlook display
name such as "(UTC+07:00) Bangkok, Hanoi, Jakarta"); without a VTIMEZONE a
subscriber's app shows floating time. The server resolves such names
(:func:`kalender.clash.tz.resolve_tzid`); a copy says what the server
understood: the TZID parameters of DTSTART, DTEND, RDATE, EXDATE and
RECURRENCE-ID (§3.8.3.1) become the IANA name and the copy gets that zone's
VTIMEZONE, generated from tzdata over a bounded range (:data:`FIRST`..:data:`LAST`:
Asia/Jakarta has one observance, a zone with daylight saving time about 1.7 kB).

A client's VTIMEZONE whose TZID already is an IANA name is kept as it is (no
phantom update of copies that were right); one that resolves only by its own
definition keeps its TZID and definition; VTIMEZONEs no property uses are
dropped. Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from functools import cache

import icalendar

from kalender.clash.tz import resolve_tzid
from kalender.errors import UnknownTimezoneError

__all__ = ["FIRST", "LAST", "normalise", "tzids", "vtimezone"]

#: The range generated VTIMEZONEs cover; apps extend the first and last observance beyond it.
FIRST = dt.date(2000, 1, 1)
LAST = dt.date(2040, 1, 1)


@cache
def _generated(name: str, offset_seconds: int | None) -> bytes:
    """The VTIMEZONE text of an IANA zone (or of a fixed offset), cached: copies repeat them."""
    tz: dt.tzinfo = (zoneinfo.ZoneInfo(name) if offset_seconds is None
                     else dt.timezone(dt.timedelta(seconds=offset_seconds)))
    component = icalendar.Timezone.from_tzinfo(tz, tzid=name, first_date=FIRST, last_date=LAST)
    component.pop("COMMENT", None)  # "only works from ... to ...": boilerplate in every copy
    return component.to_ical()


def vtimezone(name: str, tz: dt.tzinfo | None = None) -> icalendar.Timezone:
    """A VTIMEZONE named ``name`` for tzdata's zone of that name (or the fixed offset ``tz``)."""
    offset = None
    if isinstance(tz, dt.timezone):
        delta = tz.utcoffset(None)
        offset = int(delta.total_seconds())
    return icalendar.Timezone.from_ical(_generated(name, offset))  # type: ignore[return-value]


def _values(component: icalendar.cal.Component) -> list[object]:
    """Every property value of a component (repeated properties such as EXDATE flattened)."""
    out: list[object] = []
    for value in component.values():
        out.extend(value if isinstance(value, list) else [value])
    return out


def tzids(cal: icalendar.Calendar) -> set[str]:
    """Every TZID parameter used outside the VTIMEZONEs of a calendar."""
    found: set[str] = set()
    for component in cal.walk():
        if component.name in ("VTIMEZONE", "STANDARD", "DAYLIGHT"):
            continue
        for value in _values(component):
            tzid = getattr(value, "params", {}).get("TZID")
            if tzid:
                found.add(str(tzid))
    return found


def _meaning(tzid: str, source: Mapping[str, icalendar.cal.Component]
             ) -> tuple[str, dt.tzinfo | None]:
    """(TZID the copy uses, the zone the server resolved it to; None if it resolves not)."""
    try:
        tz = resolve_tzid(tzid, source)
    except UnknownTimezoneError:
        return tzid, None  # the server refuses such items; leave an old one as it was
    if isinstance(tz, zoneinfo.ZoneInfo):
        return tz.key, tz
    return tzid, tz


def _clean(tzid: str) -> str:
    """A TZID without the spaces and quotes clients wrap around it (as ``kalender.clash.tz``)."""
    return " ".join(tzid.strip().strip("\"'").strip().rstrip(":").split())


def _named(vtimezone: icalendar.cal.Component, tzid: str) -> icalendar.cal.Component:
    """The VTIMEZONE with exactly the TZID the properties use (icalendar strips parameters)."""
    if str(vtimezone["TZID"]) != tzid:
        vtimezone.pop("TZID")
        vtimezone.add("TZID", tzid)
    return vtimezone


def normalise(copy: icalendar.Calendar, source: icalendar.Calendar) -> icalendar.Calendar:
    """Rename the TZIDs of ``copy`` to what the server understood and give each its VTIMEZONE.

    ``source`` is the item the copy was made from: its VTIMEZONEs (with their
    X-LIC-LOCATION, which copies drop) resolve the TZIDs as the server did.
    """
    given = {str(tz["TZID"]): tz for tz in source.walk("VTIMEZONE") if "TZID" in tz}
    renamed: dict[str, tuple[str, dt.tzinfo | None]] = {}
    for component in copy.walk():
        if component.name in ("VTIMEZONE", "STANDARD", "DAYLIGHT"):
            continue
        for value in _values(component):
            params = getattr(value, "params", None)
            if params is None or not params.get("TZID"):
                continue
            tzid = str(params["TZID"])
            if tzid not in renamed:
                renamed[tzid] = _meaning(tzid, given)
            params["TZID"] = renamed[tzid][0]
    kept = {_clean(str(tz["TZID"])): tz for tz in copy.subcomponents
            if tz.name == "VTIMEZONE" and "TZID" in tz}
    copy.subcomponents = [c for c in copy.subcomponents if c.name != "VTIMEZONE"]
    zones: list[icalendar.cal.Component] = []
    for old, (name, tz) in sorted(renamed.items(), key=lambda item: item[1][0]):
        if any(str(z["TZID"]) == name for z in zones):
            continue  # "WIB" and "SE Asia Standard Time" in one copy: one Asia/Jakarta
        own = kept.get(_clean(name))
        if own is not None and (name == old or not isinstance(tz, zoneinfo.ZoneInfo)):
            zones.append(_named(own, name))  # the client's own, already named as tzdata names it
        elif isinstance(tz, (zoneinfo.ZoneInfo, dt.timezone)):
            zones.append(vtimezone(name, tz))
        elif own is not None:
            zones.append(_named(own, name))
    # VTIMEZONEs first, as clients write them (RFC 5545 §3.6: any order is valid)
    copy.subcomponents = [*zones, *copy.subcomponents]
    return copy
