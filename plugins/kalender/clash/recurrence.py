"""Recurrence rules costed before anyone expands them (RFC 5545 §3.3.10, §3.8.5.3).

Every consumer of a stored rule walks it from its DTSTART with dateutil:
``kalender.clash.extract`` and recurring-ical-events up to the checking
window, and Radicale (vobject) every occurrence of a rule with COUNT or UNTIL
and up to the first occurrence of one without. dateutil steps period by period
(one FREQ unit), builds each period's candidate days (the whole year for
YEARLY) and combines every candidate day with every time of day from
BYHOUR/BYMINUTE/BYSECOND, also before DTSTART within its first period.

So the cost of a walk is ``periods x cost of one period`` (:func:`period_cost`,
calibrated in microseconds of dateutil on a 2-core server) and a rule is
refused (:class:`kalender.errors.RuleTooCostlyError`) before a walk that
would cost more than :data:`BUDGET`. dateutil tests UNTIL and
COUNT only at a candidate, so a walk through periods without any (a rule that
never matches, an INTERVAL that never meets a limiting BY part) goes on to the
year 9999: those are found without walking (:func:`ever_matches`) and refused
or dropped; a rule that can match meets a candidate within about 40 years,
since every kind of year recurs. With ``radicale_limit`` (the item is about
to be stored) the rules Radicale would refuse with a bare 400 are refused
here with a sentence, and so are the walks Radicale would make.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dateutil.rrule import rrule, rrulestr
from icalendar.prop import vRecur

from kalender.clash.tz import JAKARTA
from kalender.errors import BadCalendarError, RuleTooCostlyError, TooManyOccurrencesError

DAY = 86400
#: Work units (about one microsecond of dateutil) one walk of one rule may cost.
BUDGET = 200_000
_PER_PERIOD = 5  # a period's set-up
_PER_DAY = 4  # a candidate day turned into a datetime and compared
_SCAN = {"YEARLY": 366, "MONTHLY": 31, "WEEKLY": 7}  # days filtered per period (1/8 unit each)
#: Shortest length of one period: periods are counted from above.
SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": DAY, "WEEKLY": 7 * DAY,
           "MONTHLY": 28 * DAY, "YEARLY": 365 * DAY}
#: Radicale's own estimate of a rule's length (radicale/item/__init__.py).
RADICALE_SECONDS = {"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600, "DAILY": DAY,
                    "WEEKLY": 7 * DAY, "MONTHLY": 365 * DAY / 12, "YEARLY": 365 * DAY}
_ORDER = list(SECONDS)  # finest first
# BY parts and the frequency they belong to (RFC 5545 §3.3.10 table).
_UNIT = {"BYSECOND": "SECONDLY", "BYMINUTE": "MINUTELY", "BYHOUR": "HOURLY"}
_DAY_PARTS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
#: Parts that leave some periods of FREQ without any candidate (RFC 5545 §3.3.10
#: "limit"): with INTERVAL > 1 the periods visited may never meet them.
_DAYS_LIMIT = ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYDAY")
_LIMITING = {"MONTHLY": ("BYMONTH", "BYWEEKNO", "BYYEARDAY"),
             "WEEKLY": ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO"),
             "DAILY": _DAYS_LIMIT, "HOURLY": (*_DAYS_LIMIT, "BYHOUR"),
             "MINUTELY": (*_DAYS_LIMIT, "BYHOUR", "BYMINUTE"),
             "SECONDLY": (*_DAYS_LIMIT, "BYHOUR", "BYMINUTE", "BYSECOND")}


def epoch(value: date) -> int:
    """Epoch seconds of a DATE (WIB midnight) or DATE-TIME (floating = WIB)."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), JAKARTA)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=JAKARTA)
    return math.floor(value.timestamp())


def plain(start: date, instant: int) -> datetime:
    """An epoch in the same flavour as a rule's DTSTART, for dateutil comparisons."""
    if isinstance(start, datetime):
        return datetime.fromtimestamp(instant, UTC)
    return datetime.fromtimestamp(instant, JAKARTA).replace(tzinfo=None)


@dataclass(frozen=True)
class Walk:
    """What one rule's checked walk found: the rule to expand and its occurrences."""

    rule: vRecur | None  # None: the rule never matches (dropped, RFC 5545 §3.8.5.3)
    in_window: int = 0  # occurrences in the checking window


def day_candidates(rule: vRecur, freq: str) -> int:
    """An upper bound of the candidate days in one period."""
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
    return min(bounds or [1])  # DAILY and finer: one day per period


def times(rule: vRecur, freq: str) -> int:
    """How many times of day a BYHOUR/BYMINUTE/BYSECOND finer than FREQ expands to."""
    factor = 1
    for part, unit in _UNIT.items():
        if _ORDER.index(freq) > _ORDER.index(unit):
            factor *= len(rule.get(part, [])) or 1
    return factor


def set_size(rule: vRecur, freq: str) -> int:
    """An upper bound of the candidates in one period, which BYSETPOS picks from."""
    return day_candidates(rule, freq) * times(rule, freq)


def period_cost(rule: vRecur, freq: str) -> int:
    """The work units dateutil spends on one period of ``rule``."""
    return (_PER_PERIOD + _SCAN.get(freq, 1) // 8
            + day_candidates(rule, freq) * (_PER_DAY + times(rule, freq) // 2))


def ever_matches(rule: vRecur, freq: str, start: datetime) -> bool:
    """Whether the rule's day parts allow any day at all (30 February never comes).

    The probe (the same days with FREQ=YEARLY) starts in 9972: the 28 years
    up to 9999, where dateutil stops, hold every kind of year (leap or not,
    starting on each weekday), and which days a pattern picks depends on
    nothing else. dateutil checks UNTIL only at a candidate, so a probe from
    DTSTART would search to the year 9999 for a rule that cannot match.
    """
    parts = {k: list(rule[k]) for k in _DAY_PARTS if rule.get(k)}
    if not parts:
        return True
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
    probe = rrulestr(vRecur({"FREQ": ["YEARLY"], **parts}).to_ical().decode(),
                     dtstart=datetime(9972, 1, 1))
    return next(iter(probe), None) is not None


def _last_day(moment: datetime) -> datetime:
    """The last day dateutil handles, in the flavour of ``moment``."""
    return datetime(9999, 12, 30, tzinfo=moment.tzinfo)


def _add(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, at most the last day dateutil handles."""
    try:
        return min(moment + delta, _last_day(moment))
    except OverflowError:
        return _last_day(moment)


def _day(moment: datetime) -> str:
    """A date as people in Kediri read it (WIB): 30-12-9999."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(JAKARTA)
    return f"{moment.day:02d}-{moment.month:02d}-{moment.year:04d}"


def _periods(freq: str, interval: int, start: datetime, end: datetime) -> float:
    """How many periods of the rule lie from ``start`` to ``end`` (counted from above)."""
    return max(0.0, (end - start).total_seconds()) / (SECONDS[freq] * interval)


def _too_costly(rule: vRecur, freq: str, start: datetime, limit: int, why: str = "") -> \
        RuleTooCostlyError:
    """The refusal of a rule whose walk is too long, with what to change."""
    if not why:
        candidates = set_size(rule, freq)
        if candidates > 1000:
            parts = "/".join(p for p in ("BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYWEEKNO",
                                         "BYHOUR", "BYMINUTE", "BYSECOND") if rule.get(p))
            why = (f"nilai {parts} yang banyak sekaligus menghasilkan {candidates} calon "
                   "waktu dalam setiap periode; kurangi nilainya")
        else:
            why = (f"terlalu banyak periode FREQ={freq} dari DTSTART ({_day(start)}) sampai "
                   "akhir jangka pemeriksaan; mulai seri pada kejadian pertama yang masih "
                   "berlaku atau pilih FREQ yang lebih jarang")
    return RuleTooCostlyError(limit, f"Aturan pengulangan (RRULE) ini terlalu berat dihitung: "
                                     f"{why}.")


def check_rule(rule: vRecur, start: date, window: tuple[int, int], max_occurrences: int,
               radicale_limit: int | None) -> Walk:
    """Cost, check and walk one RRULE of a VEVENT whose (localised) DTSTART is ``start``.

    ``window`` is the checking window (epochs); ``radicale_limit`` is Radicale's
    ``[server] max_vevent_rrule_occurrence`` when the item is about to be
    stored (0: none), None otherwise (a re-index of stored data). Raises before
    any walk that would cost more than :data:`BUDGET`.
    """
    dtstart = start if isinstance(start, datetime) else datetime.combine(start, time())
    freq = str(rule.get("FREQ", [""])[0]).upper()
    try:
        interval = int(rule.get("INTERVAL", [1])[0])
    except (ValueError, TypeError) as exc:
        raise _invalid_rule(exc) from exc
    if freq not in SECONDS or interval < 1:
        raise BadCalendarError("Aturan pengulangan (RRULE) tidak valid: FREQ harus salah satu "
                               "dari DAILY, WEEKLY, MONTHLY, YEARLY (atau lebih rapat) dan "
                               "INTERVAL bilangan bulat positif.")
    allowed = BUDGET // period_cost(rule, freq)  # periods one walk may step through
    horizon = plain(start, window[1] + DAY)  # _expand asks for one day more
    raw_until = rule.get("UNTIL", [None])[0]
    until = plain(start, epoch(raw_until)) if raw_until is not None else None
    count = int(rule["COUNT"][0]) if rule.get("COUNT") else None
    storing = radicale_limit is not None
    if storing:
        _radicale_checks(rule, freq, dtstart, until, count, radicale_limit or 0)
    end = min(horizon, until) if until is not None else horizon
    if _periods(freq, interval, dtstart, end) + 1 > allowed:
        raise _too_costly(rule, freq, dtstart, max_occurrences)
    if storing and until is not None and _periods(freq, interval, dtstart, until) + 1 > allowed:
        raise _too_costly(rule, freq, dtstart, max_occurrences,
                          f"berulang sampai {_day(until)}, terlalu lama untuk FREQ={freq}; "
                          "majukan tanggal akhirnya (UNTIL)")
    positions = [abs(int(p)) for p in rule.get("BYSETPOS", [])]
    if not ever_matches(rule, freq, dtstart) or (positions and
                                                 min(positions) > set_size(rule, freq)):
        if storing:  # Radicale would search to the year 9999 for it
            raise BadCalendarError("Aturan pengulangan (RRULE) ini tidak pernah menghasilkan "
                                   "kejadian (misalnya tanggal 30 Februari atau Senin ke-6); "
                                   "perbaiki aturannya.")
        return Walk(None)  # RFC 5545 §3.8.5.3: no instances from it; DTSTART still counts
    last_day = _last_day(dtstart)
    limiting = [p for p in _LIMITING.get(freq, ()) if rule.get(p)]
    if interval > 1 and limiting and (_periods(freq, interval, dtstart, last_day)
                                      * (_PER_PERIOD + _SCAN.get(freq, 1) // 8) > BUDGET):
        # dateutil walks empty periods to the year 9999 when INTERVAL never meets them
        raise _too_costly(rule, freq, dtstart, max_occurrences,
                          f"INTERVAL={interval} bersama {'/'.join(limiting)} pada FREQ={freq} "
                          "bisa tidak pernah bertemu dan harus diperiksa sampai tahun 9999; "
                          "gunakan INTERVAL=1 atau FREQ yang lebih jarang (misalnya WEEKLY)")
    try:  # dateutil builds every time of day at once: only after the costing
        parsed: rrule = rrulestr(rule.to_ical().decode(), dtstart=dtstart)  # type: ignore[assignment]
    except (ValueError, TypeError, KeyError) as exc:
        raise _invalid_rule(exc) from exc
    # One walk from DTSTART, as far as the costliest consumer goes (bounded above).
    cap = end
    if storing and count is not None:  # Radicale walks to the COUNT-th occurrence
        cap = max(end, _add(dtstart, timedelta(seconds=allowed * SECONDS[freq] * interval)))
    elif storing and until is not None:  # ... and to UNTIL
        cap = until
    low, high = plain(start, window[0] - DAY), plain(start, window[1])
    seen = in_window = 0
    for occurrence in parsed.replace(count=None, until=cap):
        seen += 1
        if low <= occurrence < high:
            in_window += 1
            if in_window > max_occurrences:
                raise TooManyOccurrencesError(max_occurrences)
        if count is not None and seen >= count:
            break
    if storing:
        if count is not None and seen < count and cap < last_day:
            raise _too_costly(rule, freq, dtstart, max_occurrences,
                              f"COUNT={count} baru tercapai setelah waktu yang sangat lama; "
                              "gunakan tanggal akhir (UNTIL) sebagai gantinya")
        if radicale_limit and until is not None and seen > radicale_limit:
            raise _radicale_refusal(radicale_limit, f"sampai {_day(until)} menghasilkan "
                                    f"{seen} kejadian", "majukan tanggal akhirnya (UNTIL)")
    return Walk(_bounded(rule, start, count, seen, cap), in_window)


def _invalid_rule(exc: Exception) -> BadCalendarError:
    """The refusal of a rule dateutil cannot read."""
    return BadCalendarError(f"Aturan pengulangan (RRULE) tidak valid ({exc}); periksa FREQ, "
                            "INTERVAL, COUNT, UNTIL dan bagian BY-nya (RFC 5545 §3.3.10).")


def _bounded(rule: vRecur, start: date, count: int | None, seen: int, cap: datetime) -> vRecur:
    """The rule as expanded later: ending where the checked walk ended (same occurrences).

    recurring-ical-events then never walks farther than the walk costed here.
    """
    if count is not None and seen >= count:
        return rule  # it ends by itself within the walk
    bounded = vRecur({k: v for k, v in rule.items() if k not in ("COUNT", "UNTIL")})
    bounded["UNTIL"] = [cap.astimezone(UTC) if isinstance(start, datetime) else cap.date()]
    return bounded


def _radicale_checks(rule: vRecur, freq: str, dtstart: datetime, until: datetime | None,
                     count: int | None, limit: int) -> None:
    """Refuse, with a sentence, the rules Radicale refuses with a bare 400 (item.py)."""
    if count is not None and limit and count > limit:
        raise _radicale_refusal(limit, f"meminta {count} kejadian (COUNT)", "kurangi COUNT")
    if until is None:
        return
    if until < dtstart:
        raise BadCalendarError("Tanggal akhir pengulangan (UNTIL) lebih awal daripada waktu "
                               "mulai (DTSTART); perbaiki tanggal akhirnya.")
    if limit and (until - dtstart).total_seconds() / RADICALE_SECONDS[freq] > limit:
        raise _radicale_refusal(limit, f"FREQ={freq} sampai {_day(until)} berarti lebih "
                                f"dari {limit} periode", "majukan tanggal akhirnya (UNTIL)")


def _radicale_refusal(limit: int, what: str, change: str) -> RuleTooCostlyError:
    """A rule beyond ``[server] max_vevent_rrule_occurrence``."""
    return RuleTooCostlyError(limit, f"Aturan pengulangan (RRULE) {what}; server menerima "
                                     f"paling banyak {limit} kejadian per aturan. "
                                     f"{change[0].upper()}{change[1:]}.")
