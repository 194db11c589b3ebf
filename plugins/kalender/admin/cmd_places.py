"""``kalender venue ...`` and ``kalender person ...``: the clash registries.

An entry is checked before the file is written, including that none of its
names is already a name of another entry (``kalender.places``). ``list`` and
``remove`` read a registry even when two entries share a name (a file written
before that check), so that the admin can see and remove the one too many.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable

from kalender import places, registry
from kalender.clash.index import Index
from kalender.clash.match import Matcher
from kalender.clash.rules import Person, Venue
from kalender.deployment import Deployment
from kalender.errors import CliError


def _texts(values: list[str] | None) -> tuple[str, ...]:
    """Repeated --alias values, whitespace tidied, empty and repeated ones dropped."""
    texts = tuple(dict.fromkeys(t for t in (" ".join(v.split()) for v in values or ()) if t))
    for text in texts:
        if ";" in text:  # the registry separates aliases by ';'
            raise CliError(f"sebutan {text!r} memuat ';': ulangi --alias untuk tiap sebutan")
    return texts


def _coordinates(text: str | None) -> tuple[float, float] | None:
    """--koordinat LAT,LON as a pair (None when not given or empty)."""
    try:
        return places.parse_coordinates(text or "")
    except registry.RegistryError as e:
        raise CliError(f"--koordinat: {e.message}") from None


def cmd_venue_add(args: argparse.Namespace) -> int:
    """Register a venue (effective at once)."""
    dep = Deployment.locate(args.dir)
    venues = dep.venues()
    registry.check_id(args.id, "id tempat")
    if any(v.id == args.id for v in venues):
        raise CliError(f"tempat {args.id!r} sudah terdaftar")
    if args.parent and not any(v.id == args.parent for v in venues):
        raise CliError(f"--parent {args.parent!r} bukan tempat terdaftar")
    if args.capacity < 1 or args.setup < 0 or args.teardown < 0:
        raise CliError("kapasitas minimal 1, jeda persiapan/pembongkaran tidak boleh negatif")
    name = " ".join(args.name.split())
    if not name:
        raise CliError("nama tempat tidak boleh kosong")
    venue = Venue(args.id, name, " ".join((args.building or "").split()), _texts(args.alias),
                  args.capacity, args.setup, args.teardown, args.parent,
                  _coordinates(args.koordinat))
    places.write_venues(dep.venues_csv, [*venues, venue])
    print(f"Tempat {venue.id} ({venue.name}) ditambahkan. Kegiatan yang sudah tersimpan di "
          "tempat ini ikut diperiksa setelah 'kalender reindex'.")
    return 0


def cmd_venue_set(args: argparse.Namespace) -> int:
    """Change a registered venue's map coordinates (``--koordinat ""`` removes them)."""
    dep = Deployment.locate(args.dir)
    venues = dep.venues(check_names=False)
    if not any(v.id == args.id for v in venues):
        raise CliError(f"tempat {args.id!r} tidak terdaftar")
    coordinates = _coordinates(args.koordinat)
    # check_names=False: the names are not changed here, so a file written before the
    # name check (two venues sharing a name) still takes coordinates
    places.write_venues(dep.venues_csv, [dataclasses.replace(v, coordinates=coordinates)
                                         if v.id == args.id else v for v in venues],
                        check_names=False)
    where = places.coordinates_text(coordinates)
    print(f"Koordinat tempat {args.id} " + (f"kini {where}." if where else "dihapus."))
    return 0


def cmd_venue_list(args: argparse.Namespace) -> int:
    """List the venue registry."""
    for v in Deployment.locate(args.dir).venues(check_names=False):
        extra = f" kapasitas {v.capacity}" if v.capacity != 1 else ""
        if v.setup_min or v.teardown_min:
            extra += f" jeda {v.setup_min}/{v.teardown_min} menit"
        if v.parent:
            extra += f" bagian dari {v.parent}"
        if v.coordinates:
            extra += f" koordinat {places.coordinates_text(v.coordinates)}"
        print(f"{v.id:<24} {v.name}{extra}")
    return 0


def cmd_venue_remove(args: argparse.Namespace) -> int:
    """Remove a venue (events there are no longer checked)."""
    dep = Deployment.locate(args.dir)
    venues = dep.venues(check_names=False)
    if not any(v.id == args.id for v in venues):
        raise CliError(f"tempat {args.id!r} tidak terdaftar")
    children = [v.id for v in venues if v.parent == args.id]
    if children:
        raise CliError(f"tempat {args.id!r} masih menjadi induk dari: {', '.join(children)}")
    places.write_venues(dep.venues_csv, [v for v in venues if v.id != args.id],
                        check_names=False)
    print(f"Tempat {args.id} dihapus. Jalankan 'kalender reindex' agar indeks ikut diperbarui.")
    return 0


def _matcher(dep: Deployment) -> tuple[Matcher, dict[str, str]]:
    """The matcher of the current registries and the display name of every id."""
    venues, persons = dep.venues(check_names=False), dep.persons(check_names=False)
    names = {v.id: v.name for v in venues} | {p.id: p.title for p in persons}
    return Matcher(venues, persons), names


def _print_counts(counts: dict[str, int], suggest: Callable[[str], frozenset[str]],
                  names: dict[str, str]) -> None:
    """One line per text, most used first, with the entries it may mean."""
    for text, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        likely = sorted(names.get(i, i) for i in suggest(text))
        print(f"{n:>5}  {text}" + (f"  (mungkin: {', '.join(likely)})" if likely else ""))


def cmd_venue_unknown(args: argparse.Namespace) -> int:
    """Free-text locations that matched no venue, most used first, with likely venues."""
    dep = Deployment.locate(args.dir)
    counts = Index(dep.database).unknown_locations()
    if not counts:
        print("Semua lokasi dikenali (atau belum ada kegiatan).")
    matcher, names = _matcher(dep)
    _print_counts(counts, matcher.suggest_venues, names)
    return 0


def cmd_person_add(args: argparse.Namespace) -> int:
    """Register a key person (effective at once)."""
    dep = Deployment.locate(args.dir)
    persons = dep.persons()
    registry.check_id(args.id, "id orang")
    if any(p.id == args.id for p in persons):
        raise CliError(f"orang {args.id!r} sudah terdaftar")
    emails = tuple(dict.fromkeys(e.strip().lower() for e in args.email or () if e.strip()))
    bad = [e for e in emails if "@" not in e or ";" in e or " " in e]
    if bad:
        raise CliError(f"alamat e-mail {bad[0]!r} tidak valid")
    title = " ".join(args.title.split())
    if not title:
        raise CliError("jabatan/nama tidak boleh kosong")
    person = Person(args.id, title, emails, _texts(args.alias))
    places.write_persons(dep.persons_csv, [*persons, person])
    print(f"Orang {person.id} ({person.title}) ditambahkan. Kegiatan yang sudah tersimpan "
          "dengan orang ini ikut diperiksa setelah 'kalender reindex'.")
    return 0


def cmd_person_list(args: argparse.Namespace) -> int:
    """List the key person registry."""
    for p in Deployment.locate(args.dir).persons(check_names=False):
        print(f"{p.id:<20} {p.title}" + (f"  <{', '.join(p.emails)}>" if p.emails else ""))
    return 0


def cmd_person_unknown(args: argparse.Namespace) -> int:
    """Names in labelled DESCRIPTION lines that matched no key person, with likely persons."""
    dep = Deployment.locate(args.dir)
    counts = Index(dep.database).unknown_persons()
    if not counts:
        # the table came with this command: items indexed before it are read by a reindex
        print("Semua nama orang kunci dikenali (atau belum ada kegiatan). Kegiatan yang "
              "tersimpan sebelum fitur ini baru ikut terbaca setelah 'kalender reindex'.")
    matcher, names = _matcher(dep)
    _print_counts(counts, matcher.suggest_persons, names)
    return 0


def cmd_person_remove(args: argparse.Namespace) -> int:
    """Remove a key person."""
    dep = Deployment.locate(args.dir)
    persons = dep.persons(check_names=False)
    if not any(p.id == args.id for p in persons):
        raise CliError(f"orang {args.id!r} tidak terdaftar")
    places.write_persons(dep.persons_csv, [p for p in persons if p.id != args.id],
                         check_names=False)
    print(f"Orang {args.id} dihapus. Jalankan 'kalender reindex' agar indeks ikut diperbarui.")
    return 0
