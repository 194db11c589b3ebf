"""Turn one stored iCalendar object into bookings: parsing, time zones, expansion.

The only module that reads iCalendar; the rules are explained in docs/rules.md.
In short: one item = one UID (a master VEVENT and its RECURRENCE-ID overrides,
RFC 5545 §3.8.4.4); every TZID goes through :func:`kalender.clash.tz.resolve_tzid`;
floating times and DATEs are WIB; UTC times follow X-WR-TIMEZONE (Google).
Occurrences (recurring-ical-events: RRULE, RDATE, and EXDATE/RECURRENCE-ID
matched as instants) are kept within ``[now - 1 day, now + horizon_days]`` -
history does not block. Rules are costed *before* anyone walks them
(:mod:`kalender.clash.recurrence`: the periods from DTSTART, the candidate days
and times of day in each), and EXDATE/RDATE values and overrides are counted,
so FREQ=SECONDLY or a BYYEARDAY x BYHOUR x BYMINUTE x BYSECOND product is
refused at once and a rule that can never match (30 February) does not
search to the year 9999. Which occurrences are private follows the one
visibility rule (:mod:`kalender.visibility`). An end comes from
DTEND, else DURATION, else one day for a DATE and zero for a DATE-TIME
(RFC 5545 §3.6.1). Zero-length, STATUS:CANCELLED and TRANSP:TRANSPARENT
occurrences do not block, decided per occurrence like venues and persons;
STATUS:TENTATIVE ones are holds (``Booking.tentative``), judged by the
deployment's policy (:func:`kalender.clash.rules.judge`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

import icalendar
import recurring_ical_events
from icalendar.prop import vDDDLists, vDDDTypes, vRecur

from kalender import visibility
from kalender.clash.icaltext import count_dates, parse
from kalender.clash.recurrence import check_rule, epoch
from kalender.clash.rules import Booking
from kalender.clash.tz import JAKARTA, resolve_tzid
from kalender.errors import BadCalendarError, TooManyDatesError, TooManyOccurrencesError

if TYPE_CHECKING:  # pragma: no cover
    from kalender.clash.match import Matcher

__all__ = ["Extracted", "Limits", "extract"]

DAY = 86400
_KEY_PROPERTIES = {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE",
                   "RECURRENCE-ID", "UID", "STATUS", "TRANSP"}


@dataclass(frozen=True)
class Extracted:
    """The bookings of one item and the locations and names that matched nothing."""

    uid: str
    bookings: tuple[Booking, ...]  # blocking occurrences within [now - 1 day, now + horizon]
    locations: tuple[str, ...]  # free-text locations that matched no registered venue
    horizon: int = 0  # occurrences were expanded up to this instant (epoch)
    recurring: bool = False  # has an RRULE: re-expand as the horizon moves with time
    #: names in labelled DESCRIPTION lines ("Narasumber: ...") that matched no key person
    unknown_persons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    """What one item may cost (options in radicale_config/config.template)."""

    horizon_days: int = 730  #: [storage] kalender_horizon_days
    max_occurrences: int = 5000  #: [storage] kalender_max_occurrences, within the horizon
    max_exdates: int = 2000  #: [storage] kalender_max_exdates, EXDATE values per VEVENT
    max_rdates: int = 2000  #: [storage] kalender_max_rdates, RDATE values per VEVENT
    max_overrides: int = 1000  #: [storage] kalender_max_overrides, RECURRENCE-IDs per item
    #: Radicale's [server] max_vevent_rrule_occurrence (0: none) when the item is about
    #: to be stored, so what Radicale refuses or walks for long is refused here first;
    #: None for items already stored (a re-index keeps them)
    radicale_limit: int | None = None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _localise(value: Any, tzid: str | None, zones: Mapping[str, Any], xwr: tzinfo | None) -> Any:
    """Attach the resolved zone to the written wall-clock time (RFC 5545 §3.3.5)."""
    if isinstance(value, tuple):  # RDATE;VALUE=PERIOD
        return tuple(_localise(v, tzid, zones, xwr) for v in value)
    if not isinstance(value, datetime):
        return value  # DATE, or a DURATION inside a period
    if tzid:  # icalendar may have guessed (or cached) a zone: keep only the wall time
        return value.replace(tzinfo=resolve_tzid(tzid, zones))
    if value.tzinfo is None:
        return value.replace(tzinfo=JAKARTA)  # floating time = WIB
    if xwr is not None and value.utcoffset() == timedelta(0):
        return value.astimezone(xwr)  # Google writes UTC and means X-WR-TIMEZONE
    return value


_HOW = {
    "RRULE": "periksa FREQ, INTERVAL, COUNT, UNTIL dan bagian BY-nya (RFC 5545 §3.3.10)",
    "DURATION": "tulis lama kegiatan seperti PT1H30M (RFC 5545 §3.3.6)",
    "STATUS": "gunakan TENTATIVE, CONFIRMED atau CANCELLED",
    "TRANSP": "gunakan OPAQUE atau TRANSPARENT",
}


def _invalid(name: str, message: str) -> BadCalendarError:
    """The refusal of a property icalendar could not read, saying how to write it."""
    how = _HOW.get(name, "tulis tanggal seperti 20280113 atau tanggal dan jam seperti "
                         "20280113T090000 (RFC 5545 §3.3.4-5)")
    return BadCalendarError(f"Properti {name} tidak valid ({message}); {how}.")


def _count(event: Any, limits: Limits) -> None:
    """Refuse too many EXDATE or RDATE values (also checked on the text, before the parse)."""
    for name, limit in (("EXDATE", limits.max_exdates), ("RDATE", limits.max_rdates)):
        if sum(len(lst.dts) for lst in _as_list(event.get(name))) > limit:
            raise TooManyDatesError(name, limit)


def _normalise_event(event: Any, zones: Mapping[str, Any], xwr: tzinfo | None) -> Any:
    """A copy of the VEVENT with resolved zones, checked times and UTC UNTIL values."""
    for name, message in getattr(event, "errors", ()):
        if name in _KEY_PROPERTIES:  # icalendar keeps going; a broken time is fatal here
            raise _invalid(name, message)
    if "DTSTART" not in event:
        raise BadCalendarError("Kegiatan tidak memiliki DTSTART (waktu mulai); isi waktu mulainya.")
    new = event.copy()  # never modify the caller's Calendar
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        if (prop := event.get(name)) is not None:
            value = _localise(prop.dt, prop.params.get("TZID"), zones, xwr)
            if prop.params.get("VALUE", "").upper() == "DATE" and isinstance(value, datetime):
                value = value.date()
            new[name] = vDDDTypes(value)
            for key, param in prop.params.items():  # keep RANGE=THISANDFUTURE and friends
                if key.upper() != "TZID":
                    new[name].params.setdefault(key, param)
    for name in ("EXDATE", "RDATE"):
        if name in event:
            new[name] = [vDDDLists([_localise(d.dt, lst.params.get("TZID"), zones, xwr)
                                    for d in lst.dts]) for lst in _as_list(event[name])]
    start = new["DTSTART"].dt
    if "DTEND" in new and epoch(new["DTEND"].dt) < epoch(start):
        raise BadCalendarError("DTEND (waktu selesai) lebih awal daripada DTSTART (waktu mulai); "
                               "perbaiki waktu selesainya.")
    if "DURATION" in new and new["DURATION"].dt < timedelta(0):
        raise BadCalendarError("DURATION (lama kegiatan) tidak boleh negatif; tulis misalnya PT1H.")
    if "RRULE" in event:
        new["RRULE"] = [_fix_until(vRecur(rule), start) for rule in _as_list(event["RRULE"])]
    return new


def _fix_until(rule: vRecur, start: date) -> vRecur:
    """Make UNTIL comparable with DTSTART (RFC 5545 §3.3.10: UTC when DTSTART is zoned)."""
    if not rule.get("UNTIL"):
        return rule
    if rule.get("COUNT"):
        raise BadCalendarError("RRULE tidak boleh memuat COUNT dan UNTIL sekaligus "
                               "(RFC 5545 §3.3.10).")
    until = rule["UNTIL"][0]
    if isinstance(start, datetime):
        if not isinstance(until, datetime):  # a DATE UNTIL includes that whole day
            until = datetime.combine(until, time(23, 59, 59))
        if until.tzinfo is None:  # clients write local time although RFC says UTC
            until = until.replace(tzinfo=start.tzinfo)
        rule["UNTIL"] = [until.astimezone(UTC)]
    elif isinstance(until, datetime):
        rule["UNTIL"] = [until.astimezone(JAKARTA).date() if until.tzinfo else until.date()]
    return rule


def _check_rules(event: Any, window: tuple[int, int], limits: Limits) -> None:
    """Refuse explosive rules before expanding; bound and keep the others (recurrence.py)."""
    start = event["DTSTART"].dt
    total = sum(len(lst.dts) for lst in _as_list(event.get("RDATE")))
    kept = []
    for rule in _as_list(event.get("RRULE")):
        walk = check_rule(rule, start, window, limits.max_occurrences, limits.radicale_limit)
        total += walk.in_window
        if total > limits.max_occurrences:
            raise TooManyOccurrencesError(limits.max_occurrences)
        if walk.rule is not None:
            kept.append(walk.rule)
    if total > limits.max_occurrences:
        raise TooManyOccurrencesError(limits.max_occurrences)
    if "RRULE" in event:
        event["RRULE"] = kept
        if not kept:
            del event["RRULE"]


def extract(data: str | bytes | icalendar.Calendar, opd: str, matcher: Matcher, *, now: int,
            horizon_days: int = 730, max_occurrences: int = 5000,
            limits: Limits | None = None) -> Extracted:
    """Bookings of one calendar object within [now - 1 day, now + horizon_days].

    ``limits`` (when given) replaces ``horizon_days`` and ``max_occurrences``.
    """
    limits = limits or Limits(horizon_days=horizon_days, max_occurrences=max_occurrences)
    if not isinstance(data, icalendar.Calendar):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        count_dates(text, limits.max_exdates, limits.max_rdates)  # before the costly parse
    calendar = parse(data)
    items = [c for c in calendar.subcomponents if c.name in ("VEVENT", "VTODO", "VJOURNAL")]
    uids = {str(c.get("UID", "")).strip() for c in items}
    if len(uids) > 1:
        raise BadCalendarError(f"Satu item kalender hanya boleh berisi satu kegiatan (satu UID), "
                   f"ditemukan {len(uids)}.")
    uid = uids.pop() if uids else ""
    events = [c for c in items if c.name == "VEVENT"]
    if not events:
        return Extracted(uid, (), ())
    if not uid:
        raise BadCalendarError("Kegiatan tidak memiliki UID; simpan ulang dari aplikasi "
                               "kalender Anda (setiap kegiatan perlu UID, RFC 5545 §3.8.4.7).")
    if sum(1 for e in events if e.get("RECURRENCE-ID") is not None) > limits.max_overrides:
        raise TooManyDatesError("RECURRENCE-ID", limits.max_overrides)
    for event in events:
        _count(event, limits)
    zones = {str(z.get("TZID", "")): z for z in calendar.subcomponents if z.name == "VTIMEZONE"}
    xwr = calendar.get("X-WR-TIMEZONE")
    xwr_tz = resolve_tzid(str(xwr), zones) if xwr else None
    events = [_normalise_event(e, zones, xwr_tz) for e in events]
    # The horizon bounds recurrence expansion, not which events are checked: it
    # counts from now, or from the latest explicit start if that is later, so
    # a single event three years ahead is still checked.
    loose: list[Any] = events
    starts: list[Any] = [e["DTSTART"].dt for e in loose if e.get("DTSTART") is not None]
    latest = max((epoch(s) for s in starts), default=now)
    window = (now - DAY, max(now, latest) + limits.horizon_days * DAY)
    for event in events:
        _check_rules(event, window, limits)
    return _expand(uid, opd, matcher, events, window, limits.max_occurrences)


def _single(event: Any) -> Any:
    """A non-recurring event with its DTEND set (RFC 5545 §3.6.1 defaults)."""
    if "DTEND" in event:
        return event
    start = event["DTSTART"].dt
    if "DURATION" in event:
        end = start + event["DURATION"].dt
    elif isinstance(start, datetime):
        end = start  # a DATE-TIME event without end or duration takes no time
    else:
        end = start + timedelta(days=1)  # a DATE event lasts its day
    occurrence = event.copy()
    occurrence["DTEND"] = vDDDTypes(end)
    return occurrence


def _expand(uid: str, opd: str, matcher: Matcher, events: list[Any], window: tuple[int, int],
            limit: int) -> Extracted:
    """Expand the checked series and build the blocking bookings."""
    found: dict[tuple[int, ...], tuple[frozenset[str], frozenset[str]]] = {}
    locations: list[str] = []
    names: list[str] = []

    def resources(component: Any) -> tuple[frozenset[str], frozenset[str]]:
        # Occurrences are shallow copies sharing the property objects of their
        # source component, so identities are a cheap cache key.
        key = tuple(id(component.get(n)) for n in
                    ("LOCATION", "X-APPLE-STRUCTURED-LOCATION", "ATTENDEE", "DESCRIPTION"))
        if key not in found:
            venues, unmatched = matcher.venues(component)
            found[key] = (venues, matcher.persons(component))
            if str(component.get("STATUS", "")).upper() != "CANCELLED":
                locations.extend(unmatched)
                names.extend(matcher.unknown_persons(component))
        return found[key]

    for event in events:
        resources(event)
    series = visibility.series_class(events)
    recurring = any(n in e for e in events for n in ("RRULE", "RDATE", "RECURRENCE-ID"))
    occurrences: list[Any]
    if not recurring and len(events) == 1:
        # Most events happen once: their one occurrence is the event itself, with the
        # end RFC 5545 §3.6.1 gives it (no need for the recurrence machinery).
        occurrences = [_single(events[0])]
    else:
        wrapper = icalendar.Calendar()
        for event in events:
            wrapper.add_component(event)
        span = (datetime.fromtimestamp(window[0] - DAY, UTC),
                datetime.fromtimestamp(window[1] + DAY, UTC))
        try:
            occurrences = recurring_ical_events.of(wrapper).between(*span)
        except Exception as exc:  # the library's errors (BadRuleStringFormat, ...): bad data
            raise BadCalendarError(f"Pengulangan kegiatan tidak dapat dihitung: {exc}") from exc
    bookings: list[Booking] = []
    seen = 0
    for occ in occurrences:
        start, end = epoch(occ["DTSTART"].dt), epoch(occ["DTEND"].dt)
        if end <= window[0] or start >= window[1]:
            continue  # history before now - 1 day does not block
        seen += 1
        if seen > limit:
            raise TooManyOccurrencesError(limit)
        if (end <= start or str(occ.get("STATUS", "")).upper() == "CANCELLED"
                or str(occ.get("TRANSP", "")).upper() == "TRANSPARENT"):
            continue
        venues, persons = resources(occ)
        rid = occ.get("RECURRENCE-ID")
        # STATUS is per component: an override may confirm one date of a tentative
        # series or hold one date of a confirmed one (RFC 5545 §3.8.1.11, §3.8.4.4)
        bookings.append(Booking(
            uid=uid, opd=opd, start=start, end=end, venues=venues, persons=persons,
            title=str(occ.get("SUMMARY", "")),
            private=not visibility.title_shown(visibility.event_class(occ, series),
                                               visibility.Audience.OTHER_OPD),
            recurrence_id=epoch(rid.dt) if recurring and rid is not None else None,
            tentative=str(occ.get("STATUS", "")).strip().upper() == "TENTATIVE"))
    bookings.sort(key=lambda b: (b.start, b.end, b.recurrence_id or 0))
    return Extracted(uid, tuple(bookings), tuple(dict.fromkeys(locations)), window[1],
                     any("RRULE" in e or "RDATE" in e for e in events),
                     tuple(dict.fromkeys(names)))
