"""Occurrences of the rendered agendas: what the web pages, JSON and lobby screen list.

Pure: one copy of an output calendar in, its occurrences out, one per
instance of the series (RFC 5545 §3.8.5: RRULE, RDATE, EXDATE; overrides by
RECURRENCE-ID, §3.8.4.4) within a horizon. A public copy (the output of
``kalender_sync.transform.public_copy``) is already filtered by
``kalender.visibility``; a leaders' copy (``full_copy``) holds every detail,
and its occurrences carry their class so each view asks the visibility rule,
their status and the protocol office's decision, stand-ins and protocol
details (what ``kalender_sync.annotate`` wrote into the copy, read back).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import icalendar
import recurring_ical_events

from kalender.clash.match import Matcher
from kalender.pemda import protocol as protocols
from kalender.pemda.protocol import Protocol
from kalender.visibility import PUBLIC, class_of_value, event_class
from kalender_sync import annotate

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
NO_PROTOCOL = Protocol()


@dataclass(frozen=True)
class Occurrence:
    """One instance of a public activity, as the public may see it."""

    id: str  #: stable page id: 32 hex digits, ``-YYYYMMDDTHHMM`` added for a series instance
    uid: str  #: the public copy's UID (the same for every instance of a series)
    opd: str  #: organising OPD id
    opd_name: str
    title: str  #: SUMMARY ("DIBATALKAN: " left out); "Kegiatan internal - <OPD>" for a block
    start: dt.datetime  #: aware, in WIB
    end: dt.datetime  #: aware, in WIB; an all-day activity ends at 00:00 of the day after
    all_day: bool
    location: str  #: LOCATION as written ("" when none)
    venue: str | None  #: registered venue id recognised in LOCATION
    categories: tuple[str, ...]  #: the PIC's CATEGORIES (the OPD's name left out)
    description: str  #: public text (kalender.visibility.public_text), no "Penyelenggara"
    #: line, no stand-in lines (:attr:`stand_ins`); leaders': no status or protocol lines
    status: str  #: STATUS (RFC 5545 §3.8.1.11): "CONFIRMED", "TENTATIVE", "CANCELLED" or ""
    internal: bool  #: a CONFIDENTIAL block: only its time and OPD may be shown
    klass: str = PUBLIC  #: the effective CLASS (kalender.visibility), for the leaders' views
    persons: tuple[str, ...] = ()  #: registered key persons taking part (leaders' copies)
    approval: str = ""  #: kalender.pemda.approval state (leaders' copies; "" when none)
    stand_ins: tuple[str, ...] = ()  #: "Wali Kota diwakili oleh Wakil Wali Kota", ...
    protocol: Protocol = NO_PROTOCOL  #: pakaian, letter, narahubung... (leaders' copies only)
    reason: str = ""  #: the reason of a rejection in force (leaders' copies only)

    @property
    def path(self) -> str:
        """The activity's page, e.g. ``/kegiatan/3f2a...``."""
        return f"/kegiatan/{self.id}"

    @property
    def cancelled(self) -> bool:
        """Whether the activity was cancelled (STATUS:CANCELLED)."""
        return self.status == "CANCELLED"

    def happening(self, now: dt.datetime) -> bool:
        """Whether it is going on at ``now`` ("Sedang berlangsung")."""
        return self.start <= now < self.end and not self.cancelled


#: How far ahead an endless series is listed; re-expanded as time passes (webindex).
HORIZON_DAYS = 730
EPOCH = dt.datetime(1970, 1, 2, tzinfo=dt.UTC)


def organiser_line(opd_name: str) -> str:
    """The line ``kalender_sync.transform`` adds to a copy's DESCRIPTION."""
    return f"Penyelenggara: {opd_name}"


def _aware(value: dt.date) -> tuple[dt.datetime, bool]:
    """(aware datetime in WIB, whether it was a DATE); floating times are WIB."""
    if not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day, tzinfo=WIB), True
    if value.tzinfo is None:
        value = value.replace(tzinfo=WIB)
    return value.astimezone(WIB), False


def category_values(value: object) -> list[str]:
    """The values of one or more CATEGORIES properties (RFC 5545 §3.8.1.2), in order."""
    items = value if isinstance(value, list) else [value] if value is not None else []
    return list(dict.fromkeys(str(c).strip() for item in items
                              for c in getattr(item, "cats", [item]) if str(c).strip()))


def _categories(component: Any, opd_name: str) -> tuple[str, ...]:
    """A copy's CATEGORIES without the OPD's own name (the sync adds it last)."""
    return tuple(c for c in category_values(component.get("CATEGORIES")) if c != opd_name)


def _description(component: Any, opd_name: str) -> str:
    """The copy's DESCRIPTION without the organiser line the sync added."""
    text = str(component.get("DESCRIPTION", "")).rstrip()
    return text.removesuffix(organiser_line(opd_name)).rstrip()


def _details(component: Any, opd_name: str, public: bool
             ) -> tuple[str, tuple[str, ...], Protocol]:
    """(description, stand-in sentences, protocol details) of one occurrence of a copy."""
    text, stand_ins = annotate.read_back(_description(component, opd_name), not public)
    if public:
        return text, stand_ins, Protocol()
    return protocols.without(text), stand_ins, protocols.read(text)


def page_id(uid: str, instance: dt.datetime | None) -> str:
    """The page id of an activity (``instance``: the RECURRENCE-ID of a series instance)."""
    digest = uid.split("@", 1)[0]
    return digest if instance is None else f"{digest}-{instance.astimezone(WIB):%Y%m%dT%H%M}"


def expand(text: str, opd: str, opd_name: str, matcher: Matcher, now: dt.datetime,
           public: bool = True) -> tuple[list[Occurrence], bool]:
    """(occurrences of one copy up to the horizon, whether the series goes beyond it).

    ``public``: a copy of the public agenda (CONFIDENTIAL ones are blocks);
    else a leaders' copy, in full detail with its key persons.
    """
    cal = icalendar.Calendar.from_ical(text)
    events: list[Any] = list(cal.walk("VEVENT"))
    series = {str(e.get("UID", "")): class_of_value(e.get("CLASS")) for e in events
              if e.get("RECURRENCE-ID") is None}  # overrides are at least as restricted
    recurring = any(e.get("RRULE") is not None or e.get("RDATE") is not None
                    or e.get("RECURRENCE-ID") is not None for e in events)
    horizon = now + dt.timedelta(days=HORIZON_DAYS)
    endless = any(e.get("RRULE") is not None and not e["RRULE"].get("COUNT")
                  and not e["RRULE"].get("UNTIL") for e in events)
    result = []
    component: Any
    for component in recurring_ical_events.of(cal).between(EPOCH, horizon):
        start, all_day = _aware(component["DTSTART"].dt)
        end = _aware(component["DTEND"].dt)[0] if component.get("DTEND") is not None else (
            start + dt.timedelta(days=1) if all_day else start)  # RFC 5545 §3.6.1
        rid = component.get("RECURRENCE-ID")
        instance = _aware(rid.dt)[0] if recurring and rid is not None else (
            start if recurring else None)
        uid = str(component.get("UID", ""))
        klass = event_class(component, series.get(uid))
        internal = public and klass != PUBLIC
        venues = () if internal else tuple(sorted(matcher.venues(component)[0]))
        description, stand_ins, details = ("", (), Protocol()) if internal else _details(
            component, opd_name, public)
        title = " ".join(str(component.get("SUMMARY", "")).split())
        status = str(component.get("STATUS", "")).strip().upper()
        if status == "CANCELLED":
            title = annotate.plain_title(title)
        result.append(Occurrence(
            id=page_id(uid, instance), uid=uid, opd=opd, opd_name=opd_name,
            title=title or "(tanpa judul)",
            start=start, end=max(end, start), all_day=all_day,
            location="" if internal else " ".join(str(component.get("LOCATION", "")).split()),
            venue=venues[0] if venues else None,
            categories=() if internal else _categories(component, opd_name),
            description=description, status=status, internal=internal,
            klass=klass, persons=() if public else tuple(sorted(matcher.persons(component))),
            approval="" if public else str(component.get(annotate.APPROVAL_PROPERTY, "")),
            stand_ins=stand_ins, protocol=details,
            reason="" if public else str(component.get(annotate.REASON_PROPERTY, ""))))
    result.sort(key=lambda o: (o.start, o.id))
    return result, endless
