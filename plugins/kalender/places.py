"""The clash registries: venues (``venues.csv``) and key persons (``persons.csv``).

Besides the checks of each line, a registry must name every entry
unambiguously: a name, alias or title that the matcher
(``kalender.clash.match``) would read as another entry too is refused, with
the file and line of the later entry and the entry it collides with. Without
that check, "R. Joyoboyo" registered for a second venue would book both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from kalender.clash.rules import Person, Venue
from kalender.clash.words import variants
from kalender.filechange import write_atomic
from kalender.registry import RegistryError, check_id, checked, csv_rows, csv_text, read_file

#: ``coordinates`` came with the web's map links (0.4): "-7.8166,112.0119", latitude then
#: longitude. A file without the column reads as venues without coordinates;
#: ``kalender.upgrade`` adds the empty column to the header.
VENUE_FIELDS = ("id", "name", "building", "aliases", "capacity", "setup_min", "teardown_min",
                "parent", "coordinates")
#: One coordinate as people copy it from a map: a plain decimal number (no exponent,
#: no "nan" or "inf", which float() would accept).
_DEGREES = re.compile(r"^[+-]?[0-9]{1,3}(?:\.[0-9]{1,15})?$")
PERSON_FIELDS = ("id", "title", "emails", "aliases")


def _list(value: str) -> tuple[str, ...]:
    """A ';'-separated cell as a tuple of non-empty, stripped strings."""
    return tuple(v.strip() for v in value.split(";") if v.strip())


def _count(row: dict[str, str], key: str, default: int) -> int:
    """A non-negative integer cell."""
    raw = row.get(key) or str(default)
    if not raw.isdigit():
        raise RegistryError(f"{key} {raw!r} harus bilangan bulat >= 0")
    return int(raw)


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """``"LAT,LON"`` in decimal degrees (WGS 84) as a pair; ``""`` is None.

    Latitude -90..90 and longitude -180..180; anything else (the pair swapped beyond
    range, degrees-minutes-seconds, one number only) is a RegistryError.
    """
    if not text.strip():
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 2 and all(_DEGREES.match(p) for p in parts):
        lat, lon = float(parts[0]), float(parts[1])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lat, lon
    raise RegistryError(
        f"koordinat {text!r} tidak valid: tulis lintang,bujur dalam derajat desimal "
        "(lintang -90..90, bujur -180..180), contoh: -7.8166,112.0119")


def _degrees(value: float) -> str:
    """One coordinate as written back: the shortest text that reads as the same float."""
    text = repr(value)
    return text if "e" not in text else f"{value:.15f}".rstrip("0").rstrip(".")


def coordinates_text(coordinates: tuple[float, float] | None) -> str:
    """The ``coordinates`` cell of a venue (``""`` when it has none)."""
    if coordinates is None:
        return ""
    return f"{_degrees(coordinates[0])},{_degrees(coordinates[1])}"


class _Names:
    """Normalised name -> (entry id, name as written): the first entry to use a key owns it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.owner: dict[str, tuple[str, str]] = {}
        self.display: dict[str, str] = {}

    def claim(self, ident: str, names: Sequence[tuple[str, str]], parenthetical: bool) -> None:
        """Register ``names`` ((label, text); the first is the display name) of ``ident``.

        Keys are the matcher's own (``kalender.clash.match``), so "R. Joyoboyo" and
        "Ruang Joyoboyo" are the same name, as are "Walikota" and "Wali Kota Kediri".
        """
        for label, name in names:
            for key in variants(name, parenthetical=parenthetical):
                owner = self.owner.get(key)
                if owner is None or owner[0] == ident:
                    continue
                other, text = owner
                link = ("sudah menjadi sebutan" if text in (name, self.display[other])
                        else f"sama dengan {text!r}, sebutan")
                raise RegistryError(
                    f"{label} {name!r} ({self.kind} {ident!r}) {link} {self.kind} {other!r} "
                    f"({self.display[other]}); pakai sebutan yang hanya menunjuk satu "
                    f"{self.kind}")
        self.display[ident] = names[0][1]
        for _, name in names:
            for key in variants(name, parenthetical=parenthetical):
                self.owner.setdefault(key, (ident, name))


def parse_venues(f: TextIO, source: Path | None = None, check_names: bool = True
                 ) -> list[Venue]:
    """The venue registry from an open CSV file; parents must be registered venues."""
    result: list[Venue] = []
    lines: dict[str, int] = {}
    names = _Names("tempat")
    for line, row in csv_rows(f, VENUE_FIELDS, source):
        try:
            vid = check_id(row.get("id", ""), "id tempat")
            if not row.get("name"):
                raise RegistryError(f"nama tempat {vid!r} kosong")
            if vid in lines:
                raise RegistryError(f"id tempat {vid!r} ganda")
            capacity = _count(row, "capacity", 1)
            if capacity < 1:
                raise RegistryError("capacity minimal 1")
            venue = Venue(vid, row["name"], row.get("building", ""), _list(row.get("aliases", "")),
                          capacity, _count(row, "setup_min", 0), _count(row, "teardown_min", 0),
                          row.get("parent") or None,
                          parse_coordinates(row.get("coordinates", "")))
            if check_names:
                names.claim(vid, [("nama", venue.name), *(("alias", a) for a in venue.aliases)],
                            parenthetical=False)
        except RegistryError as e:
            raise RegistryError(e.message, source, line) from None
        lines[venue.id] = line
        result.append(venue)
    parents = {v.id: v.parent for v in result}
    for venue in result:
        if venue.parent is not None and venue.parent not in lines:
            raise RegistryError(f"parent {venue.parent!r} bukan tempat terdaftar", source,
                                lines[venue.id])
        seen, parent = {venue.id}, venue.parent
        while parent is not None:
            if parent in seen:
                raise RegistryError(f"tempat {venue.id!r} menjadi induk dirinya sendiri "
                                    "(lewat kolom parent)", source, lines[venue.id])
            seen.add(parent)
            parent = parents.get(parent)
    return result


def read_venues(path: Path, check_names: bool = True) -> list[Venue]:
    """Read the venue registry (``venues.csv``)."""
    return read_file(path, lambda f, source: parse_venues(f, source, check_names))


def venues_text(venues: Iterable[Venue], check_names: bool = True) -> str:
    """The checked text of a venue registry (RegistryError when it would not read back)."""
    return checked(csv_text(VENUE_FIELDS, (
        (v.id, v.name, v.building, ";".join(v.aliases), str(v.capacity), str(v.setup_min),
         str(v.teardown_min), v.parent or "", coordinates_text(v.coordinates))
        for v in venues)),
        lambda f, source: parse_venues(f, source, check_names))


def write_venues(path: Path, venues: Iterable[Venue], check_names: bool = True) -> None:
    """Write the venue registry atomically (``check_names=False``: only for removals)."""
    write_atomic(path, venues_text(venues, check_names))


def parse_persons(f: TextIO, source: Path | None = None, check_names: bool = True
                  ) -> list[Person]:
    """The key person registry from an open CSV file."""
    result: list[Person] = []
    seen: set[str] = set()
    names = _Names("orang")
    emails_of: dict[str, str] = {}
    for line, row in csv_rows(f, PERSON_FIELDS, source):
        try:
            pid = check_id(row.get("id", ""), "id orang")
            if not row.get("title"):
                raise RegistryError(f"jabatan/nama orang {pid!r} kosong")
            if pid in seen:
                raise RegistryError(f"id orang {pid!r} ganda")
            emails = tuple(e.lower() for e in _list(row.get("emails", "")))
            if any("@" not in e for e in emails):
                raise RegistryError("alamat e-mail tidak valid")
            person = Person(pid, row["title"], emails, _list(row.get("aliases", "")))
            if check_names:
                names.claim(pid, [("jabatan", person.title),
                                  *(("alias", a) for a in person.aliases)], parenthetical=True)
                for email in emails:
                    if emails_of.get(email, pid) != pid:
                        raise RegistryError(f"e-mail {email!r} sudah milik orang "
                                            f"{emails_of[email]!r}")
                    emails_of[email] = pid
        except RegistryError as e:
            raise RegistryError(e.message, source, line) from None
        seen.add(pid)
        result.append(person)
    return result


def read_persons(path: Path, check_names: bool = True) -> list[Person]:
    """Read the key person registry (``persons.csv``)."""
    return read_file(path, lambda f, source: parse_persons(f, source, check_names))


def persons_text(persons: Iterable[Person], check_names: bool = True) -> str:
    """The checked text of a key person registry."""
    return checked(csv_text(PERSON_FIELDS, (
        (p.id, p.title, ";".join(p.emails), ";".join(p.aliases)) for p in persons)),
        lambda f, source: parse_persons(f, source, check_names))


def write_persons(path: Path, persons: Iterable[Person], check_names: bool = True) -> None:
    """Write the key person registry atomically (``check_names=False``: only for removals)."""
    write_atomic(path, persons_text(persons, check_names))
