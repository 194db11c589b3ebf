"""``kalender venue ...`` and ``kalender person ...``: the clash registries."""

from __future__ import annotations

import argparse

from kalender import registry
from kalender.clash.index import Index
from kalender.clash.rules import Person, Venue
from kalender.deployment import Deployment
from kalender.errors import CliError


def cmd_venue_add(args: argparse.Namespace) -> int:
    """Register a venue (effective at once)."""
    dep = Deployment.locate(args.dir)
    venues = dep.venues()
    registry.check_id(args.id, "id tempat")
    if any(v.id == args.id for v in venues):
        raise CliError(f"tempat {args.id!r} sudah terdaftar")
    if args.parent and not any(v.id == args.parent for v in venues):
        raise CliError(f"parent {args.parent!r} bukan tempat terdaftar")
    if args.capacity < 1 or args.setup < 0 or args.teardown < 0:
        raise CliError("kapasitas minimal 1, jeda persiapan/pembongkaran tidak boleh negatif")
    venue = Venue(args.id, args.name, args.building or "", tuple(args.alias or ()),
                  args.capacity, args.setup, args.teardown, args.parent)
    registry.write_venues(dep.venues_csv, [*venues, venue])
    print(f"Tempat {venue.id} ({venue.name}) ditambahkan. Kegiatan yang sudah tersimpan di "
          "tempat ini ikut diperiksa setelah 'kalender reindex'.")
    return 0


def cmd_venue_list(args: argparse.Namespace) -> int:
    """List the venue registry."""
    for v in Deployment.locate(args.dir).venues():
        extra = f" kapasitas {v.capacity}" if v.capacity != 1 else ""
        if v.setup_min or v.teardown_min:
            extra += f" jeda {v.setup_min}/{v.teardown_min} menit"
        if v.parent:
            extra += f" bagian dari {v.parent}"
        print(f"{v.id:<24} {v.name}{extra}")
    return 0


def cmd_venue_remove(args: argparse.Namespace) -> int:
    """Remove a venue (events there are no longer checked)."""
    dep = Deployment.locate(args.dir)
    venues = dep.venues()
    if not any(v.id == args.id for v in venues):
        raise CliError(f"tempat {args.id!r} tidak terdaftar")
    children = [v.id for v in venues if v.parent == args.id]
    if children:
        raise CliError(f"tempat {args.id!r} masih menjadi induk dari: {', '.join(children)}")
    registry.write_venues(dep.venues_csv, [v for v in venues if v.id != args.id])
    print(f"Tempat {args.id} dihapus. Jalankan 'kalender reindex' agar indeks ikut diperbarui.")
    return 0


def cmd_venue_unknown(args: argparse.Namespace) -> int:
    """Free-text locations that matched no venue, most used first."""
    dep = Deployment.locate(args.dir)
    counts = Index(dep.database).unknown_locations()
    if not counts:
        print("Semua lokasi dikenali (atau belum ada kegiatan).")
    for text, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"{n:>5}  {text}")
    return 0


def cmd_person_add(args: argparse.Namespace) -> int:
    """Register a key person (effective at once)."""
    dep = Deployment.locate(args.dir)
    persons = dep.persons()
    registry.check_id(args.id, "id orang")
    if any(p.id == args.id for p in persons):
        raise CliError(f"orang {args.id!r} sudah terdaftar")
    emails = tuple(e.lower() for e in args.email or ())
    if any("@" not in e for e in emails):
        raise CliError("alamat e-mail tidak valid")
    person = Person(args.id, args.title, emails, tuple(args.alias or ()))
    registry.write_persons(dep.persons_csv, [*persons, person])
    print(f"Orang {person.id} ({person.title}) ditambahkan. Kegiatan yang sudah tersimpan "
          "dengan orang ini ikut diperiksa setelah 'kalender reindex'.")
    return 0


def cmd_person_list(args: argparse.Namespace) -> int:
    """List the key person registry."""
    for p in Deployment.locate(args.dir).persons():
        print(f"{p.id:<20} {p.title}" + (f"  <{', '.join(p.emails)}>" if p.emails else ""))
    return 0


def cmd_person_remove(args: argparse.Namespace) -> int:
    """Remove a key person."""
    dep = Deployment.locate(args.dir)
    persons = dep.persons()
    if not any(p.id == args.id for p in persons):
        raise CliError(f"orang {args.id!r} tidak terdaftar")
    registry.write_persons(dep.persons_csv, [p for p in persons if p.id != args.id])
    print(f"Orang {args.id} dihapus. Jalankan 'kalender reindex' agar indeks ikut diperbarui.")
    return 0
