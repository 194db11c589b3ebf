"""What a refused write is offered: the nearest free times, and the venues free at its time.

Pure (no Radicale, no clock): the guard passes the refused item's bookings,
the clashes found, ``now`` and a ``fetch`` that reads existing bookings
from the clash index for a list of envelope bookings (any superset is
right: :func:`kalender.clash.rules.find_clashes` only judges what it gets).
Every offer is judged by the engine itself (:mod:`kalender.clash.free`), so
a PUT at an offered time or venue is accepted while nothing else changes.

Bounded work, since it runs inside the storage's write lock: two index reads,
at most ``LOCKED`` candidate bookings for the times and as many for the
venues, each choice's first booking judged before the rest are built.

* Times: the refused occurrence moved, at the clashing venue (and with every
  other venue and person of the event), to the free slots of the same day
  nearest its own time; when that day has none, to the first of the next
  six days that has (weekends skipped for a weekday event). Hours are
  ``free.Hours`` stretched to hold the event's own time of day. For a
  recurring event every occurrence moves by the same amount, the same day
  only (a later day would change the rule, not the time).
* Venues (venue clashes only): every other registered venue where the event
  would fit at its own time, same building first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence

from kalender.clash import free
from kalender.clash.free import WIB, WORKING, Hours, Need, Suggestions
from kalender.clash.rules import Booking, Clash, Venue

__all__ = ["MAX_TIMES", "MAX_VENUES", "Trial", "slots", "suggest", "venues_at"]

#: At most this many times and venues are offered.
MAX_TIMES = 3
MAX_VENUES = 5
#: Events longer than this get no time suggestions (an all-day event moves by days).
LONGEST = 12 * 3600
#: Later days searched when the refused day has no free time.
LATER_DAYS = 6
#: Candidate bookings judged at most for the times, and again for the venues, of one
#: refusal: it runs inside the write lock (bench/bench_suggest.py measures it).
LOCKED = 1500

Fetch = Callable[[Sequence[Booking]], list[Booking]]


@dataclasses.dataclass(frozen=True)
class Trial:
    """What a write would meet (``Guard.trial``): its clashes, sentence, what fits instead."""

    clashes: tuple[Clash, ...]
    message: str  # '' when nothing clashes
    suggestions: Suggestions
    override: str | None = None  # an admin's "Abaikan bentrok" reason: accepted anyway

    @property
    def accepted(self) -> bool:
        """Whether the write would be accepted."""
        return not self.clashes or self.override is not None


def slots(need: Need, days: Iterable[dt.date], fetch: Fetch, venues: Mapping[str, Venue],
          now: int, hours: Hours = WORKING, limit: int = 10) -> list[tuple[int, int]]:
    """The first ``limit`` free (start, end) of ``need`` on ``days``, none before ``now``."""
    days = list(days)
    found = free.candidates(need, days, hours, now)
    return free.free_slots(need, days, fetch(found) if found else [], venues, hours, now,
                           limit)


def venues_at(booking: Booking, fetch: Fetch, venues: Mapping[str, Venue]) -> list[str]:
    """Registered venues where ``booking`` (its persons, its time) fits, by name."""
    envelope = dataclasses.replace(booking, venues=frozenset(venues))
    return free.free_venues([booking], fetch([envelope]), venues)


def _shifted(bookings: Sequence[Booking], delta: int) -> list[Booking]:
    """``bookings`` moved by ``delta`` seconds (what a candidate needs, nothing more)."""
    return [Booking(b.uid, b.opd, b.start + delta, b.end + delta, b.venues, b.persons)
            for b in bookings]


def _days(first: dt.date, series: bool) -> list[dt.date]:
    """The refused day, then the later days searched (a weekday event skips weekends)."""
    if series:
        return [first]
    later = [first + dt.timedelta(days=n) for n in range(1, LATER_DAYS + 1)]
    if first.weekday() < 5:
        later = [d for d in later if d.weekday() < 5]
    return [first, *later]


def _pick(starts: Sequence[int], reference: int, duration: int) -> list[int]:
    """Up to MAX_TIMES of ``starts`` nearest ``reference``, not overlapping each other."""
    chosen: list[int] = []
    for s in sorted(starts, key=lambda s: (abs(s - reference), s)):
        if all(abs(s - c) >= duration for c in chosen):
            chosen.append(s)
        if len(chosen) == MAX_TIMES:
            break
    return sorted(chosen)


def plan(bookings: Sequence[Booking], reference: Booking, now: int, hours: Hours = WORKING
         ) -> list[tuple[dt.date, int]]:
    """(day, start) for ``reference`` to try, in order: by day, then nearest its own time.

    At most ``LOCKED`` candidate bookings in all (each start moves every booking).
    """
    duration = reference.end - reference.start
    if not 0 < duration <= LONGEST:
        return []
    first = dt.datetime.fromtimestamp(reference.start, WIB).date()
    base = free.midnight(first)
    hours = hours.widened((reference.start - base) // 60, (reference.end - base + 59) // 60)
    found: list[tuple[dt.date, int]] = []
    for day in _days(first, len(bookings) > 1):
        shift = free.midnight(day) - base
        starts = [s for s in free.day_starts(day, duration, hours, now) if s != reference.start]
        found += [(day, s) for s in sorted(starts, key=lambda s: abs(s - shift - reference.start))]
    return found[:LOCKED // max(1, len(bookings))]


def free_times(bookings: Sequence[Booking], reference: Booking, existing: Sequence[Booking],
               venues: Mapping[str, Venue], tried: Sequence[tuple[dt.date, int]]
               ) -> list[tuple[int, int]]:
    """The nearest free (start, end) of ``reference`` among ``tried`` (the rest moved along)."""
    if not tried:
        return []
    duration = reference.end - reference.start
    base = free.midnight(dt.datetime.fromtimestamp(reference.start, WIB).date())
    deltas = [s - reference.start for _, s in tried]
    ordered = [reference, *(b for b in bookings if b != reference)]

    def picked(found: list[int]) -> list[int]:
        """The times chosen from ``found``: on the first day that has any, nearest first."""
        day = tried[found[0]][0]
        starts = [tried[n][1] for n in found if tried[n][0] == day]
        return _pick(starts, reference.start + free.midnight(day) - base, duration)

    def enough(found: list[int], judged: int) -> bool:
        """Three times picked, or the day of the first free time fully judged."""
        return bool(found) and (len(picked(found)) == MAX_TIMES or judged >= len(tried)
                                or tried[judged][0] != tried[found[0]][0])

    probes = [_shifted([reference], d)[0] for d in deltas]
    fits = free.free_in_order(probes, lambda n: _shifted(ordered, deltas[n]), existing, venues,
                              enough)
    return [(s, s + duration) for s in picked(fits)] if fits else []


def suggest(bookings: Sequence[Booking], clashes: Sequence[Clash], fetch: Fetch,
            venues: Mapping[str, Venue], now: int, hours: Hours = WORKING) -> Suggestions:
    """The suggestions for a write of ``bookings`` refused for ``clashes``."""
    if not clashes or not bookings:
        return Suggestions()
    reference = clashes[0].booking  # the earliest clashing occurrence
    venue = next((c.resource for c in clashes if c.kind == "venue"), None)
    persons = tuple(sorted({c.resource for c in clashes if c.kind == "person"}))
    tried = plan(bookings, reference, now, hours)
    times: list[tuple[int, int]] = []
    if tried:  # one index read: each booking's whole shifted range (a superset will do)
        deltas = [s - reference.start for _, s in tried]
        existing = fetch([Booking(b.uid, b.opd, b.start + min(deltas), b.end + max(deltas),
                                  b.venues, b.persons) for b in bookings])
        times = free_times(bookings, reference, existing, venues, tried)
    others: list[str] = []
    if venue is not None:  # one index read: every venue at the event's own times
        every = frozenset(venues) | {venue}
        existing = fetch([dataclasses.replace(b, venues=b.venues | every) for b in bookings])
        ordered = [reference, *(b for b in bookings if b != reference)]  # probed first
        others = free.free_venues(ordered, existing, venues, venue, MAX_VENUES, LOCKED)
    named = [v for v in (venue, *others) if v is not None]
    base = free.midnight(dt.datetime.fromtimestamp(reference.start, WIB).date())
    return Suggestions(tuple(times), venue, tuple(others), persons,
                       tuple((v, venues[v].name if v in venues else v) for v in named),
                       len(bookings) > 1, base)
