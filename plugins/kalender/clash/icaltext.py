"""iCalendar text around its parse: a cheap pre-scan, sentences for what is wrong, identity.

``kalender.clash.extract`` reads items through :func:`parse`; the server's
PUT plans a body before Radicale's own parser runs (``kalender.dav.preplan``),
so a body Radicale would refuse with a bare ``400 Bad Request`` is refused
here with a sentence saying what to change (RFC 5545 §3.1 content lines,
§3.4 and §3.6 BEGIN/END blocks, §3.3.14 UTC offsets).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from typing import Any

import icalendar

from kalender.clash.tz import resolve_tzid
from kalender.errors import BadCalendarError, TooManyDatesError, UnknownTimezoneError

__all__ = ["count_dates", "diagnose", "fingerprint", "parse", "split_items"]

_FOLD = re.compile(r"\r?\n[ \t]")
_CONTENT_LINE = re.compile(r"^[A-Za-z0-9-]+[;:]")
_OFFSET = re.compile(r"^[+-]([0-1][0-9]|2[0-3])[0-5][0-9]([0-5][0-9])?$")
_DATES = re.compile(r"^(BEGIN:VEVENT|END:VEVENT|EXDATE[;:].*|RDATE[;:].*)$",
                    re.IGNORECASE | re.MULTILINE)
#: What :func:`fingerprint` reads of a VEVENT: everything extract() and the matcher read.
_READ = ("UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID",
         "STATUS", "TRANSP", "CLASS", "SUMMARY", "LOCATION", "DESCRIPTION", "ATTENDEE")


def count_dates(text: str, max_exdates: int, max_rdates: int) -> None:
    """Refuse a VEVENT with too many EXDATE or RDATE values, before the costly parse.

    Values are comma-separated (RFC 5545 §3.8.5.1-2) and never contain a
    colon (basic format), so a line's values follow its last colon.
    """
    if "DATE" not in text and "date" not in text:
        return  # cheap exit (a mixed-case name is counted after the parse instead)
    counts = {"EXDATE": 0, "RDATE": 0}
    limits = {"EXDATE": max_exdates, "RDATE": max_rdates}
    for match in _DATES.finditer(_FOLD.sub("", text).replace("\r", "")):
        line = match.group(0)
        upper = line[:13].upper()
        if upper.startswith(("BEGIN:VEVENT", "END:VEVENT")):
            counts = {"EXDATE": 0, "RDATE": 0}
            continue
        name = "EXDATE" if upper.startswith("EXDATE") else "RDATE"
        counts[name] += line.rsplit(":", 1)[-1].count(",") + 1
        if counts[name] > limits[name]:
            raise TooManyDatesError(name, limits[name])


def parse(data: str | bytes | icalendar.Calendar, bare: bool = True) -> icalendar.Calendar:
    """The VCALENDAR of an item, or BadCalendarError saying why.

    ``bare``: a VEVENT without its VCALENDAR is wrapped (Radicale's PUT refuses it).
    """
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if isinstance(data, icalendar.Calendar):
        parsed = data
    else:
        try:  # icalendar warns when it guesses "/vendor/Area/City" TZIDs; we resolve them
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parsed = icalendar.Calendar.from_ical(data)
        except Exception as exc:
            assert isinstance(text, str)
            raise BadCalendarError(diagnose(text) or (
                f"Data kalender tidak dapat dibaca ({exc}); ekspor ulang kegiatan ini dari "
                "aplikasi kalender Anda.")) from exc
    for component in parsed.walk():
        for name, message in getattr(component, "errors", ()):
            if name is None:  # a line that is not "NAME;PARAMS:VALUE" at all
                found = diagnose(text) if isinstance(text, str) else None
                raise BadCalendarError(found or f"Ada baris yang bukan format iCalendar: "
                                                f"{message}")
    if parsed.name == "VEVENT" and bare:
        wrapper = icalendar.Calendar()
        wrapper.add_component(parsed)
        return wrapper
    if parsed.name != "VCALENDAR":
        raise BadCalendarError(f"Data kalender harus berupa VCALENDAR, bukan {parsed.name}; "
                               "kirim BEGIN:VCALENDAR ... END:VCALENDAR.")
    return parsed


def _short(line: str) -> str:
    """A line as quoted in a sentence."""
    return line if len(line) <= 60 else line[:57] + "..."


def diagnose(text: str) -> str | None:
    """A sentence naming the first structural fault of iCalendar text, None if none is seen."""
    lines = _FOLD.sub("", text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not any(line.strip() for line in lines):
        return ("Isi permintaan kosong; kirim data iCalendar (BEGIN:VCALENDAR ... "
                "END:VCALENDAR).")
    stack: list[tuple[str, int]] = []
    closed = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not _CONTENT_LINE.match(line):
            return (f"Baris {number} bukan format iCalendar (NAMA:NILAI): \"{_short(line)}\"; "
                    "perbaiki atau hapus baris itu.")
        name, _, value = line.partition(":")
        name, value = name.split(";", 1)[0].upper(), value.strip().upper()
        if name == "BEGIN":
            if not stack and closed:
                return ("Data memuat lebih dari satu VCALENDAR; kirim satu kalender per "
                        "permintaan.")
            stack.append((value, number))
        elif name == "END":
            if not stack:
                return (f"Baris {number}: END:{value} tanpa BEGIN:{value} sebelumnya; periksa "
                        "pasangan BEGIN/END.")
            top, begun = stack.pop()
            if top != value:
                return (f"Baris {number}: END:{value} tidak sesuai dengan BEGIN:{top} pada "
                        f"baris {begun}; tutup dulu {top} dengan END:{top}.")
            closed = not stack
        elif not stack:
            return (f"Baris {number} berada di luar BEGIN:VCALENDAR ... END:VCALENDAR; hapus "
                    "baris itu.")
        elif name in ("TZOFFSETFROM", "TZOFFSETTO") and not _OFFSET.match(value):
            return (f"Baris {number}: {name} \"{_short(value)}\" bukan selisih waktu yang sah "
                    "(RFC 5545 §3.3.14: tanda, jam dan menit kurang dari 24 jam, misalnya "
                    "+0700); gunakan zona waktu standar (misalnya Asia/Jakarta).")
    if stack:
        top, begun = stack[-1]
        return f"BEGIN:{top} pada baris {begun} tidak ditutup dengan END:{top}; lengkapi datanya."
    return None


def _prop(prop: Any) -> bytes:
    """One property value with its parameters, as text."""
    params = sorted((str(k).upper(), str(v)) for k, v in getattr(prop, "params", {}).items())
    return repr(params).encode() + b"\0" + prop.to_ical()


def fingerprint(calendar: icalendar.Calendar) -> str:
    """A digest of what extract() reads of an item: equal digests give equal bookings.

    Properties no booking depends on (DTSTAMP, alarms, X- properties other
    than Apple's structured location title) are left out, so the same event
    written by two serialisers (the client's, and vobject's inside Radicale)
    has the same digest unless something that matters differs.
    """
    digest = hashlib.sha256()
    digest.update(str(calendar.get("X-WR-TIMEZONE", "")).encode() + b"\1")
    for component in calendar.subcomponents:
        if component.name == "VTIMEZONE":
            tzid = str(component.get("TZID", ""))
            try:
                resolve_tzid(tzid, {})  # a name known without its definition: not read
                continue
            except UnknownTimezoneError:
                digest.update(component.to_ical() + b"\1")
                continue
        if component.name not in ("VEVENT", "VTODO", "VJOURNAL"):
            continue
        digest.update(component.name.encode() + b"\2")
        for name in _READ:
            for prop in _as_list(component.get(name)):
                digest.update(name.encode() + b"\3" + _prop(prop))
        for structured in _as_list(component.get("X-APPLE-STRUCTURED-LOCATION")):
            title = str(getattr(structured, "params", {}).get("X-TITLE", ""))
            digest.update(b"X-TITLE\3" + title.encode())
    return digest.hexdigest()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def split_items(calendar: icalendar.Calendar) -> list[icalendar.Calendar]:
    """A whole calendar (an import) as items, one per UID, as Radicale splits it.

    Each item keeps the calendar's VTIMEZONEs and X-WR-TIMEZONE; components
    without UID (Radicale gives them one) come last, one item each.
    """
    zones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    groups: dict[str, list[Any]] = {}
    loose: list[list[Any]] = []
    for component in calendar.subcomponents:
        if component.name not in ("VEVENT", "VTODO", "VJOURNAL"):
            continue
        uid = str(component.get("UID", "")).strip()
        if uid:
            groups.setdefault(uid, []).append(component)
        else:
            loose.append([component])
    items = []
    for members in [*groups.values(), *loose]:
        item = icalendar.Calendar()
        for name in ("VERSION", "PRODID", "X-WR-TIMEZONE"):
            if name in calendar:
                item.add(name, calendar[name])
        for component in [*zones, *members]:
            item.add_component(component)
        items.append(item)
    return items
