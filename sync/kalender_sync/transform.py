"""What each output calendar holds of one source event: pure functions, no I/O.

A *source* is one stored item of an OPD calendar (a VCALENDAR with one UID: the
master VEVENT and its RECURRENCE-ID overrides, RFC 5545 §3.8.4.4). Each output
copy keeps the recurrence intact (RRULE, RDATE, EXDATE, overrides) and gets a
UID of its own, stable and unique across OPD (:func:`output_uid`).

What the sync adds of its own (the status and decision of an item, its
cancellation, its stand-ins) is ``kalender_sync.annotate``; what the PIC's
client sent of it (``X-KALENDER-PERSETUJUAN``) is never copied.

Outputs carry no DTSTAMP or SEQUENCE: the planner (``kalender_sync.plan``)
adds them, changing them only when the content changes, so subscribers see no
phantom updates (RFC 5546 §2.1.4: SEQUENCE grows with significant changes).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import icalendar

from kalender.visibility import (
    KEPT,
    PUBLIC_PROPERTIES,
    Audience,
    Shown,
    classes_of,
    held,
    label,
    public_text,
    shown,
)
from kalender_sync import annotate, zones
from kalender_sync.annotate import Extra
from kalender_sync.occurrences import category_values, organiser_line

__all__ = ["PUBLIC_PROPERTIES", "Extra", "Source", "content_key", "full_copy", "occupancy_copy",
           "output_href", "output_uid", "parse", "public_copy", "public_text", "stamped",
           "venue_copies"]

#: A source with no decision and no stand-ins to read (approval off).
NOTHING = Extra()
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
    new = copy.deepcopy(component)  # a deep copy, not a round trip through text: 1 per copy
    for part in new.walk():
        for name in [n for n in part if n.startswith("X-")]:
            del part[name]
    return new


def _copy_event(event: icalendar.cal.Component, keep: Iterable[str] | None) -> icalendar.Event:
    """A copy of ``event`` with only ``keep`` properties (all if None), no sub-components."""
    new = icalendar.Event()
    allowed = set(keep) if keep is not None else None
    for name, value in event.property_items(recursive=False, sorted=False):
        if name in ("BEGIN", "END", "DTSTAMP", "SEQUENCE") or name in annotate.OWN_PROPERTIES:
            continue
        if allowed is not None and name not in allowed:
            continue
        if name == "ATTACH" and _inline(value):
            continue  # a file (an invitation PDF, up to 2 MB) stays in the OPD calendar
        if allowed is not None and hasattr(value, "params"):
            # e.g. LOCATION;ALTREP=... or X- parameters could carry addresses
            value.params = icalendar.Parameters(
                {k: v for k, v in value.params.items() if k in ("TZID", "VALUE", "RANGE")})
        new.add(name, value, encode=False)
    return new


def _inline(value: object) -> bool:
    """Whether an ATTACH carries the file itself (VALUE=BINARY, RFC 5545 §3.8.1.1), not a URI.

    Copies leave such files out: every copy of every subscriber's feed would
    carry megabytes; the web page serves the file from the OPD's own item.
    """
    params = getattr(value, "params", None) or {}
    return str(params.get("VALUE", "")).upper() == "BINARY" or "ENCODING" in params


def _organiser_note(event: icalendar.Event, opd_name: str, lines: Iterable[str] = ()) -> None:
    """Name the organising OPD in CATEGORIES (after the PIC's own) and a DESCRIPTION line.

    ``lines`` (the sync's own, :mod:`kalender_sync.annotate`) come before it.
    """
    own = category_values(event.pop("CATEGORIES", None))
    event.add("CATEGORIES", [*(c for c in own if c != opd_name), opd_name])
    description = str(event.get("DESCRIPTION", ""))
    event.pop("DESCRIPTION", None)
    event.add("DESCRIPTION", annotate.join(description, [*lines, organiser_line(opd_name)]))


def _cancel_title(event: icalendar.Event, source: icalendar.cal.Component) -> None:
    """Title a cancelled occurrence ``DIBATALKAN: ...`` (its STATUS is kept)."""
    if annotate.cancelled(source) and "SUMMARY" in event:
        title = annotate.cancelled_title(str(event.pop("SUMMARY")))
        event.add("SUMMARY", title)


def _exdate(rid: icalendar.prop.vDDDTypes) -> icalendar.prop.vDDDLists:
    """An EXDATE for the occurrence a RECURRENCE-ID names, in the same TZID (RFC 5545 §3.8.5.1).

    Built from the value and its TZID parameter: a time in a zone icalendar does
    not know (``TZID=WIB``) parses as naive and would otherwise become floating.
    """
    value = icalendar.prop.vDDDLists([rid.dt])
    if rid.params.get("TZID"):
        value.params["TZID"] = rid.params["TZID"]
    if not isinstance(rid.dt, dt.datetime):
        value.params["VALUE"] = "DATE"
    return value


def _copies(src: Source, cal: icalendar.Calendar, audience: Audience, extra: Extra,
            here: Callable[[icalendar.cal.Component], bool] | None = None
            ) -> icalendar.Calendar | None:
    """What ``audience`` sees of a source, VEVENT by VEVENT (kalender.visibility).

    An override hidden from the audience (private, or held: a tentative hold or
    an item waiting for approval) is left out and its occurrence excluded from
    the master, so the series does not show it either; None when every VEVENT
    is hidden. ``here`` (a venue calendar's): a VEVENT it refuses is left out
    the same way (an occurrence moved to another venue).
    """
    levels = [(event, Shown.HIDDEN if here is not None and not here(event)
               else shown(cls, audience, held(event, extra.pending)))
              for event, cls in classes_of(cal)]
    if all(level is Shown.HIDDEN for _, level in levels):
        return None
    out = _shell(cal)
    hidden = [e["RECURRENCE-ID"] for e, level in levels
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
            _cancel_title(new, event)
        else:
            lines: list[str] = []
            if title is not None:
                new.add("SUMMARY", title)
                new.add("CLASS", "CONFIDENTIAL")
            elif level is Shown.PUBLIC:
                lines = [public_text(t) for t in annotate.stand_ins(event, extra.matcher)]
                if "DESCRIPTION" in new:
                    new["DESCRIPTION"] = icalendar.vText(public_text(str(new["DESCRIPTION"])))
            _cancel_title(new, event)
            if event.get("RECURRENCE-ID") is None:
                for rid in hidden:
                    new.add("EXDATE", _exdate(rid), encode=False)
            new.pop("UID", None)
            new.add("UID", output_uid(src.opd, src.uid))
            _organiser_note(new, src.opd_name, lines)
        out.add_component(new)
    return zones.normalise(out, cal)


def public_copy(src: Source, cal: icalendar.Calendar, extra: Extra = NOTHING
                ) -> icalendar.Calendar | None:
    """The public agenda's copy: None for PRIVATE or held, a busy block for CONFIDENTIAL."""
    return _copies(src, cal, Audience.PUBLIC, extra)


def full_copy(src: Source, cal: icalendar.Calendar, extra: Extra = NOTHING
              ) -> icalendar.Calendar:
    """The leaders' (and a key person's) copy: full detail, alarms removed, OPD named.

    Each VEVENT says its status (and the protocol office's decision) in a line
    and in ``X-KALENDER-PERSETUJUAN``, and who stands in for whom.
    """
    out = _shell(cal)
    for event in cal.walk("VEVENT"):
        new = _copy_event(event, None)
        new.pop("UID")
        new.add("UID", output_uid(src.opd, src.uid))
        _cancel_title(new, event)
        if extra.approval:
            new.add(annotate.APPROVAL_PROPERTY, extra.approval)
            if extra.refusal:
                new.add(annotate.REASON_PROPERTY, extra.refusal)
        _organiser_note(new, src.opd_name, annotate.leaders_lines(event, extra))
        out.add_component(new)
    return zones.normalise(out, cal)


def occupancy_copy(src: Source, cal: icalendar.Calendar, extra: Extra = NOTHING
                   ) -> icalendar.Calendar:
    """A venue calendar's copy: public events with their title, others 'Terpakai - <OPD>'."""
    out = _copies(src, cal, Audience.OTHER_OPD, extra)
    assert out is not None  # another OPD sees at least that the venue is taken
    return out


def venue_copies(src: Source, cal: icalendar.Calendar, extra: Extra,
                 here: Callable[[icalendar.cal.Component], bool]) -> dict[str, icalendar.Calendar]:
    """A venue calendar's copies of a source, by href: only the occurrences ``here`` accepts.

    A series held here keeps its own exceptions (EXDATEs, overrides also here);
    an override moved to another venue leaves it (an EXDATE in its place). An
    override moved here from a series held elsewhere becomes a VEVENT of its
    own, without RECURRENCE-ID, with a UID and href derived from the output
    UID and the recurrence id: many clients drop or misplace an override whose
    master is absent (RFC 5545 §3.8.4.4 presumes the master in the same object),
    and one href holds one UID (RFC 4791 §4.1).
    """
    out = _copies(src, cal, Audience.OTHER_OPD, extra, here)
    if out is None:
        return {}
    href = output_href(src.opd, src.uid)
    master = [e for e in cal.walk("VEVENT") if e.get("RECURRENCE-ID") is None]
    if not master or here(master[0]):
        return {href: out}  # the series (or an object of overrides alone) as it is
    base = href.removesuffix(".ics")
    copies: dict[str, icalendar.Calendar] = {}
    for event in out.walk("VEVENT"):
        stamp = event.pop("RECURRENCE-ID").to_ical().decode("ascii")
        for name in ("UID", "RRULE", "RDATE", "EXDATE"):
            event.pop(name, None)
        event.add("UID", f"{base}-{stamp}@kalender-opd")
        alone = icalendar.Calendar()
        for name in ("PRODID", "VERSION"):
            alone.add(name, out[name])
        for zone in out.walk("VTIMEZONE"):
            alone.add_component(zone)  # normalise() keeps the ones this VEVENT uses
        alone.add_component(event)
        copies[f"{base}-{stamp}.ics"] = zones.normalise(alone, out)
    return copies


def content_key(text: str) -> str:
    """Hash of a stamped copy's content without its DTSTAMP/SEQUENCE lines.

    It changes iff the content does, and equals the hash of the copy serialised
    before stamping (:func:`stamped` appends the two properties last, unfolded).
    """
    kept = "".join(line for line in text.splitlines(keepends=True)
                   if not line.startswith(("DTSTAMP:", "SEQUENCE:")))
    return hashlib.sha256(kept.encode("utf-8")).hexdigest()


def stamped(cal: icalendar.Calendar, dtstamp: str, sequence: int) -> str:
    """The copy as text with DTSTAMP and SEQUENCE set on every VEVENT (RFC 5545 §3.8.7)."""
    for event in cal.walk("VEVENT"):
        event.pop("DTSTAMP", None)
        event.pop("SEQUENCE", None)
        event.add("DTSTAMP", icalendar.vDDDTypes.from_ical(dtstamp))
        event.add("SEQUENCE", sequence)
    return cal.to_ical().decode("utf-8")
