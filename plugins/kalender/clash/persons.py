"""Recognise key persons in an event, and who stands in for whom.

Persons come from the attendees that are not rooms (address against
``Person.emails``, CN against title and aliases; declined attendees are
skipped) and from labelled lines in DESCRIPTION such as ``Narasumber: Wali
Kota Kediri; Kepala Dinkes`` (see ``docs/konvensi-pic.md``), compared after
:func:`kalender.clash.words.normalise`. Stand-ins move the person check
(:meth:`PersonMatcher.persons`): a person represented ("Wali Kota diwakili
oleh Wakil Wali Kota", :mod:`kalender.pemda.standin`, or
``ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO=``, RFC 5545 §3.2.4) is free, the
stand-in busy. :class:`kalender.clash.match.Matcher` asks this module.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from kalender.clash.rules import Person
from kalender.clash.words import (
    GENERIC_PERSON_WORDS,
    ROOM_TYPES,
    NameIndex,
    WordIndex,
    address,
    as_list,
    variants,
)
from kalender.pemda import standin
from kalender.pemda.standin import Delegation

__all__ = ["PersonMatcher"]

# "Narasumber:", "Pimpinan upacara:", "Dihadiri oleh:" (up to two words after the label).
_LABEL = re.compile(r"^\W*(?:narasumber|pimpinan|hadir|peserta|pejabat|dihadiri)"
                    r"(?:\s+[^\W\d_]+){0,2}\s*:\s*(.*)$", re.I)
_AND = re.compile(r"\s+(?:dan|serta)\s+|\s*&\s*", re.I)
_BREAK = re.compile(r"<\s*(?:br\s*/?|/p|/div|/li)\s*>", re.I)
_TAG = re.compile(r"<[^>]+>")


class PersonMatcher:
    """Finds person ids and stand-ins in a VEVENT; the indexes are built once here."""

    def __init__(self, persons: Sequence[Person]) -> None:
        """Index the registered persons by every normalised title, alias and address."""
        self._persons = NameIndex()
        self._person_words = WordIndex(GENERIC_PERSON_WORDS)
        self._emails: dict[str, set[str]] = defaultdict(set)
        self._titles = {p.id: p.title for p in persons}
        for p in persons:
            for name in (p.title, *p.aliases):
                for key in variants(name, parenthetical=True):
                    self._persons.add(key, p.id)
                    self._person_words.add(key, p.id)
            for email in p.emails:
                self._emails[address(email).casefold()].add(p.id)

    def match_person(self, text: str) -> frozenset[str]:
        """Person ids named by one DESCRIPTION item (exact, " dan " parts, contained, word)."""
        if ids := self._persons.exact(text):
            return ids
        found: set[str] = set()
        for piece in _AND.split(text):
            if exact := self._persons.exact(piece):
                found |= exact
            elif contained := self._persons.contained(piece):
                found |= contained[1]
            else:
                found |= self._person_words.unique(piece)
        return frozenset(found)

    def suggest_persons(self, text: str) -> frozenset[str]:
        """Persons an unmatched name may mean."""
        return frozenset() if self.match_person(text) else self._person_words.likely(text)

    def persons(self, component: Any) -> frozenset[str]:
        """Person ids of one VEVENT after its stand-ins: (named - absent) | present.

        Named are the attendees and the labelled DESCRIPTION lines; a represented
        person is free and the stand-in busy (:meth:`delegations`). A stand-in who
        is represented in turn (A by B, B by C) is free too.
        """
        named = self._named(component)
        delegations = self._delegations(component, named)
        absent = frozenset().union(*(d.absent for d in delegations))
        present = frozenset().union(*(d.present for d in delegations))
        return (named | present) - absent

    def _named(self, component: Any) -> frozenset[str]:
        """Person ids the VEVENT names, before stand-ins: attendees, labelled lines."""
        found: set[str] = set()
        for attendee in as_list(component.get("ATTENDEE")):
            params = getattr(attendee, "params", {})
            if str(params.get("CUTYPE", "")).upper() in ROOM_TYPES:
                continue
            if str(params.get("PARTSTAT", "")).upper() == "DECLINED":
                continue  # a declined invitation does not take the person's time
            found |= self._emails.get(address(attendee).casefold(), set())
            if cn := str(params.get("CN", "")).strip():
                found |= self._persons.exact(cn)
        for description in as_list(component.get("DESCRIPTION")):
            found |= self._from_description(str(description))
        return frozenset(found)

    def delegations(self, component: Any) -> tuple[Delegation, ...]:
        """Stand-ins of one VEVENT: ATTENDEE delegations, then DESCRIPTION lines.

        Only stand-ins that involve a registered person on either side count. A
        ``Diwakili oleh: X`` line represents the one key person the event names
        otherwise (:mod:`kalender.pemda.standin`).
        """
        return self._delegations(component, None)

    def _delegations(self, component: Any,
                     named: frozenset[str] | None) -> tuple[Delegation, ...]:
        found = list(self._attendee_delegations(component))
        pending: list[tuple[frozenset[str], str]] = []  # "Diwakili oleh: X": whom is open
        for absent_text, present_text in self._standin_lines(component):
            present = self.match_person(present_text)
            if not absent_text:
                pending.append((present, present_text))
                continue
            absent = self.match_person(absent_text)
            if absent or present:
                found.append(Delegation(absent, present, absent_text, present_text))
        for present, present_text in pending:
            if named is None:
                named = self._named(component)
            taken = frozenset().union(present, *(d.absent | d.present for d in found))
            others = named - taken
            absent = others if len(others) == 1 else frozenset()
            if absent or present:
                found.append(Delegation(absent, present, self._title(absent), present_text))
        return tuple(dict.fromkeys(found))

    def _standin_lines(self, component: Any) -> list[tuple[str, str]]:
        return [pair for description in as_list(component.get("DESCRIPTION"))
                for pair in standin.read(str(description))]

    def _title(self, ids: frozenset[str]) -> str:
        """The registered titles of some person ids, as people read them."""
        return " dan ".join(sorted(self._titles[i] for i in ids if i in self._titles))

    def _attendee_delegations(self, component: Any) -> list[Delegation]:
        """ATTENDEE delegations (:func:`kalender.pemda.standin.delegated`, RFC 5545 §3.2.4-5).

        The delegator is free, each delegate busy unless it declined; an address
        is a person by e-mail, else by the CN of its ATTENDEE (RFC 5545 §3.8.4.1).
        """
        found: list[Delegation] = []
        for source, targets in standin.delegated(as_list(component.get("ATTENDEE"))):
            absent = self._party(source)
            present = frozenset().union(*(self._party(t) for t in targets if not t.declined))
            if absent or present:
                found.append(Delegation(absent, present, self._party_text(source), ", ".join(
                    self._party_text(t) for t in targets)))
        return found

    def _party(self, party: standin.Party) -> frozenset[str]:
        """Persons of one calendar address: by e-mail, else by its ATTENDEE's CN."""
        found = set(self._emails.get(party.address, ()))
        return frozenset(found | (self._persons.exact(party.cn) if party.cn else set()))

    def _party_text(self, party: standin.Party) -> str:
        """How a person reads one address: its CN, else the registered title, else it."""
        return party.cn or self._title(self._party(party)) or party.address

    def _from_description(self, text: str) -> set[str]:
        found: set[str] = set()
        for line in _lines(text):
            if match := _LABEL.match(line):
                for item in re.split(r"[;,]", match[1]):
                    if item.strip():
                        found |= self.match_person(item)
        return found

    def unknown_persons(self, component: Any) -> tuple[str, ...]:
        """Names in labelled DESCRIPTION lines of one VEVENT that match no registered person.

        Read with the same split as :meth:`persons`; of an item that matches as a
        whole nothing is unknown, else each of its " dan " parts that matches
        nothing is ("Wali Kota dan Kapolres": "Kapolres"). Of a stand-in line
        (:mod:`kalender.pemda.standin`) whose one side is a registered person, the
        other side is unknown if it matches nobody ("Wali Kota diwakili oleh
        Kapolres": "Kapolres"). Whitespace is tidied, repeats dropped, the order kept.
        """
        unknown: list[str] = []
        for description in as_list(component.get("DESCRIPTION")):
            for line in _lines(str(description)):
                if not (match := _LABEL.match(line)):
                    continue
                for item in re.split(r"[;,]", match[1]):
                    if not item.strip() or self._persons.exact(item):
                        continue
                    pieces = [p for p in _AND.split(item) if p.strip()]
                    if not self.match_person(item):
                        pieces = [item]
                    unknown += [" ".join(p.split()) for p in pieces if not self.match_person(p)]
        for absent_text, present_text in self._standin_lines(component):
            # one side registered and the other not: a typo or an unregistered
            # stand-in ("Wali Kota diwakili oleh Kapolres"); both unknown is prose
            absent = not absent_text or bool(self.match_person(absent_text))
            present = bool(self.match_person(present_text))
            if absent != present:
                unknown.append(absent_text if present else present_text)
        return tuple(dict.fromkeys(unknown))


def _lines(text: str) -> Iterable[str]:
    """Lines of a DESCRIPTION; Google sends HTML with <br>, so those become line breaks."""
    if "<" in text:
        text = html.unescape(_TAG.sub("", _BREAK.sub("\n", text)))
    return text.splitlines()
