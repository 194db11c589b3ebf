"""What a raw iCalendar body says of its event, read without parsing it.

A refused write is recorded and told to its OPD from the request body as it
came: the body may be unreadable for a parser (that may be why it was
refused), so one linear pass over the unfolded lines (RFC 5545 §3.1) picks
the series' UID, SUMMARY, DTSTART, DTEND and LOCATION. Alarms (VALARM inside
the VEVENT) never count.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator

from kalender.clash.tz import JAKARTA, resolve_tzid

#: Characters of the body searched for the UID and title (both sit near the start).
SCANNED = 262_144
_WANTED = ("UID", "SUMMARY", "RECURRENCE-ID", "DTSTART", "DTEND", "LOCATION")


def _unescaped(text: str) -> str:
    """A TEXT value without its escapes (RFC 5545 §3.3.11)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _events(text: str) -> Iterator[dict[str, str]]:
    """UID, SUMMARY and RECURRENCE-ID of each VEVENT, alarms skipped; one pass, linear."""
    event: dict[str, str] | None = None
    nested = 0
    for line in text.splitlines():
        head, _, value = line.partition(":")
        name, _, params = head.partition(";")
        name = name.strip().upper()
        if name == "BEGIN":
            if event is None and value.strip().upper() == "VEVENT":
                event, nested = {}, 0
            elif event is not None:
                nested += 1
        elif name == "END" and event is not None:
            if nested:
                nested -= 1
            else:
                yield event
                event = None
        elif event is not None and not nested and name in _WANTED:
            event.setdefault(name, value.strip())
            event.setdefault(name + ";", params)  # e.g. TZID=Asia/Jakarta
    if event is not None:
        yield event  # a body cut short (missing END) still names its event


def event_fields(body: str) -> dict[str, str]:
    """UID, SUMMARY, DTSTART, DTEND, LOCATION (and ``NAME;`` parameters) of the series.

    The series is the VEVENT without RECURRENCE-ID (else the first one); an
    alarm's properties never count. Empty when nothing can be read.
    """
    text = body[:SCANNED].replace("\r\n ", "").replace("\r\n\t", "")
    text = text.replace("\n ", "").replace("\n\t", "")
    first: dict[str, str] | None = None
    for event in _events(text):
        first = first or event
        if "RECURRENCE-ID" not in event:
            first = event
            break
    return first or {}


def event_identity(body: str) -> tuple[str, str]:
    """(UID, own title) of the event in an iCalendar body; '' for what cannot be read."""
    fields = event_fields(body)
    return fields.get("UID", "")[:500], _unescaped(fields.get("SUMMARY", ""))[:200]


def event_place(fields: dict[str, str]) -> str:
    """The LOCATION of ``event_fields``, unescaped."""
    return _unescaped(fields.get("LOCATION", ""))[:200]


def event_time(fields: dict[str, str], name: str = "DTSTART") -> int | None:
    """Epoch of DTSTART (or DTEND) as written: UTC, a TZID we resolve, else WIB; or None."""
    value = fields.get(name, "")
    match = re.fullmatch(r"(\d{8})(?:T(\d{6})(Z?))?", value)
    if match is None:
        return None
    zone: dt.tzinfo = JAKARTA
    if match.group(3):
        zone = dt.UTC
    elif tzid := re.search(r"TZID=\"?([^;\"]+)", fields.get(name + ";", ""), re.I):
        with contextlib.suppress(Exception):  # an unknown zone: read the time as WIB
            zone = resolve_tzid(tzid.group(1), {})
    try:
        moment = dt.datetime.strptime(match.group(1) + (match.group(2) or "000000"),
                                      "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return int(moment.replace(tzinfo=zone).timestamp())
