"""Free-slot search: which times and venues a booking could take without clashing.

Pure like :mod:`kalender.clash.rules` (no Radicale, no clock): candidate
bookings are generated over given days within working hours and judged by
:func:`kalender.clash.rules.find_clashes` itself against the existing
bookings, so buffers, capacity, halls and their parts, key persons and
recurring series count exactly as they do when the write is checked. What
is offered here as free is what the guard then accepts (given the same
existing bookings).

A *choice* is a group of candidate bookings that must all be free together
(one slot of one event, or every occurrence of a series shifted by the same
amount); :func:`free_choices` asks the engine once for all of them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from kalender.clash.rules import Booking, Venue, find_clashes

__all__ = ["WORKING", "Hours", "Need", "Suggestions", "candidates", "free_choices",
           "free_in_order", "free_slots", "free_venues", "midnight", "moved", "venue_order"]

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")  # Indonesia keeps no daylight saving time
#: At most this many candidate bookings are judged in one search (bounded work).
MAX_CANDIDATES = 3000


@dataclass(frozen=True)
class Hours:
    """The working hours candidates are generated in (minutes after 00.00 WIB)."""

    start: int = 7 * 60
    end: int = 18 * 60
    step: int = 30

    def widened(self, start: int, end: int) -> Hours:
        """These hours, stretched to hold the time of day [start, end) (minutes)."""
        return Hours(min(self.start, start), max(self.end, end), self.step)


#: 07.00-18.00 WIB in steps of 30 minutes.
WORKING = Hours()


@dataclass(frozen=True)
class Need:
    """What a booking needs: how long, where, who, and which item it is."""

    duration: int  # seconds
    venues: frozenset[str] = frozenset()
    persons: frozenset[str] = frozenset()
    #: the item being moved or checked (its own bookings never block it, rules.py)
    uid: str = ""
    opd: str = ""

    def at(self, start: int) -> Booking:
        """The candidate booking of this need starting at ``start``."""
        return Booking(self.uid, self.opd, start, start + self.duration, self.venues,
                       self.persons)


@dataclass(frozen=True)
class Suggestions:
    """What a refused write is offered: nearest free times, and venues free at its time."""

    #: (start, end) of the refused occurrence moved to a free time, nearest first
    times: tuple[tuple[int, int], ...] = ()
    venue: str | None = None  #: the clashing venue the times are at (None: a person clash)
    venues: tuple[str, ...] = ()  #: venue ids free at the refused time instead of ``venue``
    persons: tuple[str, ...] = ()  #: the clashing persons the times are free for
    #: (venue id, display name) of ``venue`` and ``venues`` (for sentences and XML)
    names: tuple[tuple[str, str], ...] = ()
    series: bool = False  #: the times move every occurrence of a recurring event
    day: int = 0  #: 00.00 WIB (epoch) of the refused occurrence's day

    def __bool__(self) -> bool:
        """Whether anything is offered."""
        return bool(self.times or self.venues)

    def name(self, venue_id: str) -> str:
        """Display name of a venue id of these suggestions."""
        return dict(self.names).get(venue_id, venue_id)


def midnight(day: dt.date) -> int:
    """00.00 WIB of ``day`` (epoch seconds)."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=WIB).timestamp())


def day_starts(day: dt.date, duration: int, hours: Hours = WORKING,
               not_before: int | None = None) -> list[int]:
    """Candidate starts on ``day``: every step within the hours that leaves room to end."""
    base = midnight(day)
    first, last = base + hours.start * 60, base + hours.end * 60 - duration
    starts = range(first, last + 1, max(1, hours.step) * 60)
    return [s for s in starts if not_before is None or s >= not_before]


def candidates(need: Need, days: Iterable[dt.date], hours: Hours = WORKING,
               not_before: int | None = None) -> list[Booking]:
    """Candidate bookings of ``need`` over ``days`` (at most MAX_CANDIDATES, in time order)."""
    found: list[Booking] = []
    for day in sorted(set(days)):
        for start in day_starts(day, need.duration, hours, not_before):
            if len(found) >= MAX_CANDIDATES:
                return found
            found.append(need.at(start))
    return found


def free_choices(choices: Sequence[Sequence[Booking]], existing: Iterable[Booking],
                 venues: Mapping[str, Venue]) -> list[int]:
    """Indexes of the choices none of whose bookings clash, in order (one engine call).

    The bookings of all choices are candidates of one call: candidates never
    clash with each other (rules.py), and a booking equal in two choices
    clashes in both or in neither.
    """
    owners: dict[Booking, list[int]] = defaultdict(list)
    flat: list[Booking] = []
    for number, bookings in enumerate(choices):
        for b in bookings:
            owners[b].append(number)
            flat.append(b)
    busy = {n for c in find_clashes(flat, existing, venues) for n in owners[c.booking]}
    return [n for n, bookings in enumerate(choices) if bookings and n not in busy]


def free_in_order(probes: Sequence[Booking], whole: Callable[[int], Sequence[Booking]],
                  existing: Iterable[Booking], venues: Mapping[str, Venue],
                  enough: Callable[[list[int], int], bool], batch: int = 6) -> list[int]:
    """Indexes of the free choices, in order, judged until ``enough(found, judged)`` says so.

    Choice ``n`` is the bookings ``whole(n)``, among them ``probes[n]``. The
    probes are judged first, all at once (a choice whose probe clashes is not
    free, whatever the rest); only the choices left are built, and judged
    whole ``batch`` at a time, in order (a choice of one booking is its probe).
    ``judged`` is how many choices from the start are decided; what is found is
    always the start of what :func:`free_choices` would give.
    """
    existing = list(existing)
    alive = free_choices([[p] for p in probes], existing, venues)
    found: list[int] = []
    for at in range(0, len(alive), batch):
        group = alive[at:at + batch]
        built = {n: whole(n) for n in group}
        several = [n for n in group if len(built[n]) > 1]
        fits = {several[i] for i in free_choices([built[n] for n in several], existing, venues)}
        found += [n for n in group if n in fits or len(built[n]) <= 1]
        judged = alive[at + batch] if at + batch < len(alive) else len(probes)
        if enough(found, judged):
            break
    return found


def free_slots(need: Need, days: Iterable[dt.date], existing: Iterable[Booking],
               venues: Mapping[str, Venue], hours: Hours = WORKING,
               not_before: int | None = None, limit: int = 10) -> list[tuple[int, int]]:
    """The first ``limit`` free (start, end) of ``need`` over ``days``, in time order."""
    found = candidates(need, days, hours, not_before)
    free = free_choices([[b] for b in found], existing, venues)
    return [(found[n].start, found[n].end) for n in free[:limit]]


def _kind(venue: Venue) -> str:
    """The first word of a venue's name ("ruang", "aula", "gedung")."""
    return venue.name.split(" ", 1)[0].casefold()


def venue_order(instead: str | None, venues: Mapping[str, Venue]) -> list[str]:
    """Every venue but ``instead``, the way a PIC looks for a room instead of it.

    The same building as ``instead`` first, among them those of the same kind
    (the first word of the name: "Ruang ..."), then by name.
    """
    known = venues.get(instead) if instead is not None else None
    home, kind = (known.building, _kind(known)) if known is not None else (None, None)
    order = sorted(venues.values(), key=lambda v: (v.building != home, _kind(v) != kind,
                                                   v.name.casefold(), v.id))
    return [v.id for v in order if v.id != instead]


def moved(bookings: Sequence[Booking], instead: str | None, venue_id: str) -> list[Booking]:
    """``bookings`` at ``venue_id`` instead of ``instead`` (their other venues kept)."""
    return [Booking(b.uid, b.opd, b.start, b.end,
                    (b.venues - {instead} if instead else b.venues) | {venue_id}, b.persons)
            for b in bookings]


def free_venues(bookings: Sequence[Booking], existing: Iterable[Booking],
                venues: Mapping[str, Venue], instead: str | None = None,
                limit: int | None = None, budget: int = MAX_CANDIDATES) -> list[str]:
    """Registered venues where ``bookings`` (with ``instead`` replaced) would not clash.

    In :func:`venue_order`, the first ``limit`` only (all when None), among the
    venues whose choices fit in ``budget`` candidate bookings. The first booking
    is judged at every venue first (kalender.clash.free.free_in_order).
    """
    if not bookings:
        return []
    used = {v for b in bookings for v in b.venues}
    ids = [v for v in venue_order(instead, venues) if v not in used]
    ids = ids[:max(1, budget // len(bookings))]
    wanted = limit if limit is not None else len(ids)
    probes = [moved(bookings[:1], instead, v)[0] for v in ids]
    found = free_in_order(probes, lambda n: moved(bookings, instead, ids[n]), existing, venues,
                          lambda found, _: len(found) >= wanted, max(1, wanted))
    return [ids[n] for n in found][:wanted]
