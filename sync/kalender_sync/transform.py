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
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import icalendar

#: Properties a public copy may keep (RFC 5545 §3.6.1); everything else is dropped:
#: ATTENDEE, ORGANIZER (e-mail addresses), ATTACH, CONTACT, COMMENT, X-*, VALARM...
PUBLIC_PROPERTIES = frozenset({
    "UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID",
    "SUMMARY", "DESCRIPTION", "LOCATION", "STATUS", "TRANSP", "CATEGORIES", "CLASS", "GEO",
})
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


def event_class(event: icalendar.cal.Component) -> str:
    """PUBLIC, CONFIDENTIAL or PRIVATE; an unknown value counts as PRIVATE (RFC 5545 §3.8.1.3)."""
    value = str(event.get("CLASS", "PUBLIC")).strip().upper()
    return value if value in ("PUBLIC", "CONFIDENTIAL") else "PRIVATE"


def visibility(cal: icalendar.Calendar) -> str:
    """The class of the master event (or of the first event if there is no master)."""
    masters = [e for e in cal.walk("VEVENT") if e.get("RECURRENCE-ID") is None]
    return event_class(masters[0] if masters else next(iter(cal.walk("VEVENT"))))


#: Text the public must not read in a description: e-mail addresses, the admin's
#: clash override reason, and meeting join details (links with passcodes).
EMAIL = re.compile(r"(mailto:)?[\w.+-]+@[\w-]+(\.[\w-]+)+", re.IGNORECASE)
HIDDEN_LINES = re.compile(r"^\s*(abaikan\s+bentrok|passcode|kode\s+sandi|password|meeting\s+id"
                          r"|id\s+rapat)\b.*$", re.IGNORECASE | re.MULTILINE)
MEETING_LINK = re.compile(r"https?://\S*(zoom\.us|teams\.microsoft|meet\.google|webex)\S*",
                          re.IGNORECASE)


def public_text(text: str) -> str:
    """A description fit for the public agenda."""
    text = HIDDEN_LINES.sub("", text)
    text = EMAIL.sub("[alamat disembunyikan]", text)
    text = MEETING_LINK.sub("[tautan rapat disembunyikan]", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


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
    """Name the organising OPD in CATEGORIES and in a DESCRIPTION line."""
    event.pop("CATEGORIES", None)
    event.add("CATEGORIES", [opd_name])
    description = str(event.get("DESCRIPTION", "")).rstrip()
    line = f"Penyelenggara: {opd_name}"
    event.pop("DESCRIPTION", None)
    event.add("DESCRIPTION", f"{description}\n\n{line}" if description else line)


def public_copy(src: Source, cal: icalendar.Calendar) -> icalendar.Calendar | None:
    """The public agenda's copy: None for PRIVATE, a busy block for CONFIDENTIAL.

    Decided per VEVENT: a private override of a public series is left out (and
    its occurrence excluded from the master, so the series does not show it
    either); a confidential override becomes a busy block.
    """
    if visibility(cal) == "PRIVATE":
        return None
    out = _shell(cal)
    events: list[Any] = list(cal.walk("VEVENT"))
    hidden = [e["RECURRENCE-ID"].dt for e in events
              if e.get("RECURRENCE-ID") is not None and event_class(e) == "PRIVATE"]
    for event in cal.walk("VEVENT"):
        kind = event_class(event)
        if kind == "PRIVATE":
            continue
        if kind == "CONFIDENTIAL":
            new = _copy_event(event, {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE",
                                      "EXDATE", "RECURRENCE-ID", "STATUS", "TRANSP"})
            new.add("SUMMARY", f"Kegiatan internal - {src.opd_name}")
            new.add("CLASS", "CONFIDENTIAL")
        else:
            new = _copy_event(event, PUBLIC_PROPERTIES - {"UID", "CLASS"})
            if "DESCRIPTION" in new:
                new["DESCRIPTION"] = icalendar.vText(public_text(str(new["DESCRIPTION"])))
        if event.get("RECURRENCE-ID") is None:
            for rid in hidden:
                new.add("EXDATE", rid)
        new.add("UID", output_uid(src.opd, src.uid))
        _organiser_note(new, src.opd_name)
        out.add_component(new)
    return out


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
    if visibility(cal) == "PUBLIC":
        public = public_copy(src, cal)
        assert public is not None
        return public
    out = _shell(cal)
    for event in cal.walk("VEVENT"):
        new = _copy_event(event, {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE",
                                  "RECURRENCE-ID", "STATUS", "TRANSP", "LOCATION"})
        new.add("UID", output_uid(src.opd, src.uid))
        new.add("SUMMARY", f"Terpakai - {src.opd_name}")
        out.add_component(new)
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
