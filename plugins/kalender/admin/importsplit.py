"""An exported calendar file as items: one UID each, with the time zones it uses.

``kalender import`` reads what Google Calendar, Outlook and Thunderbird export:
one VCALENDAR holding every event. A CalDAV calendar stores one object per
UID instead: the master VEVENT and its RECURRENCE-ID overrides together
(RFC 5545 §3.8.4.4, RFC 4791 §4.1), so :func:`split` groups the components by
UID, copies into each item the VTIMEZONEs its TZIDs name (RFC 5545 §3.6.5)
and the calendar's X-WR-TIMEZONE (Google writes UTC and means that zone), and
drops METHOD (a stored calendar object has none, RFC 4791 §4.1). To-dos,
journal entries and free/busy blocks are counted, not imported (an OPD
calendar holds events only). An event without UID gets one derived from its
content, so a second import of the same file finds it again. Pure: no
storage, no clock.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import icalendar

from kalender.admin.importtime import span
from kalender.clash.icaltext import parse
from kalender.errors import BadCalendarError

__all__ = ["Item", "Split", "Unreadable", "content_key", "split"]

#: Components an OPD calendar does not hold: counted and reported, never imported.
SKIPPED = ("VTODO", "VJOURNAL", "VFREEBUSY")
#: Properties that change on every export without the event changing (RFC 5545 §3.8.7.2).
_VOLATILE = frozenset({"DTSTAMP"})
#: Calendar properties each item keeps (METHOD is for iTIP messages, not stored objects).
_KEPT = ("VERSION", "PRODID", "CALSCALE", "X-WR-TIMEZONE")
_TZ_PROPERTIES = ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "EXDATE", "RDATE")
_NO_UID_PREFIX = "kalender-impor-"


@dataclass(frozen=True)
class Item:
    """One calendar object to import: a UID, its text and when it happens."""

    uid: str
    text: str  # one VCALENDAR: the UID's VEVENTs and the VTIMEZONEs they use
    title: str
    start: int  # epoch of the earliest DTSTART (the import goes in this order)
    end: int | None  # when the last occurrence ends; None: a series without end
    key: str  # content_key: equal keys, same event
    made_uid: bool = False  # the file gave no UID: derived from the content


@dataclass(frozen=True)
class Unreadable:
    """Something of the file that cannot be imported, and why (for people)."""

    uid: str
    title: str
    why: str


@dataclass(frozen=True)
class Split:
    """A whole file as items, plus what was left out."""

    items: tuple[Item, ...]
    unreadable: tuple[Unreadable, ...]
    skipped: tuple[tuple[str, int], ...]  # (component name, count), e.g. ("VTODO", 3)
    duplicates: tuple[str, ...]  # UIDs given more than once (the newest copy is kept)


def _prop_line(name: str, prop: Any) -> str:
    """A property with sorted parameters, as text."""
    # VALUE is left out: its type shows in the value's text, and serialisers drop the
    # default one (vobject writes TRIGGER;VALUE=DURATION as TRIGGER, RFC 5545 §3.8.6.3)
    params = sorted((str(k).upper(), str(v)) for k, v in getattr(prop, "params", {}).items()
                    if str(k).upper() != "VALUE")
    value = prop.to_ical() if hasattr(prop, "to_ical") else str(prop).encode()
    return f"{name};{params}:{value.decode('utf-8', 'replace')}"


def _component_lines(component: Any) -> list[str]:
    """Every property and subcomponent (alarms) of ``component``, in a stable order."""
    lines = []
    for name, value in component.property_items(recursive=False, sorted=False):
        if name in ("BEGIN", "END") or name in _VOLATILE:
            continue
        for prop in value if isinstance(value, list) else [value]:
            lines.append(_prop_line(name, prop))
    lines.sort()
    for sub in component.subcomponents:
        lines.append("BEGIN:" + sub.name)
        lines.extend(_component_lines(sub))
        lines.append("END:" + sub.name)
    return lines


def content_key(components: Iterable[Any]) -> str:
    """A digest of the events (not their zones, not DTSTAMP): what "the same event" means.

    Read from a parse, so the file's folding and escaping and the storage's
    serialisation of the same data give the same key.
    """
    digest = hashlib.sha256()
    blocks = sorted("\n".join(_component_lines(c)) for c in components
                    if c.name != "VTIMEZONE")
    for block in blocks:
        digest.update(block.encode() + b"\0")
    return digest.hexdigest()


def _rank(component: Any) -> tuple[int, str]:
    """Which copy of a component given twice is the newest (RFC 5546 §2.1.5: SEQUENCE)."""
    try:
        sequence = int(str(component.get("SEQUENCE", 0)))
    except ValueError:
        sequence = 0
    modified = component.get("LAST-MODIFIED") or component.get("DTSTAMP")
    return sequence, modified.to_ical().decode() if modified is not None else ""


def _zones_used(components: Iterable[Any]) -> set[str]:
    """The TZIDs the components' times name."""
    used = set()
    for component in components:
        for name in _TZ_PROPERTIES:
            value = component.get(name)
            for prop in value if isinstance(value, list) else [value]:
                tzid = getattr(prop, "params", {}).get("TZID") if prop is not None else None
                if tzid:
                    used.add(str(tzid))
    return used


def _title(components: list[Any]) -> str:
    """The master's SUMMARY (else the first one's)."""
    masters = [c for c in components if c.get("RECURRENCE-ID") is None] or components
    return " ".join(str(masters[0].get("SUMMARY", "")).split()) or "(tanpa judul)"


def split(text: str) -> Split:
    """The items of a whole exported calendar; raises BadCalendarError if it is not one."""
    calendar = parse(text, bare=False)
    zones = {str(z.get("TZID", "")): z for z in calendar.walk("VTIMEZONE")}
    skipped: dict[str, int] = {}
    groups: dict[str, dict[str, Any]] = {}  # uid -> RECURRENCE-ID text ("" master) -> VEVENT
    made: set[str] = set()
    duplicates: list[str] = []
    for component in calendar.subcomponents:
        if component.name in SKIPPED:
            skipped[component.name] = skipped.get(component.name, 0) + 1
            continue
        if component.name != "VEVENT":
            continue
        uid = " ".join(str(component.get("UID", "")).split())
        if not uid:
            uid = _NO_UID_PREFIX + content_key([component])[:24]
            component["UID"] = uid
            made.add(uid)
        rid = component.get("RECURRENCE-ID")
        which = rid.to_ical().decode() if rid is not None else ""
        members = groups.setdefault(uid, {})
        known = members.get(which)
        if known is not None:  # given twice (an export of two calendars): the newest wins
            if uid not in duplicates:
                duplicates.append(uid)
            if _rank(component) < _rank(known):
                continue
        members[which] = component
    items: list[Item] = []
    unreadable: list[Unreadable] = []
    for uid, members in groups.items():
        components = list(members.values())
        try:
            items.append(_item(calendar, zones, uid, components, uid in made))
        except BadCalendarError as e:
            unreadable.append(Unreadable(uid, _title(components), e.message))
        except Exception as e:  # icalendar's broken properties (BrokenCalendarProperty, ...)
            unreadable.append(Unreadable(uid, _title(components), unreadable_why(e)))
    items.sort(key=lambda i: (i.start, i.uid))
    return Split(tuple(items), tuple(unreadable), tuple(sorted(skipped.items())),
                 tuple(duplicates))


def unreadable_why(error: Exception) -> str:
    """The sentence of a component the iCalendar library could not read."""
    return (f"Data kegiatan tidak dapat dibaca ({' '.join(str(error).split())}); perbaiki "
            "kegiatan ini di aplikasi asalnya lalu ekspor ulang.")


def _item(calendar: icalendar.Calendar, zones: dict[str, Any], uid: str,
          components: list[Any], made_uid: bool) -> Item:
    """One item of ``components`` (one UID), with the zones they use."""
    item = icalendar.Calendar()
    for name in _KEPT:
        if name in calendar:
            item.add(name, calendar[name])
    if "VERSION" not in item:
        item.add("VERSION", "2.0")
    if "PRODID" not in item:
        item.add("PRODID", "-//Kalender OPD//impor//ID")
    for tzid in sorted(_zones_used(components)):
        if tzid in zones:
            item.add_component(zones[tzid])
    # the master first, then its overrides in order (what clients write themselves)
    components.sort(key=lambda c: (c.get("RECURRENCE-ID") is not None,
                                   c.get("RECURRENCE-ID").to_ical()
                                   if c.get("RECURRENCE-ID") is not None else b""))
    for component in components:
        item.add_component(component)
    start, end = span(item, zones)
    text = item.to_ical().decode("utf-8")
    return Item(uid, text, _title(components), start, end, content_key(components), made_uid)


_SAFE_HREF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9@._-]{0,120}$")


def href_for(uid: str, taken: set[str]) -> str:
    """The file name of a new item: its UID when safe (what clients use), else a digest."""
    name = f"{uid}.ics" if _SAFE_HREF.match(uid) and ".." not in uid else ""
    if not name or name in taken:
        name = "impor-" + hashlib.sha256(uid.encode()).hexdigest()[:32] + ".ics"
    return name
