"""The activity form's iCalendar side: an Entry as a VEVENT, an event as form values (pure).

:func:`build` writes a new event the way the server and the PIC's apps read
it (RFC 5545): SUMMARY; DTSTART/DTEND with ``TZID=Asia/Jakarta`` and its
VTIMEZONE (§3.6.5); LOCATION with the venue's registered name (and building),
which ``kalender.clash.match`` recognises as that venue; URL for a meeting
online; key persons as description lines ``Pejabat: <title>; <title>`` (the
labels of ``docs/konvensi-pic.md``, read by the matcher) and as ATTENDEEs
when they have a registered e-mail address; CLASS, CATEGORIES and an RRULE
whose UNTIL is UTC (§3.3.10: DTSTART has a TZID); STATUS (§3.8.1.11); a
stand-in as the line ``Wali Kota diwakili oleh Wakil Wali Kota``
(``kalender.pemda.standin.line``) and the protocol details as
``kalender.pemda.protocol`` lines (``Pakaian: PDH Khaki``); the invitation
letter as an inline ``ATTACH;FMTTYPE=application/pdf;ENCODING=BASE64;
VALUE=BINARY;X-FILENAME=...`` (§3.8.1.1), marked ``X-KALENDER-PUBLIK=TRUE``
when the public may download it. Description lines are plain text, so every
app shows them as written.

:func:`form_values` (from ``icalread``) reads an existing event back into the
form, best effort for events made in apps, and :func:`apply` writes an edit
into the stored text: only the groups of fields the PIC
changed are rewritten, everything else (VALARM, X- properties, ATTACH,
ORGANIZER, other attendees, RECURRENCE-ID overrides) stays as the app wrote it.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import icalendar

from kalender.clash.icaltext import parse
from kalender.clash.rules import Person, Venue
from kalender.clash.tz import JAKARTA
from kalender.clash.words import normalise
from kalender.pemda import standin
from kalender.web.workspace import compose
from kalender.web.workspace.compose import DARING, KEEP_RULE, STATUS, Choices, Entry, Values
from kalender.web.workspace.icalread import (
    PUBLIC_PARAM,
    as_list,
    form_values,
    invitations,
    master,
    span,
    wib,
)

__all__ = ["apply", "build", "description", "file_name", "form_values", "new_uid",
           "person_text", "place_text", "vtimezone"]

PRODID = "-//Pemerintah Kota Kediri//Kalender OPD ruang kerja web//ID"
TZID = "Asia/Jakarta"
_ROOMS = frozenset({"ROOM", "RESOURCE"})
_PARENS = re.compile(r"\([^)]*\)")


def new_uid() -> str:
    """A UID for a new event (RFC 5545 §3.8.4.7: globally unique)."""
    return f"{uuid.uuid4()}@kalender-opd"


def file_name(uid: str) -> str:
    """The item's file name in the OPD calendar: the UUID part of the UID."""
    return uid.split("@", 1)[0] + ".ics"


def vtimezone() -> icalendar.Timezone:
    """VTIMEZONE of Asia/Jakarta: WIB, UTC+7 all year since 1964 (no DST)."""
    zone = icalendar.Timezone()
    zone.add("TZID", TZID)
    zone.add("X-LIC-LOCATION", TZID)
    standard = icalendar.TimezoneStandard()
    standard.add("DTSTART", dt.datetime(1970, 1, 1))
    standard.add("TZOFFSETFROM", dt.timedelta(hours=7))
    standard.add("TZOFFSETTO", dt.timedelta(hours=7))
    standard.add("TZNAME", "WIB")
    zone.add_component(standard)
    return zone


def place_text(venue: Venue) -> str:
    """LOCATION of a venue: its name, and its building when that says more."""
    if not venue.building:
        return venue.name
    building = normalise(_PARENS.sub(" ", venue.building))
    if building == normalise(venue.name):
        return venue.building  # "Taman Sekartaji (Jl. Veteran, Mojoroto)"
    if building in normalise(venue.name):
        return venue.name
    return f"{venue.name}, {venue.building}"


def person_text(person: Person) -> str:
    """How a key person is written in a ``Pejabat:`` line (the matcher splits on ``;`` ``,``)."""
    if not re.search(r"[;,]", person.title):
        return person.title
    return next((a for a in person.aliases if not re.search(r"[;,]", a)), person.title)


def description(entry: Entry, choices: Choices) -> str:
    """The DESCRIPTION: the form's labelled lines, a blank line, the PIC's own text."""
    lines = []
    if entry.pejabat:
        lines.append("Pejabat: " + "; ".join(person_text(choices.persons[p])
                                             for p in entry.pejabat))
    for absent, present, text in entry.wakil:  # the clash engine checks the stand-in
        lines.append(standin.line(person_text(choices.persons[absent]),
                                  person_text(choices.persons[present]) if present else text))
    if entry.narasumber:
        lines.append(f"Narasumber: {entry.narasumber}")
    if entry.ruang == DARING:
        lines.append(f"Tautan: {entry.tautan}")  # apps without a URL field show it here
    lines += entry.protocol.lines()
    return "\n\n".join(part for part in ("\n".join(lines), entry.deskripsi) if part)


# -- writing the groups of fields --------------------------------------------
def _set(event: Any, name: str, value: Any, **parameters: str) -> None:
    """Replace every ``name`` property with one value (none when the value is empty)."""
    event.pop(name, None)
    if value not in (None, "", [], ()):
        event.add(name, value, parameters=parameters or None)


def _title(event: Any, entry: Entry, choices: Choices, old: Values) -> None:
    _set(event, "SUMMARY", entry.judul)


def _times(event: Any, entry: Entry, choices: Choices, old: Values) -> None:
    assert entry.mulai is not None and entry.selesai is not None  # compose.read checked
    start = dt.datetime.combine(entry.tanggal, entry.mulai, JAKARTA)
    end = dt.datetime.combine(entry.tanggal, entry.selesai, JAKARTA)
    event.pop("DURATION", None)
    _set(event, "DTSTART", start)
    _set(event, "DTEND", end)


def _place(event: Any, entry: Entry, choices: Choices, old: Values) -> None:
    # what named the old place must go, or the matcher would still book it
    for name in ("X-APPLE-STRUCTURED-LOCATION", "GEO"):
        event.pop(name, None)
    attendees = as_list(event.pop("ATTENDEE", None))
    for attendee in attendees:
        if str(attendee.params.get("CUTYPE", "")).upper() not in _ROOMS:
            event.add("ATTENDEE", attendee)
    if entry.ruang == DARING:
        _set(event, "LOCATION", "Daring")
        _set(event, "URL", entry.tautan)
    else:
        if old.get("ruang") == DARING:
            event.pop("URL", None)
        venue = choices.venues.get(entry.ruang)
        _set(event, "LOCATION", place_text(venue) if venue else entry.lokasi)


def _persons(event: Any, entry: Entry, choices: Choices, old: Values) -> None:
    matcher = choices.matcher
    kept: list[Any] = []
    present: set[str] = set()
    for attendee in as_list(event.pop("ATTENDEE", None)):
        ids = matcher.persons({"ATTENDEE": attendee})
        if ids and not ids & set(entry.pejabat):
            continue  # a key person the PIC took off the activity
        kept.append(attendee)
        present |= ids
    for attendee in kept:
        event.add("ATTENDEE", attendee)
    for pid in entry.pejabat:
        person = choices.persons[pid]
        if person.emails and pid not in present:
            event.add("ATTENDEE", f"mailto:{person.emails[0]}",
                      parameters={"CN": person.title, "ROLE": "REQ-PARTICIPANT"})
    event.pop("X-ALT-DESC", None)  # the HTML copy of the old description
    _set(event, "DESCRIPTION", description(entry, choices))


def _klass(event: Any, entry: Entry, choices: Choices, old: Values) -> None:
    _set(event, "CLASS", entry.klass)


def _categories(event: Any, entry: Entry, choices: Choices, old: Values) -> None:
    _set(event, "CATEGORIES", list(entry.kategori))


def _until(day: dt.date, start: Any) -> Any:
    """UNTIL for the last day: UTC when DTSTART is a zoned time, a DATE for a DATE."""
    if not isinstance(start, dt.datetime):
        return day
    return dt.datetime.combine(day, dt.time(23, 59, 59), JAKARTA).astimezone(dt.UTC)


def _repeat(event: Any, entry: Entry, choices: Choices, old: Values) -> None:
    if entry.ulang == KEEP_RULE:
        return
    if entry.ulang == "tidak":
        for name in ("RRULE", "RDATE", "EXDATE"):
            event.pop(name, None)
        return
    assert entry.ulang_sampai is not None  # compose.read checked
    rule = {"FREQ": compose.ULANG[entry.ulang],
            "UNTIL": _until(entry.ulang_sampai, event["DTSTART"].dt)}
    _set(event, "RRULE", rule)


def _status(event: Any, entry: Entry, choices: Choices, old: Values) -> None:
    if entry.status:  # "": an app's event without STATUS keeps none
        _set(event, "STATUS", STATUS[entry.status])


def _protocol(event: Any, entry: Entry, choices: Choices, old: Values) -> None:
    event.pop("X-ALT-DESC", None)
    _set(event, "DESCRIPTION", description(entry, choices))


def _attachment(event: Any, entry: Entry, choices: Choices, old: Values) -> None:
    ours = invitations(event)
    if entry.undangan is not None or entry.hapus_lampiran:
        others = [a for a in as_list(event.pop("ATTACH", None))
                  if not any(a is o for o in ours)]
        for attach in others:  # links and other files the PIC's app attached stay
            event.add("ATTACH", attach)
        ours = []
    if entry.undangan is not None:
        attach = icalendar.vBinary(entry.undangan.data)  # ENCODING=BASE64;VALUE=BINARY
        attach.params.update({"FMTTYPE": "application/pdf",
                              "X-FILENAME": entry.undangan.filename})
        event.add("ATTACH", attach)
        ours = [attach]
    for attach in ours:
        if entry.undangan_publik:
            attach.params[PUBLIC_PARAM] = "TRUE"
        else:
            attach.params.pop(PUBLIC_PARAM, None)


#: What each group of fields writes (same order as compose.GROUPS).
WRITERS: dict[str, Callable[[Any, Entry, Choices, Values], None]] = {
    "judul": _title, "waktu": _times, "tempat": _place, "orang": _persons,
    "kelas": _klass, "kategori": _categories, "ulang": _repeat, "status": _status,
    "protokol": _protocol, "lampiran": _attachment,
}


def build(entry: Entry, choices: Choices, uid: str, now: dt.datetime) -> str:
    """The iCalendar text of a new event."""
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add_component(vtimezone())
    event = icalendar.Event()
    event.add("UID", uid)
    stamp = now.astimezone(dt.UTC).replace(microsecond=0)
    for name in ("DTSTAMP", "CREATED", "LAST-MODIFIED"):
        event.add(name, stamp)
    event.add("SEQUENCE", 0)
    for write in WRITERS.values():
        write(event, entry, choices, compose.empty())
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


def apply(entry: Entry, original: str, choices: Choices, now: dt.datetime) -> str:
    """The stored text with the PIC's changes; the original itself when nothing changed."""
    calendar = parse(original)
    zones = {str(z.get("TZID", "")): z for z in calendar.walk("VTIMEZONE")}
    event = master(calendar)
    old = form_values(original, choices)
    groups = compose.changed(compose.values_from_entry(entry), old)
    if entry.undangan is not None:
        groups.add("lampiran")
    if not groups:
        return original
    if "tempat" in groups and DARING in (old["ruang"], entry.ruang):
        groups.add("orang")  # the "Tautan:" line follows the meeting link
    before = span(event, zones)[0]
    for group, write in WRITERS.items():
        if group in groups:
            write(event, entry, choices, old)
    if "waktu" in groups:
        _follow(calendar, event, before, zones, repeat="ulang" not in groups)
        if not any(str(z.get("TZID")) == TZID for z in calendar.walk("VTIMEZONE")):
            calendar.subcomponents.insert(0, vtimezone())
    if "ulang" in groups and entry.ulang == "tidak":  # overrides of a series that is gone
        calendar.subcomponents[:] = [c for c in calendar.subcomponents
                                     if c.name != "VEVENT" or c is event
                                     or c.get("RECURRENCE-ID") is None]
    stamp = now.astimezone(dt.UTC).replace(microsecond=0)
    _set(event, "DTSTAMP", stamp)
    _set(event, "LAST-MODIFIED", stamp)
    _set(event, "SEQUENCE", int(event.get("SEQUENCE", 0)) + 1)  # RFC 5545 §3.8.7.4
    return calendar.to_ical().decode("utf-8")


def _follow(calendar: icalendar.Calendar, event: Any, before: Any, zones: dict[str, Any],
            repeat: bool) -> None:
    """A moved series: its UNTIL fits the new DTSTART, its exceptions move along."""
    after = event["DTSTART"].dt
    if repeat:  # RFC 5545 §3.3.10: UNTIL has the value type of DTSTART
        for rule in as_list(event.get("RRULE")):
            if rule.get("UNTIL") and not isinstance(rule["UNTIL"][0], dt.datetime):
                rule["UNTIL"] = [_until(rule["UNTIL"][0], after)]
    if not isinstance(before, dt.datetime) or event.get("RRULE") is None:
        return
    delta = after - before
    # RECURRENCE-ID and EXDATE name instances of the old times (RFC 5545 §3.8.4.4)
    for other in calendar.walk("VEVENT"):
        rid = other.get("RECURRENCE-ID")
        if other is not event and rid is not None and isinstance(rid.dt, dt.datetime):
            _set(other, "RECURRENCE-ID", wib(rid.dt, rid.params.get("TZID"), zones) + delta)
    moved = [wib(d.dt, lst.params.get("TZID"), zones) + delta
             if isinstance(d.dt, dt.datetime) else d.dt
             for lst in as_list(event.pop("EXDATE", None)) for d in lst.dts]
    for value in moved:
        event.add("EXDATE", value)
