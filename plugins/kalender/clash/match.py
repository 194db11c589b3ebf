"""Recognise registered venues and key persons in an event, as each client can set them.

Venues come from LOCATION, the X-TITLE parameter of Apple's
X-APPLE-STRUCTURED-LOCATION, and room/resource attendees
(``ATTENDEE;CUTYPE=ROOM`` or ``RESOURCE``: Outlook room mailboxes), matched by
CN and by the local part of the address. Persons come from the other
attendees (address against ``Person.emails``, CN against title and aliases;
declined attendees are skipped) and from labelled lines in DESCRIPTION such
as ``Narasumber: Wali Kota Kediri; Kepala Dinkes`` (see
``docs/konvensi-pic.md``). Everything is compared after :func:`normalise`.

A text is matched in three steps, the first that finds something wins: the
whole text; its parts split on ``,`` ``;`` or new lines (when several parts
match, a part that only names the building of another matched venue, or an
ancestor of it, is dropped: "Ruang Joyoboyo, Balai Kota Kediri" is the room);
the longest registered name contained in the text as whole words.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from kalender.clash.rules import Person, Venue

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
        self._building: dict[str, str] = {}
        self._parent: dict[str, str | None] = {}
        for v in venues:
            for name in (v.name, *v.aliases, f"{v.name} {v.building}" if v.building else ""):
                for key in _variants(name) if name else ():
                    self._venues.add(key, v.id)
            self._building[v.id] = normalise(_PARENS.sub(" ", v.building))
            self._parent[v.id] = v.parent
        self._persons = _Index()
        self._emails: dict[str, set[str]] = defaultdict(set)
        for p in persons:
            for name in (p.title, *p.aliases):
                for key in _variants(name, parenthetical=True):
                    self._persons.add(key, p.id)
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

    def match_person(self, text: str) -> frozenset[str]:
        """Person ids named by one DESCRIPTION item (exact, then " dan " parts, contained)."""
        if ids := self._persons.exact(text):
            return ids
        found: set[str] = set()
        for piece in _AND.split(text):
            if exact := self._persons.exact(piece):
                found |= exact
            elif contained := self._persons.contained(piece):
                found |= contained[1]
        return frozenset(found)

    def persons(self, component: Any) -> frozenset[str]:
        """Person ids of one VEVENT: attendees, then labelled DESCRIPTION lines."""
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

    def _from_description(self, text: str) -> set[str]:
        found: set[str] = set()
        for line in _lines(text):
            if match := _LABEL.match(line):
                for item in re.split(r"[;,]", match[1]):
                    if item.strip():
                        found |= self.match_person(item)
        return found


def _lines(text: str) -> Iterable[str]:
    """Lines of a DESCRIPTION; Google sends HTML with <br>, so those become line breaks."""
    if "<" in text:
        text = html.unescape(_TAG.sub("", _BREAK.sub("\n", text)))
    return text.splitlines()
