"""What each output calendar holds of one source event: pure functions, no I/O.

A *source* is one stored item of an OPD calendar (a VCALENDAR with one UID: the
master VEVENT and its RECURRENCE-ID overrides, RFC 5545 §3.8.4.4). Each output
copy keeps the recurrence intact (RRULE, RDATE, EXDATE, overrides) and gets a
UID of its own, stable and unique across OPD (:func:`output_uid`).

Outputs carry no DTSTAMP or SEQUENCE: the planner (``kalender_sync.plan``)
adds them, changing them only when the content changes, so subscribers see no
phantom updates (RFC 5546 §2.1.4: SEQUENCE grows with significant changes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import icalendar

from kalender.visibility import (
    KEPT,
    PUBLIC_PROPERTIES,
    Audience,
    Shown,
    classes_of,
    label,
    public_text,
    shown,
)
from kalender_sync.occurrences import category_values, organiser_line

__all__ = ["PUBLIC_PROPERTIES", "Source", "content_key", "full_copy", "occupancy_copy",
           "output_href", "output_uid", "parse", "public_copy", "public_text", "stamped"]

#: Properties dropped from full-detail copies too: reminders are the PIC's, not the reader's.
PRIVATE_COMPONENTS = frozenset({"VALARM"})


@dataclass(frozen=True)
class Source:
    """One stored event of an OPD calendar."""

    opd: str
    opd_name: str
    href: str
    uid: str
    text: str


def output_uid(opd: str, uid: str) -> str:
    """UID of every copy of a source: stable, unique across OPD (same UID in two OPD differs)."""
    digest = hashlib.sha256(f"{opd}\0{uid}".encode()).hexdigest()[:32]
    return f"{digest}@kalender-opd"


def output_href(opd: str, uid: str) -> str:
    """File name of the copies of a source in an output calendar."""
    return output_uid(opd, uid).split("@")[0] + ".ics"


def parse(src: Source) -> icalendar.Calendar:
    """The source as an icalendar object (raises ValueError on bad data)."""
    cal = icalendar.Calendar.from_ical(src.text)
    if not any(True for _ in cal.walk("VEVENT")):
        raise ValueError("no VEVENT")
    return cal


def _shell(cal: icalendar.Calendar) -> icalendar.Calendar:
    """A new VCALENDAR with the source's VTIMEZONEs (needed by zoned times, §3.6.5)."""
    out = icalendar.Calendar()
    out.add("PRODID", "-//Pemerintah Kota Kediri//Kalender OPD//ID")
    out.add("VERSION", "2.0")
    for tz in cal.walk("VTIMEZONE"):
        out.add_component(_without_x(tz))
    return out


def _without_x(component: icalendar.cal.Component) -> icalendar.cal.Component:
    """A copy of a component tree without X- properties (e.g. X-LIC-LOCATION)."""
    new = icalendar.cal.Component.from_ical(component.to_ical())
    for part in new.walk():
        for name in [n for n in part if n.startswith("X-")]:
            del part[name]
    return new


def _copy_event(event: icalendar.cal.Component, keep: Iterable[str] | None) -> icalendar.Event:
    """A copy of ``event`` with only ``keep`` properties (all if None), no sub-components."""
    new = icalendar.Event()
    allowed = set(keep) if keep is not None else None
    for name, value in event.property_items(recursive=False, sorted=False):
        if name in ("BEGIN", "END", "DTSTAMP", "SEQUENCE"):
            continue
        if allowed is not None and name not in allowed:
            continue
        if allowed is not None and hasattr(value, "params"):
            # e.g. LOCATION;ALTREP=... or X- parameters could carry addresses
            value.params = icalendar.Parameters(
                {k: v for k, v in value.params.items() if k in ("TZID", "VALUE", "RANGE")})
        new.add(name, value, encode=False)
    return new


def _organiser_note(event: icalendar.Event, opd_name: str) -> None:
    """Name the organising OPD in CATEGORIES (after the PIC's own) and a DESCRIPTION line."""
    own = category_values(event.pop("CATEGORIES", None))
    event.add("CATEGORIES", [*(c for c in own if c != opd_name), opd_name])
    description = str(event.get("DESCRIPTION", "")).rstrip()
    line = organiser_line(opd_name)
    event.pop("DESCRIPTION", None)
    event.add("DESCRIPTION", f"{description}\n\n{line}" if description else line)


def _copies(src: Source, cal: icalendar.Calendar, audience: Audience
            ) -> icalendar.Calendar | None:
    """What ``audience`` sees of a source, VEVENT by VEVENT (kalender.visibility).

    An override hidden from the audience is left out and its occurrence
    excluded from the master, so the series does not show it either; None when
    every VEVENT is hidden.
    """
    levels = [(event, shown(cls, audience)) for event, cls in classes_of(cal)]
    if all(level is Shown.HIDDEN for _, level in levels):
        return None
    out = _shell(cal)
    hidden = [e["RECURRENCE-ID"].dt for e, level in levels
              if e.get("RECURRENCE-ID") is not None and level is Shown.HIDDEN]
    for event, level in levels:
        if level is Shown.HIDDEN:
            continue
        kept = KEPT[level]
        new = _copy_event(event, kept - {"UID", "CLASS"} if kept is not None else None)
        title = label(level, src.opd_name)
        if level is Shown.OCCUPIED:  # a venue's block (nothing is hidden from another OPD)
            new.add("UID", output_uid(src.opd, src.uid))
            new.add("SUMMARY", title)
        else:
            if title is not None:
                new.add("SUMMARY", title)
                new.add("CLASS", "CONFIDENTIAL")
            elif "DESCRIPTION" in new and level is Shown.PUBLIC:
                new["DESCRIPTION"] = icalendar.vText(public_text(str(new["DESCRIPTION"])))
            if event.get("RECURRENCE-ID") is None:
                for rid in hidden:
                    new.add("EXDATE", rid)
            new.pop("UID", None)
            new.add("UID", output_uid(src.opd, src.uid))
            _organiser_note(new, src.opd_name)
        out.add_component(new)
    return out


def public_copy(src: Source, cal: icalendar.Calendar) -> icalendar.Calendar | None:
    """The public agenda's copy: None for PRIVATE, a busy block for CONFIDENTIAL."""
    return _copies(src, cal, Audience.PUBLIC)


def full_copy(src: Source, cal: icalendar.Calendar) -> icalendar.Calendar:
    """The leaders' (and a key person's) copy: full detail, alarms removed, OPD named."""
    out = _shell(cal)
    for event in cal.walk("VEVENT"):
        new = _copy_event(event, None)
        new.pop("UID")
        new.add("UID", output_uid(src.opd, src.uid))
        _organiser_note(new, src.opd_name)
        out.add_component(new)
    return out


def occupancy_copy(src: Source, cal: icalendar.Calendar) -> icalendar.Calendar:
    """A venue calendar's copy: public events with their title, others 'Terpakai - <OPD>'."""
    out = _copies(src, cal, Audience.OTHER_OPD)
    assert out is not None  # another OPD sees at least that the venue is taken
    return out


def content_key(cal: icalendar.Calendar) -> str:
    """Hash of a copy's content (without DTSTAMP/SEQUENCE): it changes iff the content does."""
    return hashlib.sha256(cal.to_ical()).hexdigest()


def stamped(cal: icalendar.Calendar, dtstamp: str, sequence: int) -> str:
    """The copy as text with DTSTAMP and SEQUENCE set on every VEVENT (RFC 5545 §3.8.7)."""
    for event in cal.walk("VEVENT"):
        event.pop("DTSTAMP", None)
        event.pop("SEQUENCE", None)
        event.add("DTSTAMP", icalendar.vDDDTypes.from_ical(dtstamp))
        event.add("SEQUENCE", sequence)
    return cal.to_ical().decode("utf-8")
