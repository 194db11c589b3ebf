"""Recognise registered venues and key persons in an event, as each client can set them.

Venues come from LOCATION, the X-TITLE parameter of Apple's
X-APPLE-STRUCTURED-LOCATION, and room/resource attendees
(``ATTENDEE;CUTYPE=ROOM`` or ``RESOURCE``: Outlook room mailboxes), matched by
CN and by the local part of the address. Persons, and the stand-ins that move
them, are read by :class:`kalender.clash.persons.PersonMatcher`, which
:class:`Matcher` asks. Everything is compared after
:func:`kalender.clash.words.normalise`.

A text is matched in four steps, the first that finds something wins: the
whole text; its parts split on ``,`` ``;`` or new lines (when several parts
match, a part that only names the building of another matched venue, or an
ancestor of it, is dropped: "Ruang Joyoboyo, Balai Kota Kediri" is the room);
the longest registered name contained in the text as whole words; and last a
*distinctive word*: a word of a name or alias that is not generic ("Ruang",
"Gedung", "Kota"...: :data:`kalender.clash.words.GENERIC_PLACE_WORDS`)
identifies its entry when exactly one entry has it and the text has no other
word of its own ("Kilisuci" is Ruang Kilisuci; "RSUD Kilisuci" is not). The
matcher never guesses between two entries: :meth:`Matcher.suggest_venues`
names the likely ones for a "PERIKSA LOKASI" notice instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from kalender.clash.persons import PersonMatcher
from kalender.clash.rules import Person, Venue
from kalender.clash.words import (
    GENERIC_PLACE_WORDS,
    PARENS,
    ROOM_TYPES,
    NameIndex,
    WordIndex,
    address,
    as_list,
    normalise,
    variants,
)
from kalender.pemda.standin import Delegation

__all__ = ["Matcher"]


class Matcher:
    """Finds venue ids and person ids in a VEVENT; indexes are built once here."""

    def __init__(self, venues: Sequence[Venue], persons: Sequence[Person]) -> None:
        """Index the registered venues and persons by every normalised name."""
        self._venues = NameIndex()
        self._venue_words = WordIndex(GENERIC_PLACE_WORDS)
        self._building: dict[str, str] = {}
        self._parent: dict[str, str | None] = {}
        for v in venues:
            for name in (v.name, *v.aliases, f"{v.name} {v.building}" if v.building else ""):
                for key in variants(name) if name else ():
                    self._venues.add(key, v.id)
            for name in (v.name, *v.aliases):  # not the building: it names other venues too
                for key in variants(name):
                    self._venue_words.add(key, v.id)
            self._building[v.id] = normalise(PARENS.sub(" ", v.building))
            self._parent[v.id] = v.parent
        self._people = PersonMatcher(persons)

    # -- venues ------------------------------------------------------------------
    def _ancestors(self, vid: str) -> set[str]:
        found: set[str] = set()
        parent = self._parent.get(vid)
        while parent is not None and parent not in found:
            found.add(parent)
            parent = self._parent.get(parent)
        return found

    def _venue_hits(self, text: str) -> list[tuple[str, frozenset[str]]]:
        """(matched key, venue ids) for one text: whole, else parts, else contained."""
        key = normalise(text)
        if key in self._venues.keys:
            return [(key, frozenset(self._venues.keys[key]))]
        hits = [(k, frozenset(self._venues.keys[k])) for part in re.split(r"[,;\n]", text)
                if (k := normalise(part)) in self._venues.keys]
        if not hits and (contained := self._venues.contained(text)):
            hits = [contained]
        if not hits and (unique := self._venue_words.unique(text)):
            hits = [(key, unique)]
        return hits

    def _most_specific(self, hits: Iterable[tuple[str, frozenset[str]]]) -> frozenset[str]:
        """Drop a venue whose text only names the building, or an ancestor, of another."""
        hits = list(hits)
        found: frozenset[str] = frozenset().union(*(ids for _, ids in hits))
        drop = {vid for key, ids in hits for vid in ids
                if any(key == self._building.get(o) or vid in self._ancestors(o)
                       for o in found - {vid})}
        return found - drop or found

    def match_venue(self, text: str) -> frozenset[str]:
        """Venue ids named by one free text (whole, then parts, then contained words)."""
        return self._most_specific(self._venue_hits(text))

    def venues(self, component: Any) -> tuple[frozenset[str], tuple[str, ...]]:
        """(venue ids, location texts that matched nothing) of one VEVENT."""
        texts = [str(loc) for loc in as_list(component.get("LOCATION"))]
        for structured in as_list(component.get("X-APPLE-STRUCTURED-LOCATION")):
            texts.append(str(getattr(structured, "params", {}).get("X-TITLE", "")))
        hits: list[tuple[str, frozenset[str]]] = []
        unmatched: list[str] = []
        for text in texts:
            if text.strip():
                found = self._venue_hits(text)
                hits += found
                if not found:
                    unmatched.append(" ".join(text.split()))
        for attendee in as_list(component.get("ATTENDEE")):
            params = getattr(attendee, "params", {})
            if str(params.get("CUTYPE", "")).upper() not in ROOM_TYPES:
                continue
            cn, local = str(params.get("CN", "")).strip(), address(attendee).split("@")[0]
            found = (self._venue_hits(cn) if cn else []) or self._venue_hits(local)
            hits += found
            if not found:
                unmatched.append(cn or address(attendee))
        if hits:  # the unmatched texts describe the same place (street address)
            return self._most_specific(hits), ()
        return frozenset(), tuple(dict.fromkeys(unmatched))

    def suggest_venues(self, text: str) -> frozenset[str]:
        """Venues an unmatched location may mean (for a "PERIKSA LOKASI" notice)."""
        return frozenset() if self.match_venue(text) else self._venue_words.likely(text)

    # -- persons (kalender.clash.persons) ----------------------------------------
    def match_person(self, text: str) -> frozenset[str]:
        """Person ids named by one DESCRIPTION item (exact, " dan " parts, contained, word)."""
        return self._people.match_person(text)

    def suggest_persons(self, text: str) -> frozenset[str]:
        """Persons an unmatched name may mean."""
        return self._people.suggest_persons(text)

    def persons(self, component: Any) -> frozenset[str]:
        """Person ids of one VEVENT after its stand-ins (:meth:`PersonMatcher.persons`)."""
        return self._people.persons(component)

    def delegations(self, component: Any) -> tuple[Delegation, ...]:
        """Stand-ins of one VEVENT (:meth:`PersonMatcher.delegations`)."""
        return self._people.delegations(component)

    def unknown_persons(self, component: Any) -> tuple[str, ...]:
        """Labelled names of one VEVENT that match no person (:class:`PersonMatcher`)."""
        return self._people.unknown_persons(component)
