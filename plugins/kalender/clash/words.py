"""Names as the matcher compares them: normalisation, registered-name keys, word indexes.

Every text is compared after :func:`normalise` (case-folded words, known
spellings unified: "R. Joyoboyo" = "Ruang Joyoboyo", "Balaikota" = "Balai
Kota"). :class:`NameIndex` finds a registered name in a text (whole, or the
longest one contained as whole words); :class:`WordIndex` finds an entry by a
*distinctive word*: a word of a name or alias that is not generic
(:data:`GENERIC_PLACE_WORDS`, :data:`GENERIC_PERSON_WORDS`). The small readers
at the end turn iCalendar values into the texts matched.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from typing import Any

__all__ = ["GENERIC_PERSON_WORDS", "GENERIC_PLACE_WORDS", "MIN_DISTINCT", "PARENS",
           "ROOM_TYPES", "NameIndex", "WordIndex", "address", "as_list", "normalise",
           "variants"]

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
#: A parenthetical: "Sekretaris Daerah (Sekda)", "Balai Kota (Gedung A)".
PARENS = re.compile(r"\([^)]*\)")
#: CUTYPE values of an ATTENDEE that is a place (RFC 5545 §3.2.3): Outlook room mailboxes.
ROOM_TYPES = frozenset({"ROOM", "RESOURCE"})
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


def variants(name: str, *, parenthetical: bool = False) -> set[str]:
    """Keys for a registered name: as written, without "(...)", optionally the "(...)"."""
    keys = {normalise(name), normalise(PARENS.sub(" ", name))}
    if parenthetical:
        for inner in PARENS.findall(name):
            if len(normalise(inner).split()) >= 2:  # "(Pj)" alone would be ambiguous
                keys.add(normalise(inner))
    return keys - {""}


class NameIndex:
    """Normalised name -> ids, with exact, part and contained-words lookups."""

    def __init__(self) -> None:
        """An empty index."""
        self.keys: dict[str, set[str]] = defaultdict(set)
        self.longest = 1

    def add(self, key: str, ident: str) -> None:
        """Register one normalised name of an entry."""
        self.keys[key].add(ident)
        self.longest = max(self.longest, len(key.split()))

    def exact(self, text: str) -> frozenset[str]:
        """The entries whose name is the whole text."""
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


class WordIndex:
    """Distinctive word -> ids of the entries whose names or aliases contain it."""

    def __init__(self, generic: frozenset[str]) -> None:
        """An empty index that never counts the ``generic`` words."""
        self.generic = generic
        self.ids: dict[str, set[str]] = defaultdict(set)
        self.own: dict[str, set[str]] = defaultdict(set)  # id -> every word of its names

    def add(self, key: str, ident: str) -> None:
        """Register the words of one normalised name of an entry."""
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


def as_list(value: Any) -> list[Any]:
    """A property value as a list: absent is empty, a repeated property is already one."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def address(attendee: Any) -> str:
    """The calendar address of an ATTENDEE without its ``mailto:`` (RFC 5545 §3.3.3)."""
    value = str(attendee).strip()
    return value[7:] if value[:7].casefold() == "mailto:" else value
