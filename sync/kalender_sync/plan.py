"""Plan, then act: the output writes that a set of source changes leads to.

Pure: sources and the previously recorded outputs in, actions out (as journal
rows, see ``kalender_sync.state``). ``kalender sync --dry-run`` prints them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import icalendar
import recurring_ical_events

from kalender.clash.match import Matcher
from kalender_sync.state import Output
from kalender_sync.transform import (
    Extra,
    Source,
    content_key,
    full_copy,
    output_href,
    parse,
    public_copy,
    stamped,
    venue_copies,
)

PUBLIC = "publik/agenda"
LEADERS = "pimpinan/agenda"
FOREVER = 2**62
WIB = dt.timezone(dt.timedelta(hours=7))
#: The protocol office's decision on a source naming these key persons: (state, reason),
#: ("", "") when approval is off or the item needs none (``kalender.pemda.approvals``).
Approval = Callable[[Source, frozenset[str]], tuple[str, str]]


@dataclass(frozen=True)
class Change:
    """A source item created or changed (``source`` set) or deleted (None)."""

    opd: str
    href: str
    source: Source | None


def targets(src: Source, cal: icalendar.Calendar, matcher: Matcher,
            approval: Approval | None = None) -> dict[tuple[str, str], icalendar.Calendar]:
    """Every output copy of one source: (calendar, href) -> content.

    A venue calendar gets only the occurrences at that venue
    (:func:`kalender_sync.transform.venue_copies`): possibly several hrefs, one per
    override moved there from a series held elsewhere.
    """
    venues: set[str] = set()
    persons: set[str] = set()
    at: dict[int, frozenset[str]] = {}  # venues of each VEVENT, by identity
    for event in cal.walk("VEVENT"):
        at[id(event)] = matcher.venues(event)[0]
        venues |= at[id(event)]
        persons |= matcher.persons(event)  # stand-ins instead of whom they represent
    state, reason = approval(src, frozenset(persons)) if approval is not None else ("", "")
    extra = Extra(state, reason, matcher)
    href = output_href(src.opd, src.uid)
    out: dict[tuple[str, str], icalendar.Calendar] = {(LEADERS, href): full_copy(src, cal, extra)}
    public = public_copy(src, cal, extra)
    if public is not None:
        out[(PUBLIC, href)] = public
    for venue in sorted(venues):
        def here(event: icalendar.cal.Component, venue: str = venue) -> bool:
            return venue in at.get(id(event), frozenset())
        for venue_href, copy in venue_copies(src, cal, extra, here).items():
            out[(f"ruang/{venue}", venue_href)] = copy
    for person in sorted(persons):
        out[(f"orang/{person}", href)] = full_copy(src, cal, extra)  # stamped one by one
    return out


def _epoch(value: dt.date) -> int:
    """Epoch seconds of a DATE or DATE-TIME (floating and dates in WIB)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=WIB)
    return int(value.timestamp())


def span(cal: icalendar.Calendar) -> tuple[int, int]:
    """First start and last end of all occurrences (FOREVER for an unbounded rule)."""
    events: list[Any] = list(cal.walk("VEVENT"))
    start = min(_epoch(e["DTSTART"].dt) for e in events if e.get("DTSTART") is not None)
    for e in events:
        rule = e.get("RRULE")
        if rule is not None and not rule.get("COUNT") and not rule.get("UNTIL"):
            return start, FOREVER
    try:
        ends = [_epoch(o["DTEND"].dt) if o.get("DTEND") is not None else _epoch(o["DTSTART"].dt)
                for o in recurring_ical_events.of(cal).all()]
    except Exception:
        return start, FOREVER
    return start, max(ends, default=start)


def plan(changes: Iterable[Change], previous: Callable[[str, str], dict[tuple[str, str], Output]],
         matcher: Matcher, dtstamp: str, skipped: list[str],
         approval: Approval | None = None) -> list[Output]:
    """The journal rows (writes and deletes) that bring the outputs up to date."""
    actions: list[Output] = []
    for change in changes:
        old = previous(change.opd, change.href)
        new: dict[tuple[str, str], icalendar.Calendar] = {}
        if change.source is not None:
            try:
                cal = parse(change.source)
                new = targets(change.source, cal, matcher, approval)
                window = span(cal)
            except Exception as e:
                skipped.append(f"/opd/{change.opd}/{change.href}: {e}")
                continue  # unreadable: leave its copies as they are, report it
        for (calendar, href), copy in new.items():
            prev = old.get((calendar, href))
            sequence = prev.sequence + 1 if prev is not None and prev.key else 0
            text = stamped(copy, dtstamp, sequence)  # serialised once: its key comes from it
            key = content_key(text)
            if prev is not None and prev.key == key:
                continue
            actions.append(Output(calendar, href, change.opd, change.href, key, sequence, dtstamp,
                                  text, *window, False))
        for (calendar, href), prev in old.items():
            if (calendar, href) not in new:
                actions.append(Output(calendar, href, change.opd, change.href, None,
                                      prev.sequence, prev.dtstamp, None, prev.span_start,
                                      prev.span_end, False))
    return actions


def describe(action: Output) -> str:
    """One line of ``--dry-run`` output."""
    verb = "hapus" if action.key is None else ("buat" if action.sequence == 0 else "ubah")
    return f"{verb:<5} /{action.calendar}/{action.href}  (dari /opd/{action.opd}/{action.source})"
