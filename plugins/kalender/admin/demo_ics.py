"""iCalendar text of the demo's activities (RFC 5545), in Asia/Jakarta."""

from __future__ import annotations

import datetime as dt
import re

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
VTIMEZONE_JAKARTA = (
    "BEGIN:VTIMEZONE", "TZID:Asia/Jakarta", "BEGIN:STANDARD", "DTSTART:19700101T000000",
    "TZOFFSETFROM:+0700", "TZOFFSETTO:+0700", "TZNAME:WIB", "END:STANDARD", "END:VTIMEZONE",
)


def hours(day: dt.date, span: str) -> tuple[dt.datetime, dt.datetime]:
    """``HH:MM-HH:MM`` on ``day`` in WIB."""
    a, b = span.split("-")
    return (dt.datetime.combine(day, dt.time.fromisoformat(a), WIB),
            dt.datetime.combine(day, dt.time.fromisoformat(b), WIB))


def timed(start: dt.datetime, end: dt.datetime) -> list[str]:
    """DTSTART and DTEND in Asia/Jakarta."""
    return [f"DTSTART;TZID=Asia/Jakarta:{start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Asia/Jakarta:{end:%Y%m%dT%H%M%S}"]


def all_day(day: dt.date, days: int) -> list[str]:
    """DTSTART and DTEND of an event of ``days`` whole days (DATE values)."""
    end = day + dt.timedelta(days=days)
    return [f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{end:%Y%m%d}"]


def recurrence_id(day: dt.date, start: dt.datetime) -> str:
    """RECURRENCE-ID of a series' occurrence on ``day`` (RFC 5545 §3.8.4.4)."""
    return f"RECURRENCE-ID;TZID=Asia/Jakarta:{day:%Y%m%d}T{start:%H%M%S}"


def attendee(cn: str, partstat: str) -> str:
    """An invited key person (the address is in a reserved domain: never mailed)."""
    return (f"ATTENDEE;CN={cn};ROLE=REQ-PARTICIPANT;PARTSTAT={partstat}:"
            f"mailto:{slug(cn)}@kalender-opd.invalid")


def vevent(uid: str, stamp: dt.datetime, title: str, place: str, description: str,
           klass: str, when: list[str], extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The lines of one VEVENT."""
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}", *when,
             f"SUMMARY:{escape(title)}", f"LOCATION:{escape(place)}", f"CLASS:{klass}"]
    if description:
        lines.append(f"DESCRIPTION:{escape(description)}")
    return [*lines, *extra, "END:VEVENT"]


def calendar(events: list[list[str]]) -> str:
    """A VCALENDAR holding ``events`` and the Asia/Jakarta zone."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//demo//ID",
             *VTIMEZONE_JAKARTA, *(line for event in events for line in event),
             "END:VCALENDAR", ""]
    return "\r\n".join(lines)


def slug(text: str) -> str:
    """ASCII name for UIDs and file names."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:70]


def escape(text: str) -> str:
    """TEXT escaping of RFC 5545 §3.3.11."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))
