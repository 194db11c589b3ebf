"""The deployment's registries: OPD, users (roles) and, later, venues and persons.

Each registry is a human-editable CSV file in the deployment folder. Reading a
file that has a malformed line raises :class:`RegistryError` naming the file and
the line, so that a typo stops the server at start-up with a clear message
instead of silently granting or denying access.
"""

from __future__ import annotations

import csv
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kalender.clash.rules import Person, Venue

#: First path segments with a meaning of their own; never usable as logins.
RESERVED_SEGMENTS = frozenset({"opd", "publik", "pimpinan", "ruang", "orang", "bentrok"})
ROLES = ("pic", "pimpinan", "admin", "sync")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")

OPD_FIELDS = ("id", "name", "short", "kind", "color", "archived")
VENUE_FIELDS = ("id", "name", "building", "aliases", "capacity", "setup_min", "teardown_min",
                "parent")
PERSON_FIELDS = ("id", "title", "emails", "aliases")
USER_FIELDS = ("login", "role", "opd")


class RegistryError(ValueError):
    """A registry file or value is malformed; ``str()`` names the file and line."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        where = f"{path}:{line}: " if path is not None and line is not None else (
            f"{path}: " if path is not None else "")
        super().__init__(where + message)
        self.path = path
        self.line = line


@dataclass(frozen=True)
class Opd:
    """One organisasi perangkat daerah and its calendar."""

    id: str
    name: str
    short: str = ""
    kind: str = ""
    color: str = "#1f6feb"
    archived: bool = False

    @property
    def href(self) -> str:
        """Collection path of the OPD's calendar, e.g. ``/opd/dinkes/``."""
        return f"/opd/{self.id}/"


@dataclass(frozen=True)
class User:
    """An account: its login, role and (for a PIC) the OPD it serves."""

    login: str
    role: str
    opds: tuple[str, ...] = field(default=())


def check_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it is a valid lowercase id, else raise RegistryError."""
    if not ID_RE.match(value):
        raise RegistryError(
            f"{what} {value!r} tidak valid: gunakan huruf kecil, angka dan '-' (maks. 63)")
    return value


def check_login(login: str) -> str:
    """Return ``login`` if it is usable as an account name, else raise RegistryError."""
    if not LOGIN_RE.match(login):
        raise RegistryError(f"login {login!r} tidak valid: gunakan huruf, angka, '.', '_', '-'")
    if login.lower() in RESERVED_SEGMENTS:
        raise RegistryError(f"login {login!r} adalah nama yang dicadangkan sistem")
    return login


def _rows(path: Path, fields: Sequence[str]) -> Iterable[tuple[int, dict[str, str]]]:
    """Yield (line number, row) from a CSV file whose header must start with ``fields[0]``."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or reader.fieldnames[0] != fields[0]:
            raise RegistryError(f"header harus diawali '{fields[0]}'", path, 1)
        for row in reader:
            if None in row:
                raise RegistryError("kolom berlebih", path, reader.line_num)
            clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
            if not any(clean.values()) or clean[fields[0]].startswith("#"):
                continue
            yield reader.line_num, clean


def read_opds(path: Path) -> list[Opd]:
    """Read the OPD registry (``opd.csv``)."""
    result: list[Opd] = []
    seen: set[str] = set()
    for line, row in _rows(path, OPD_FIELDS):
        try:
            opd_id = check_id(row.get("id", ""), "id OPD")
            if not row.get("name"):
                raise RegistryError("nama OPD kosong")
            color = row.get("color") or "#1f6feb"
            if not COLOR_RE.match(color):
                raise RegistryError(f"warna {color!r} bukan #rrggbb")
            if opd_id in seen:
                raise RegistryError(f"id OPD {opd_id!r} ganda")
        except RegistryError as e:
            raise RegistryError(str(e), path, line) from None
        seen.add(opd_id)
        result.append(Opd(opd_id, row["name"], row.get("short", ""), row.get("kind", ""),
                          color, row.get("archived", "").lower() in ("1", "yes", "true", "ya")))
    return result


def write_opds(path: Path, opds: Iterable[Opd]) -> None:
    """Write the OPD registry atomically."""
    _write_csv(path, OPD_FIELDS, (
        (o.id, o.name, o.short, o.kind, o.color, "yes" if o.archived else "") for o in opds))


def read_users(path: Path, opd_ids: Iterable[str] | None = None) -> list[User]:
    """Read the account registry (``users.csv``); PIC OPD ids are checked if given."""
    known = set(opd_ids) if opd_ids is not None else None
    result: list[User] = []
    seen: set[str] = set()
    for line, row in _rows(path, USER_FIELDS):
        try:
            login = check_login(row.get("login", ""))
            role = row.get("role", "")
            if role not in ROLES:
                raise RegistryError(f"peran {role!r} tidak dikenal (pilih: {', '.join(ROLES)})")
            opds = tuple(o.strip() for o in row.get("opd", "").split(";") if o.strip())
            if role == "pic" and not opds:
                raise RegistryError(f"PIC {login!r} tanpa OPD")
            for o in opds:
                if known is not None and o not in known:
                    raise RegistryError(f"OPD {o!r} tidak terdaftar")
            if login in seen:
                raise RegistryError(f"login {login!r} ganda")
        except RegistryError as e:
            raise RegistryError(str(e), path, line) from None
        seen.add(login)
        result.append(User(login, role, opds))
    return result


def write_users(path: Path, users: Iterable[User]) -> None:
    """Write the account registry atomically."""
    _write_csv(path, USER_FIELDS, ((u.login, u.role, ";".join(u.opds)) for u in users))


def _list(value: str) -> tuple[str, ...]:
    """A ';'-separated cell as a tuple of non-empty, stripped strings."""
    return tuple(v.strip() for v in value.split(";") if v.strip())


def _count(row: dict[str, str], key: str, default: int) -> int:
    """A non-negative integer cell."""
    raw = row.get(key) or str(default)
    if not raw.isdigit():
        raise RegistryError(f"{key} {raw!r} harus bilangan bulat >= 0")
    return int(raw)


def read_venues(path: Path) -> list[Venue]:
    """Read the venue registry (``venues.csv``); parents must be registered venues."""
    result: list[Venue] = []
    lines: dict[str, int] = {}
    for line, row in _rows(path, VENUE_FIELDS):
        try:
            vid = check_id(row.get("id", ""), "id tempat")
            if not row.get("name"):
                raise RegistryError("nama tempat kosong")
            if vid in lines:
                raise RegistryError(f"id tempat {vid!r} ganda")
            capacity = _count(row, "capacity", 1)
            if capacity < 1:
                raise RegistryError("capacity minimal 1")
            venue = Venue(vid, row["name"], row.get("building", ""), _list(row.get("aliases", "")),
                          capacity, _count(row, "setup_min", 0), _count(row, "teardown_min", 0),
                          row.get("parent") or None)
        except RegistryError as e:
            raise RegistryError(str(e), path, line) from None
        lines[vid] = line
        result.append(venue)
    for venue in result:
        if venue.parent is not None and venue.parent not in lines:
            raise RegistryError(f"parent {venue.parent!r} bukan tempat terdaftar", path,
                                lines[venue.id])
    return result


def write_venues(path: Path, venues: Iterable[Venue]) -> None:
    """Write the venue registry atomically."""
    _write_csv(path, VENUE_FIELDS, (
        (v.id, v.name, v.building, ";".join(v.aliases), str(v.capacity), str(v.setup_min),
         str(v.teardown_min), v.parent or "") for v in venues))


def read_persons(path: Path) -> list[Person]:
    """Read the key person registry (``persons.csv``)."""
    result: list[Person] = []
    seen: set[str] = set()
    for line, row in _rows(path, PERSON_FIELDS):
        try:
            pid = check_id(row.get("id", ""), "id orang")
            if not row.get("title"):
                raise RegistryError("jabatan/nama kosong")
            if pid in seen:
                raise RegistryError(f"id orang {pid!r} ganda")
            emails = tuple(e.lower() for e in _list(row.get("emails", "")))
            if any("@" not in e for e in emails):
                raise RegistryError("alamat e-mail tidak valid")
        except RegistryError as e:
            raise RegistryError(str(e), path, line) from None
        seen.add(pid)
        result.append(Person(pid, row["title"], emails, _list(row.get("aliases", ""))))
    return result


def write_persons(path: Path, persons: Iterable[Person]) -> None:
    """Write the key person registry atomically."""
    _write_csv(path, PERSON_FIELDS, (
        (p.id, p.title, ";".join(p.emails), ";".join(p.aliases)) for p in persons))


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """Write a CSV file by rename so that a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
