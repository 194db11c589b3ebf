"""Recognise registered venues and key persons in an event, as each client can set them.

Venues come from LOCATION, the X-TITLE parameter of Apple's
X-APPLE-STRUCTURED-LOCATION, and room/resource attendees
(``ATTENDEE;CUTYPE=ROOM`` or ``RESOURCE``: Outlook room mailboxes), matched by
CN and by the local part of the address. Persons come from the other
attendees (address against ``Person.emails``, CN against title and aliases;
declined attendees are skipped) and from labelled lines in DESCRIPTION such
as ``Narasumber: Wali Kota Kediri; Kepala Dinkes`` (see
``docs/konvensi-pic.md``). Everything is compared after :func:`normalise`.
Stand-ins move the person check (:meth:`Matcher.persons`): a person represented
("Wali Kota diwakili oleh Wakil Wali Kota", :mod:`kalender.pemda.standin`, or
``ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO=``, RFC 5545 §3.2.4) is free, the
stand-in busy.

A text is matched in four steps, the first that finds something wins: the
whole text; its parts split on ``,`` ``;`` or new lines (when several parts
match, a part that only names the building of another matched venue, or an
ancestor of it, is dropped: "Ruang Joyoboyo, Balai Kota Kediri" is the room);
the longest registered name contained in the text as whole words; and last a
*distinctive word*: a word of a name or alias that is not generic ("Ruang",
"Gedung", "Kota"...: :data:`GENERIC_PLACE_WORDS`) identifies its entry when
exactly one entry has it and the text has no other word of its own
("Kilisuci" is Ruang Kilisuci; "RSUD Kilisuci" is not). The matcher never
guesses between two entries: :meth:`Matcher.suggest_venues` names the likely
ones for a "PERIKSA LOKASI" notice instead.
"""

from __future__ import annotations

import difflib
import html
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from kalender.clash.rules import Person, Venue
from kalender.pemda import standin
from kalender.pemda.standin import Delegation

__all__ = ["Matcher", "normalise"]

# One token -> its canonical words. "R. Joyoboyo" = "Ruang Joyoboyo", "Gd." = "Gedung".
_WORDS = {
    "r": "ruang", "rg": "ruang", "gd": "gedung", "gdg": "gedung", "mall": "mal",
    "rumdin": "rumah dinas", "pj": "penjabat", "sekda": "sekretaris daerah",
    "wawali": "wakil walikota", "walkot": "walikota", "kadis": "kepala dinas",
    "kaban": "kepala badan", "balkot": "balaikota",
}
# Two words that clients write as one: "Balaikota" = "Balai Kota", "Walikota" = "Wali Kota".
_PAIRS = {("balai", "kota"): "balaikota", ("wali", "kota"): "walikota",
          ("pemerintah", "kota"): "pemkot"}
_PARENS = re.compile(r"\([^)]*\)")
# "Narasumber:", "Pimpinan upacara:", "Dihadiri oleh:" (up to two words after the label).
_LABEL = re.compile(r"^\W*(?:narasumber|pimpinan|hadir|peserta|pejabat|dihadiri)"
                    r"(?:\s+[^\W\d_]+){0,2}\s*:\s*(.*)$", re.I)
_AND = re.compile(r"\s+(?:dan|serta)\s+|\s*&\s*", re.I)
_BREAK = re.compile(r"<\s*(?:br\s*/?|/p|/div|/li)\s*>", re.I)
_TAG = re.compile(r"<[^>]+>")
_ROOM_TYPES = {"ROOM", "RESOURCE"}
#: Words that name a kind of place, a part of one, or the city: never one venue alone.
GENERIC_PLACE_WORDS = frozenset({
    "ruang", "ruangan", "rapat", "sidang", "gedung", "aula", "balai", "balaikota", "kota",
    "kediri", "pemkot", "pemerintah", "lantai", "lt", "kantor", "halaman", "kawasan",
    "wisata", "taman", "hutan", "stadion", "gor", "gelanggang", "olahraga", "jalan", "jl",
    "mal", "pelayanan", "publik", "rumah", "dinas", "plaza", "sport", "center", "centre",
    "park", "hall", "room", "meeting", "pendopo", "kecamatan", "kelurahan", "nomor", "no",
    "di", "dan", "the", "lokasi", "tempat", "utama", "besar", "kecil", "timur", "barat",
    "utara", "selatan", "sayap", "paripurna", "alun", "area", "lapangan",
})
#: Words of titles that never name one person alone.
GENERIC_PERSON_WORDS = frozenset({
    "kota", "kediri", "pemkot", "pemerintah", "daerah", "bapak", "ibu", "pak", "bu", "sdr",
    "saudara", "kepala", "dinas", "badan", "bagian", "bidang", "sekretariat", "dan",
    "walikota", "wali", "penjabat", "pj", "asisten", "staf", "ahli", "yth", "beserta",
})
#: Shorter words are never distinctive (numbers, "I", "II", abbreviations of one letter).
MIN_DISTINCT = 4


def normalise(text: str) -> str:
    """Canonical form for matching names: case-folded words, known spellings unified."""
    text = unicodedata.normalize("NFKC", text).casefold()
    words: list[str] = []
    for token in re.sub(r"[\W_]+", " ", text).split():
        expansion = _WORDS.get(token, token).split()
        # "Penjabat (Pj)" and "Sekretaris Daerah (Sekda)" must not say it twice.
        if token in _WORDS and words[-len(expansion):] == expansion:
            continue
        words.extend(expansion)
    merged: list[str] = []
    for word in words:
        if merged and (merged[-1], word) in _PAIRS:
            merged[-1] = _PAIRS[(merged[-1], word)]
        else:
            merged.append(word)
    # A trailing "Kota Kediri", "Kediri" or "Pemkot Kediri" only says which city.
    while len(merged) > 1 and merged[-1] in ("kediri", "kota", "pemkot"):
        merged.pop()
    return " ".join(merged)


def _variants(name: str, *, parenthetical: bool = False) -> set[str]:
    """Keys for a registered name: as written, without "(...)", optionally the "(...)"."""
    keys = {normalise(name), normalise(_PARENS.sub(" ", name))}
    if parenthetical:
        for inner in _PARENS.findall(name):
            if len(normalise(inner).split()) >= 2:  # "(Pj)" alone would be ambiguous
                keys.add(normalise(inner))
    return keys - {""}


class _Index:
    """Normalised name -> ids, with exact, part and contained-words lookups."""

    def __init__(self) -> None:
        self.keys: dict[str, set[str]] = defaultdict(set)
        self.longest = 1

    def add(self, key: str, ident: str) -> None:
        self.keys[key].add(ident)
        self.longest = max(self.longest, len(key.split()))

    def exact(self, text: str) -> frozenset[str]:
        return frozenset(self.keys.get(normalise(text), ()))

    def contained(self, text: str) -> tuple[str, frozenset[str]] | None:
        """The longest registered name found as whole words (leftmost wins ties)."""
        words = normalise(text).split()
        for n in range(min(self.longest, len(words)), 0, -1):
            for i in range(len(words) - n + 1):
                key = " ".join(words[i:i + n])
                if key in self.keys:
                    return key, frozenset(self.keys[key])
        return None


class _Words:
    """Distinctive word -> ids of the entries whose names or aliases contain it."""

    def __init__(self, generic: frozenset[str]) -> None:
        self.generic = generic
        self.ids: dict[str, set[str]] = defaultdict(set)
        self.own: dict[str, set[str]] = defaultdict(set)  # id -> every word of its names

    def add(self, key: str, ident: str) -> None:
        for word in key.split():
            self.own[ident].add(word)
            if len(word) >= MIN_DISTINCT and word not in self.generic:
                self.ids[word].add(ident)

    def candidates(self, text: str) -> tuple[frozenset[str], set[str]]:
        """(ids named by the text's distinctive words, the text's other specific words)."""
        found: set[str] = set()
        other: set[str] = set()
        for word in normalise(text).split():
            if word in self.ids:
                found |= self.ids[word]
            elif word not in self.generic and not word.isdigit():
                other.add(word)
        return frozenset(found), other

    def unique(self, text: str) -> frozenset[str]:
        """The one entry the text names by a distinctive word, with no stray word."""
        found, other = self.candidates(text)
        if len(found) != 1:
            return frozenset()
        (ident,) = found
        return found if not other - self.own[ident] else frozenset()

    def likely(self, text: str) -> frozenset[str]:
        """Entries the text may mean: shared distinctive words, or a near spelling."""
        found, other = self.candidates(text)
        if found:
            return found
        near: set[str] = set()
        for word in other:
            for close in difflib.get_close_matches(word, list(self.ids), n=3, cutoff=0.8):
                near |= self.ids[close]
        return frozenset(near)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _address(attendee: Any) -> str:
    value = str(attendee).strip()
    return value[7:] if value[:7].casefold() == "mailto:" else value


class Matcher:
    """Finds venue ids and person ids in a VEVENT; indexes are built once here."""

    def __init__(self, venues: Sequence[Venue], persons: Sequence[Person]) -> None:
        """Index the registered venues and persons by every normalised name."""
        self._venues = _Index()
        self._venue_words = _Words(GENERIC_PLACE_WORDS)
        self._building: dict[str, str] = {}
        self._parent: dict[str, str | None] = {}
        for v in venues:
            for name in (v.name, *v.aliases, f"{v.name} {v.building}" if v.building else ""):
                for key in _variants(name) if name else ():
                    self._venues.add(key, v.id)
            for name in (v.name, *v.aliases):  # not the building: it names other venues too
                for key in _variants(name):
                    self._venue_words.add(key, v.id)
            self._building[v.id] = normalise(_PARENS.sub(" ", v.building))
            self._parent[v.id] = v.parent
        self._persons = _Index()
        self._person_words = _Words(GENERIC_PERSON_WORDS)
        self._emails: dict[str, set[str]] = defaultdict(set)
        self._titles = {p.id: p.title for p in persons}
        for p in persons:
            for name in (p.title, *p.aliases):
                for key in _variants(name, parenthetical=True):
                    self._persons.add(key, p.id)
                    self._person_words.add(key, p.id)
            for email in p.emails:
                self._emails[_address(email).casefold()].add(p.id)

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
        texts = [str(loc) for loc in _as_list(component.get("LOCATION"))]
        for structured in _as_list(component.get("X-APPLE-STRUCTURED-LOCATION")):
            texts.append(str(getattr(structured, "params", {}).get("X-TITLE", "")))
        hits: list[tuple[str, frozenset[str]]] = []
        unmatched: list[str] = []
        for text in texts:
            if text.strip():
                found = self._venue_hits(text)
                hits += found
                if not found:
                    unmatched.append(" ".join(text.split()))
        for attendee in _as_list(component.get("ATTENDEE")):
            params = getattr(attendee, "params", {})
            if str(params.get("CUTYPE", "")).upper() not in _ROOM_TYPES:
                continue
            cn, local = str(params.get("CN", "")).strip(), _address(attendee).split("@")[0]
            found = (self._venue_hits(cn) if cn else []) or self._venue_hits(local)
            hits += found
            if not found:
                unmatched.append(cn or _address(attendee))
        if hits:  # the unmatched texts describe the same place (street address)
            return self._most_specific(hits), ()
        return frozenset(), tuple(dict.fromkeys(unmatched))

    def suggest_venues(self, text: str) -> frozenset[str]:
        """Venues an unmatched location may mean (for a "PERIKSA LOKASI" notice)."""
        return frozenset() if self.match_venue(text) else self._venue_words.likely(text)

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
        for attendee in _as_list(component.get("ATTENDEE")):
            params = getattr(attendee, "params", {})
            if str(params.get("CUTYPE", "")).upper() in _ROOM_TYPES:
                continue
            if str(params.get("PARTSTAT", "")).upper() == "DECLINED":
                continue  # a declined invitation does not take the person's time
            found |= self._emails.get(_address(attendee).casefold(), set())
            if cn := str(params.get("CN", "")).strip():
                found |= self._persons.exact(cn)
        for description in _as_list(component.get("DESCRIPTION")):
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
        return [pair for description in _as_list(component.get("DESCRIPTION"))
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
        for source, targets in standin.delegated(_as_list(component.get("ATTENDEE"))):
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
        for description in _as_list(component.get("DESCRIPTION")):
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
