"""Turn one stored iCalendar object into bookings: parsing, time zones, expansion.

The only module that reads iCalendar; the rules are explained in docs/rules.md.
In short: one item = one UID (a master VEVENT and its RECURRENCE-ID overrides,
RFC 5545 §3.8.4.4); every TZID goes through :func:`kalender.clash.tz.resolve_tzid`;
floating times and DATEs are WIB; UTC times follow X-WR-TIMEZONE (Google).
Occurrences (recurring-ical-events: RRULE, RDATE, and EXDATE/RECURRENCE-ID
matched as instants) are kept within ``[now - 1 day, now + horizon_days]`` -
history does not block. Rules are costed and counted lazily *before*
expansion, so FREQ=SECONDLY is refused at once and a rule that can never
match (30 February) does not search to the year 9999. An end comes from
DTEND, else DURATION, else one day for a DATE and zero for a DATE-TIME
(RFC 5545 §3.6.1). Zero-length, STATUS:CANCELLED and TRANSP:TRANSPARENT
occurrences do not block, decided per occurrence like venues and persons.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

import icalendar
import recurring_ical_events
from dateutil.rrule import rrule, rrulestr
from icalendar.prop import vDDDLists, vDDDTypes, vRecur

from kalender.clash.rules import Booking
from kalender.clash.tz import JAKARTA, resolve_tzid
from kalender.errors import BadCalendarError, TooManyOccurrencesError

if TYPE_CHECKING:  # pragma: no cover
    from kalender.clash.match import Matcher

__all__ = ["Extracted", "extract"]

DAY = 86400
# Periods a rule may step through from DTSTART before we refuse it: dateutil
# walks every period (even filtered ones), and this keeps extract() < ~0.5 s.
_ITERATION_BUDGET = 200_000
_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": DAY, "WEEKLY": 7 * DAY,
            "MONTHLY": 28 * DAY, "YEARLY": 365 * DAY}
_ORDER = list(_SECONDS)  # finest first
# BY parts and the frequency they belong to (RFC 5545 §3.3.10 table).
_UNIT = {"BYSECOND": "SECONDLY", "BYMINUTE": "MINUTELY", "BYHOUR": "HOURLY"}
_DAY_PARTS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_KEY_PROPERTIES = {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE",
                   "RECURRENCE-ID", "UID", "STATUS", "TRANSP"}


@dataclass(frozen=True)
class Extracted:
    """The bookings of one item and the locations that matched no venue."""

    uid: str
    bookings: tuple[Booking, ...]  # blocking occurrences within [now - 1 day, now + horizon]
    locations: tuple[str, ...]  # free-text locations that matched no registered venue
    horizon: int = 0  # occurrences were expanded up to this instant (epoch)
    recurring: bool = False  # has an RRULE: re-expand as the horizon moves with time


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _epoch(value: date) -> int:
    """Epoch seconds of a DATE (WIB midnight) or DATE-TIME (floating = WIB)."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), JAKARTA)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=JAKARTA)
    return math.floor(value.timestamp())


def _parse(data: str | bytes | icalendar.Calendar) -> icalendar.Calendar:
    """The VCALENDAR of the item (a bare VEVENT is wrapped) or BadCalendarError."""
    if isinstance(data, icalendar.Calendar):
        parsed = data
    else:
        try:  # icalendar warns when it guesses "/vendor/Area/City" TZIDs; we resolve them
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                parsed = icalendar.Calendar.from_ical(data)
        except Exception as exc:
            raise BadCalendarError(f"Data kalender tidak dapat dibaca: {exc}") from exc
    for component in parsed.walk():
        for name, message in getattr(component, "errors", ()):
            if name is None:  # a line that is not "NAME;PARAMS:VALUE" at all
                raise BadCalendarError(f"Ada baris yang bukan format iCalendar: {message}")
    if parsed.name == "VEVENT":
        wrapper = icalendar.Calendar()
        wrapper.add_component(parsed)
        return wrapper
    if parsed.name != "VCALENDAR":
        raise BadCalendarError("Data kalender harus berupa VCALENDAR.")
    return parsed


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


def _normalise_event(event: Any, zones: Mapping[str, Any], xwr: tzinfo | None) -> Any:
    """A copy of the VEVENT with resolved zones, checked times and UTC UNTIL values."""
    for name, message in getattr(event, "errors", ()):
        if name in _KEY_PROPERTIES:  # icalendar keeps going; a broken time is fatal here
            raise BadCalendarError(f"Properti {name} tidak valid: {message}")
    if "DTSTART" not in event:
        raise BadCalendarError("Kegiatan tidak memiliki DTSTART (waktu mulai).")
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
    if "DTEND" in new and _epoch(new["DTEND"].dt) < _epoch(start):
        raise BadCalendarError("DTEND (waktu selesai) lebih awal daripada DTSTART (waktu mulai).")
    if "DURATION" in new and new["DURATION"].dt < timedelta(0):
        raise BadCalendarError("DURATION (lama kegiatan) tidak boleh negatif.")
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


def _plain(start: date, instant: int) -> datetime:
    """An epoch in the same flavour as the rule's DTSTART, for dateutil comparisons."""
    if isinstance(start, datetime):
        return datetime.fromtimestamp(instant, UTC)
    return datetime.fromtimestamp(instant, JAKARTA).replace(tzinfo=None)


def _satisfiable(rule: vRecur, freq: str, start: datetime) -> bool:
    """Whether the rule can ever match; dateutil searches to year 9999 when it cannot."""
    parts = {k: list(rule[k]) for k in _DAY_PARTS if rule.get(k)}
    if parts:  # probe the same days with FREQ=YEARLY: at most ~8000 cheap steps
        if freq not in ("MONTHLY", "YEARLY") and "BYDAY" in parts:  # ordinals count only there
            parts["BYDAY"] = [str(d).lstrip("+-0123456789") for d in parts["BYDAY"]]
        if not any(k in parts for k in _DAY_PARTS[1:]):  # the defaults dateutil would use
            if freq == "WEEKLY":
                parts["BYDAY"] = [_WEEKDAYS[start.weekday()]]
            elif freq == "MONTHLY":
                parts["BYMONTHDAY"] = [start.day]
            elif freq != "YEARLY":
                parts["BYDAY"] = list(_WEEKDAYS)
        if freq == "MONTHLY" and "BYMONTH" not in parts:  # ordinal BYDAY is per month
            parts["BYMONTH"] = list(range(1, 13))
        probe = vRecur({"FREQ": ["YEARLY"], **parts}).to_ical().decode()
        first_day = datetime.combine(start.date(), time())
        if next(iter(rrulestr(probe, dtstart=first_day)), None) is None:
            return False
    positions = [abs(int(p)) for p in rule.get("BYSETPOS", [])]
    return not positions or min(positions) <= _set_size(rule, freq)


def _set_size(rule: vRecur, freq: str) -> int:
    """An upper bound of the candidates in one period, which BYSETPOS picks from."""
    def n(part: str) -> int:
        return len(rule.get(part, []))

    days = [str(d) for d in rule.get("BYDAY", [])]
    plain = sum(1 for d in days if d.isalpha())  # "MO": every Monday; "2MO": one
    ordinal, months = len(days) - plain, n("BYMONTH")
    other_days = any(n(p) for p in _DAY_PARTS[1:])
    bounds: list[int] = []  # each is an upper bound; the day parts intersect
    if freq == "WEEKLY":
        bounds = [len(days) or (7 if other_days else 1)]
    elif freq == "MONTHLY":
        bounds = [b for b in (n("BYMONTHDAY"), ordinal + 5 * plain) if b]
        bounds = bounds or [31 if other_days else 1]
    elif freq == "YEARLY":
        weekly = ordinal * (months or 1) + plain * (5 * months if months else 53)
        bounds = [b for b in (n("BYYEARDAY"), n("BYMONTHDAY") * (months or 12),
                              7 * n("BYWEEKNO"), weekly) if b] or [months or 1]
    return min(bounds or [1]) * _times(rule, freq)  # DAILY and finer: one day per period


def _times(rule: vRecur, freq: str) -> int:
    """How many times of day a BYHOUR/BYMINUTE/BYSECOND finer than FREQ expands to."""
    factor = 1
    for part, unit in _UNIT.items():
        if _ORDER.index(freq) > _ORDER.index(unit):
            factor *= len(rule.get(part, [])) or 1
    return factor


def _check_rules(event: Any, window: tuple[int, int], limit: int) -> None:
    """Refuse explosive rules before expanding; drop rules that can never match."""
    start = event["DTSTART"].dt
    dtstart = start if isinstance(start, datetime) else datetime.combine(start, time())
    total = sum(len(lst.dts) for lst in _as_list(event.get("RDATE")))
    kept = []
    for rule in _as_list(event.get("RRULE")):
        freq = str(rule.get("FREQ", [""])[0]).upper()
        try:
            interval = int(rule.get("INTERVAL", [1])[0])
            parsed: rrule = rrulestr(rule.to_ical().decode(), dtstart=dtstart)  # type: ignore[assignment]
        except (ValueError, TypeError, KeyError) as exc:
            raise BadCalendarError(f"Aturan pengulangan (RRULE) tidak valid: {exc}") from exc
        if freq not in _SECONDS or interval < 1:
            raise BadCalendarError("Aturan pengulangan (RRULE) tidak valid: FREQ/INTERVAL salah.")
        horizon = _plain(start, window[1])
        until = rule.get("UNTIL", [None])[0]
        bound = min(horizon, _plain(start, _epoch(until))) if until else horizon
        periods = max(0.0, (bound - dtstart).total_seconds()) / (_SECONDS[freq] * interval)
        if (periods + 1) * _times(rule, freq) > _ITERATION_BUDGET:
            raise TooManyOccurrencesError(limit)
        if not _satisfiable(rule, freq, dtstart):
            continue  # RFC 5545 §3.8.5.3: no instances from it; DTSTART still counts
        kept.append(rule)
        for occurrence in parsed.xafter(_plain(start, window[0] - DAY), inc=True):
            if occurrence >= horizon:
                break
            total += 1
            if total > limit:
                raise TooManyOccurrencesError(limit)
    if total > limit:
        raise TooManyOccurrencesError(limit)
    if "RRULE" in event:
        event["RRULE"] = kept
        if not kept:
            del event["RRULE"]


def extract(data: str | bytes | icalendar.Calendar, opd: str, matcher: Matcher, *, now: int,
            horizon_days: int = 730, max_occurrences: int = 5000) -> Extracted:
    """Bookings of one calendar object within [now - 1 day, now + horizon_days]."""
    calendar = _parse(data)
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
        raise BadCalendarError("Kegiatan tidak memiliki UID.")
    zones = {str(z.get("TZID", "")): z for z in calendar.subcomponents if z.name == "VTIMEZONE"}
    xwr = calendar.get("X-WR-TIMEZONE")
    xwr_tz = resolve_tzid(str(xwr), zones) if xwr else None
    events = [_normalise_event(e, zones, xwr_tz) for e in events]
    # The horizon bounds recurrence expansion, not which events are checked: it
    # counts from now, or from the latest explicit start if that is later, so
    # a single event three years ahead is still checked.
    loose: list[Any] = events
    starts: list[Any] = [e["DTSTART"].dt for e in loose if e.get("DTSTART") is not None]
    latest = max((_epoch(s) for s in starts), default=now)
    window = (now - DAY, max(now, latest) + horizon_days * DAY)
    for event in events:
        _check_rules(event, window, max_occurrences)
    return _expand(uid, opd, matcher, events, window, max_occurrences)


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
        return found[key]

    for event in events:
        resources(event)
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
        start, end = _epoch(occ["DTSTART"].dt), _epoch(occ["DTEND"].dt)
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
        bookings.append(Booking(
            uid=uid, opd=opd, start=start, end=end, venues=venues, persons=persons,
            title=str(occ.get("SUMMARY", "")),
            private=str(occ.get("CLASS", "")).upper() in ("PRIVATE", "CONFIDENTIAL"),
            recurrence_id=_epoch(rid.dt) if recurring and rid is not None else None))
    bookings.sort(key=lambda b: (b.start, b.end, b.recurrence_id or 0))
    return Extracted(uid, tuple(bookings), tuple(dict.fromkeys(locations)), window[1],
                     any("RRULE" in e or "RDATE" in e for e in events))
