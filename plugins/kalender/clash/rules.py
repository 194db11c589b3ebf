"""The pure clash engine: plain bookings in, clashes out.

No Radicale, no iCalendar, no clock: every instant is an integer of epoch
seconds (UTC) and every interval is half-open ``[start, end)``, so two
bookings that touch (one ends at 10:00, the next starts at 10:00) do not
overlap. An empty interval (``start >= end``) overlaps nothing.

Semantics of :func:`find_clashes` (also in ``docs/rules.md``):

* Existing bookings of the same item as a candidate (same uid *and* same
  OPD: a UID is unique within one calendar, RFC 4791 §5.3.2) are ignored, so
  a changed event never clashes with its own previous version. The same UID
  in another OPD's calendar is another item and does clash. (For a MOVE, the
  caller drops the source item's bookings before calling.)
* Candidates never clash with each other (they are the occurrences of one
  series being written).
* Venue clash, for a candidate booking venue ``v``: the candidate interval is
  widened by ``v.setup_min`` before and ``v.teardown_min`` after; each
  existing booking is widened by the buffers of the venue *it* booked.

  - An existing booking at another member of ``v``'s family (its ancestors
    through ``parent`` and all its descendants) that overlaps blocks
    exclusively, whatever the capacities: booking a hall blocks its parts
    and booking a part blocks the hall. Siblings do not block each other.
  - At ``v`` itself a clash happens when, at some instant inside the
    candidate's widened window, the number of simultaneously overlapping
    existing bookings plus the candidate exceeds ``v.capacity`` (a sweep
    over the window, not a plain count). The offending bookings are the
    existing ones present during such an over-full stretch.
  - ``Clash.resource`` is the candidate's venue ``v``; ``Clash.other.venues``
    says where the blocking booking is.
  - A venue id missing from ``venues`` has capacity 1, no buffers, no family.
* Person clash: any existing booking that shares a person id and overlaps
  the candidate's own (unwidened) interval.
* Every clash is returned (each candidate occurrence × each offending existing
  booking, once per kind and resource), sorted by candidate start, kind,
  resource, other start, then stable tie-breakers.

Tentative holds (``Booking.tentative``: STATUS:TENTATIVE, RFC 5545 §3.8.1.11)
are judged by :func:`judge` under a policy the caller passes (the deployment's
``[storage] kalender_tentative``; nothing here reads a configuration):

* ``BLOCK``: a hold is a booking; every clash refuses the write.
* ``WARN``: holds never refuse. The refusing clashes are those of the firm
  candidates against the firm existing bookings alone (so a hold neither
  fills a venue's capacity nor makes a slot unavailable); every other clash
  (a side is a hold, or the candidate fits only because holds are left out)
  is a warning: the write is accepted and its OPD is told.
  :func:`obstacles` is the same rule for searches of free time and venues.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["BLOCK", "POLICIES", "WARN", "Booking", "Clash", "Person", "Venue", "Verdict",
           "find_clashes", "judge", "obstacles", "overlaps", "venue_family"]

#: How tentative holds count (``[storage] kalender_tentative``): they block like a booking...
BLOCK = "block"
#: ... or a clash with a hold is accepted with a warning to the writing OPD.
WARN = "warn"
POLICIES = (BLOCK, WARN)


@dataclass(frozen=True)
class Venue:
    """A bookable place; ``parent`` links a part of a hall to the hall."""

    id: str
    name: str
    building: str = ""
    aliases: tuple[str, ...] = ()
    capacity: int = 1  # parallel bookings allowed
    setup_min: int = 0  # buffer before each booking, minutes
    teardown_min: int = 0  # buffer after each booking, minutes
    parent: str | None = None  # booking a hall blocks its parts and the reverse
    # (latitude, longitude) in decimal degrees, WGS 84: only the web's map link reads it.
    # It lives here, not in a second registry, so that one venues.csv row stays the
    # whole description of a venue; the clash engine ignores it.
    coordinates: tuple[float, float] | None = None


@dataclass(frozen=True)
class Person:
    """A key person who cannot be in two places at once (e.g. the Wali Kota)."""

    id: str
    title: str
    emails: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Booking:
    """One blocking occurrence of one event."""

    uid: str
    opd: str
    start: int  # epoch seconds (UTC), half-open [start, end)
    end: int
    venues: frozenset[str] = frozenset()
    persons: frozenset[str] = frozenset()
    title: str = ""
    #: another OPD may not read the title (kalender.visibility.title_shown is False:
    #: CONFIDENTIAL, PRIVATE, an unknown CLASS, or an override of such a series)
    private: bool = False
    recurrence_id: int | None = None  # original start (epoch) of this occurrence if recurring
    #: STATUS:TENTATIVE of this occurrence (RFC 5545 §3.8.1.11): a hold, judged by policy
    tentative: bool = False


@dataclass(frozen=True)
class Clash:
    """A candidate occurrence that collides with an existing one on a resource."""

    kind: Literal["venue", "person"]
    resource: str  # venue id or person id
    booking: Booking  # the candidate occurrence
    other: Booking  # an existing occurrence it collides with


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """Whether two half-open intervals share an instant (touching does not count)."""
    return a_start < a_end and b_start < b_end and a_start < b_end and b_start < a_end


def venue_family(venue_id: str, venues: Mapping[str, Venue]) -> frozenset[str]:
    """The venue itself, its ancestors and all its descendants."""
    family = {venue_id}
    node = venues.get(venue_id)
    while node is not None and node.parent is not None and node.parent not in family:
        family.add(node.parent)  # the guard above also stops a parent cycle
        node = venues.get(node.parent)
    children: dict[str, list[str]] = defaultdict(list)
    for v in venues.values():
        if v.parent is not None:
            children[v.parent].append(v.id)
    stack = [venue_id]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in family:
                family.add(child)
                stack.append(child)
    return frozenset(family)


class _Timeline:
    """Existing bookings of one resource, sorted by (widened) start, for bisecting."""

    def __init__(self, items: list[tuple[int, int, Booking]]) -> None:
        items.sort(key=lambda item: (item[0], item[1]))
        self.items = items
        self.starts = [item[0] for item in items]
        self.longest = max((e - s for s, e, _ in items), default=0)

    def overlapping(self, start: int, end: int) -> list[tuple[int, int, Booking]]:
        """Items whose interval overlaps [start, end)."""
        # An item starting before start - longest cannot reach start.
        lo = bisect_left(self.starts, start - self.longest)
        hi = bisect_left(self.starts, end)
        return [it for it in self.items[lo:hi] if overlaps(start, end, it[0], it[1])]


def _over_capacity(window: tuple[int, int], items: list[tuple[int, int, Booking]],
                   capacity: int) -> list[Booking]:
    """Existing bookings present while existing + candidate exceed capacity."""
    if len(items) + 1 <= capacity:
        return []
    w_start, w_end = window
    events: list[tuple[int, int]] = []
    for s, e, _ in items:
        events.append((max(s, w_start), 1))
        events.append((min(e, w_end), -1))
    events.sort()  # at equal instants -1 sorts first: half-open intervals
    full: list[tuple[int, int]] = []  # stretches where the candidate does not fit
    level = 0
    for i, (t, step) in enumerate(events):
        level += step
        if level + 1 > capacity and i + 1 < len(events) and events[i + 1][0] > t:
            full.append((t, events[i + 1][0]))
    return [b for s, e, b in items if any(overlaps(s, e, fs, fe) for fs, fe in full)]


def _buffers(venue_id: str, venues: Mapping[str, Venue]) -> tuple[int, int]:
    venue = venues.get(venue_id)
    if venue is None:
        return 0, 0
    return venue.setup_min * 60, venue.teardown_min * 60


def find_clashes(candidates: Sequence[Booking], existing: Iterable[Booking],
                 venues: Mapping[str, Venue]) -> list[Clash]:
    """Every clash of the candidate occurrences against the existing bookings."""
    own_items = {(c.uid, c.opd) for c in candidates}
    by_venue: dict[str, list[tuple[int, int, Booking]]] = defaultdict(list)
    by_person: dict[str, list[tuple[int, int, Booking]]] = defaultdict(list)
    for b in existing:
        if (b.uid, b.opd) in own_items:
            continue
        for vid in b.venues:
            setup, teardown = _buffers(vid, venues)
            by_venue[vid].append((b.start - setup, b.end + teardown, b))
        for pid in b.persons:
            by_person[pid].append((b.start, b.end, b))
    venue_lines = {vid: _Timeline(items) for vid, items in by_venue.items()}
    person_lines = {pid: _Timeline(items) for pid, items in by_person.items()}
    families: dict[str, frozenset[str]] = {}

    clashes: list[Clash] = []
    seen: set[tuple[int, str, str, int]] = set()

    def add(kind: Literal["venue", "person"], resource: str, c: Booking, other: Booking) -> None:
        key = (id(c), kind, resource, id(other))
        if key not in seen:
            seen.add(key)
            clashes.append(Clash(kind, resource, c, other))

    for c in candidates:
        for vid in sorted(c.venues):
            setup, teardown = _buffers(vid, venues)
            window = (c.start - setup, c.end + teardown)
            if vid not in families:
                families[vid] = venue_family(vid, venues) if vid in venues else frozenset({vid})
            for member in sorted(families[vid] - {vid}):
                line = venue_lines.get(member)
                for _, _, other in line.overlapping(*window) if line else ():
                    add("venue", vid, c, other)  # family blocks exclusively
            own = venue_lines.get(vid)
            if own is not None:
                venue = venues.get(vid)
                capacity = venue.capacity if venue is not None else 1
                for other in _over_capacity(window, own.overlapping(*window), capacity):
                    add("venue", vid, c, other)
        for pid in sorted(c.persons):
            line = person_lines.get(pid)
            for _, _, other in line.overlapping(c.start, c.end) if line else ():
                add("person", pid, c, other)

    clashes.sort(key=lambda x: (
        x.booking.start, x.kind, x.resource, x.other.start,
        x.booking.end, x.booking.uid, x.other.end, x.other.uid, x.other.opd,
        x.other.recurrence_id if x.other.recurrence_id is not None else -1,
    ))
    return clashes


@dataclass(frozen=True)
class Verdict:
    """What a write meets under a tentative policy: clashes that refuse it, and warnings."""

    refused: tuple[Clash, ...] = ()
    warned: tuple[Clash, ...] = ()  # accepted, the writing OPD is told (WARN only)


def obstacles(existing: Iterable[Booking], policy: str = BLOCK) -> list[Booking]:
    """The existing bookings that can refuse a firm booking under ``policy``."""
    if policy == BLOCK:
        return list(existing)
    return [b for b in existing if not b.tentative]


def judge(candidates: Sequence[Booking], existing: Iterable[Booking],
          venues: Mapping[str, Venue], policy: str = BLOCK) -> Verdict:
    """The clashes of ``candidates`` split into refusing ones and warnings by ``policy``."""
    if policy not in POLICIES:
        raise ValueError(f"unknown tentative policy {policy!r}")
    existing = list(existing)
    every = find_clashes(candidates, existing, venues)
    if policy == BLOCK or not every:
        return Verdict(tuple(every))
    firm = [c for c in candidates if not c.tentative]
    refused = find_clashes(firm, obstacles(existing, policy), venues) if firm else []
    keys = {(id(c.booking), c.kind, c.resource, id(c.other)) for c in refused}
    warned = [c for c in every if (id(c.booking), c.kind, c.resource, id(c.other)) not in keys]
    return Verdict(tuple(refused), tuple(warned))
