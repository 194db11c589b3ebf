"""The deployment's account registries: OPD (``opd.csv``) and users (``users.csv``).

Each registry is a human-editable CSV file in the deployment folder. Reading a
file that has a malformed line raises :class:`RegistryError` naming the file and
the line, so that a typo stops the server at start-up with a clear message
instead of silently granting or denying access. Writing goes through the same
parser first (``*_text``): what the CLI writes is always what the server can
read. The venue and person registries are in ``kalender.places``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, TypeVar

from kalender.filechange import write_atomic

#: First path segments with a meaning of their own; never usable as logins.
RESERVED_SEGMENTS = frozenset({"opd", "publik", "pimpinan", "ruang", "orang", "bentrok"})
#: First path segments of the web pages (kalender.web.app): refused for new logins only,
#: so an existing account of that name keeps working over CalDAV.
WEB_SEGMENTS = frozenset({"kegiatan", "layar", "cetak", "aset", "masuk", "keluar", "langganan",
                          "ketersediaan", "admin", "persetujuan"})
ROLES = ("pic", "pimpinan", "protokol", "admin", "sync")
#: Roles that read every OPD's calendar and the leaders' agenda (README, "Peran dan hak
#: akses"): pimpinan, the protocol office (Prokopim, who also approves) and admins.
LEADER_ROLES = ("pimpinan", "protokol", "admin")
ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
#: A new login (README, "Akun"): lowercase letters, digits, '.', '_', '-', '@', at most
#: 64, beginning with a letter or digit, no '..' and no trailing '.'. Lowercase only, so
#: that two logins never differ by case alone (Radicale compares logins and home
#: paths case-sensitively, ``[auth] lc_username = False``).
LOGIN_RE = re.compile(r"^(?!.*\.\.)[a-z0-9][a-z0-9._@-]{0,63}(?<!\.)$")
#: Logins accepted when reading an existing users.csv (the pattern before 0.3):
#: accounts made then keep working; new ones must follow LOGIN_RE.
LEGACY_LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
#: An account's e-mail address (README, "Akun"): a deliberately simple pattern, not
#: all of RFC 5322: a local part of letters, digits and ``. _ % + -`` (no leading,
#: trailing or doubled dot), '@', and a domain of at least two labels (letters,
#: digits, inner '-'), at most 254 characters. Every address a PIC really has fits;
#: what does not (spaces, commas, quotes, a missing domain) is a typo.
EMAIL_RE = re.compile(r"^(?=.{3,254}$)[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
                      r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                      r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")

OPD_FIELDS = ("id", "name", "short", "kind", "color", "archived")
#: ``email`` came with the e-mail notices: a file without the column reads as
#: accounts without an address, and the next write adds it (no upgrade step needed).
USER_FIELDS = ("login", "role", "opd", "email")

T = TypeVar("T")


class RegistryError(ValueError):
    """A registry file or value is malformed; ``str()`` names the file and line."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        where = f"{path}:{line}: " if path is not None and line is not None else (
            f"{path}: " if path is not None else "")
        super().__init__(where + message)
        self.message = message
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

    @property
    def label(self) -> str:
        """The short name people use ("Dinkes"), else the official name."""
        return self.short or self.name


@dataclass(frozen=True)
class User:
    """An account: its login, role, (for a PIC) the OPD it serves and its e-mail address."""

    login: str
    role: str
    opds: tuple[str, ...] = field(default=())
    email: str = ""  # where refusals are mailed (PICs); "" when none


def check_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it is a valid lowercase id, else raise RegistryError."""
    if not ID_RE.match(value):
        raise RegistryError(
            f"{what} {value!r} tidak valid: gunakan huruf kecil, angka dan '-' (maks. 63)")
    return value


def check_color(value: str) -> str:
    """Return ``value`` if it is a colour ``#rrggbb``, else raise RegistryError."""
    if not COLOR_RE.match(value):
        raise RegistryError(f"warna {value!r} bukan kode #rrggbb (contoh: #1f6feb)")
    return value


def check_email(value: str) -> str:
    """Return ``value`` if it is an e-mail address (EMAIL_RE), else raise RegistryError."""
    if not EMAIL_RE.match(value):
        raise RegistryError(f"alamat e-mail {value!r} tidak valid: tulis seperti "
                            "nama@kedirikota.go.id (tanpa spasi, koma atau tanda kutip)")
    return value


def check_login(login: str) -> str:
    """Return ``login`` if a new account may use it (LOGIN_RE), else raise RegistryError."""
    _check_reserved(login)
    if login.lower() in WEB_SEGMENTS:
        raise RegistryError(f"login {login!r} adalah alamat halaman web Kalender OPD; "
                            "pilih login lain")
    if not LOGIN_RE.match(login):
        hint = f"; misalnya {login.lower()!r}" if LOGIN_RE.match(login.lower()) else ""
        raise RegistryError(
            f"login {login!r} tidak valid: gunakan huruf kecil, angka, '.', '_', '-' atau '@' "
            f"(maks. 64), diawali huruf atau angka, tanpa '..' dan tidak diakhiri '.'{hint}")
    return login


def _check_reserved(login: str) -> None:
    """Refuse a login that is a reserved first path segment."""
    if login.lower() in RESERVED_SEGMENTS:
        raise RegistryError(f"login {login!r} adalah nama yang dicadangkan sistem")


def same_login(users: Iterable[User], login: str) -> User | None:
    """The account whose login equals ``login`` ignoring case, if any."""
    folded = login.casefold()
    return next((u for u in users if u.login.casefold() == folded), None)


def csv_rows(f: TextIO, fields: Sequence[str], source: Path | None
             ) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of a registry CSV whose header must start with ``fields[0]``."""
    reader = csv.DictReader(f)
    if reader.fieldnames is None or reader.fieldnames[0] != fields[0]:
        raise RegistryError(f"header harus diawali '{fields[0]}'", source, 1)
    try:
        for row in reader:
            if None in row:
                raise RegistryError("kolom berlebih", source, reader.line_num)
            clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
            if not any(clean.values()) or clean[fields[0]].startswith("#"):
                continue
            yield reader.line_num, clean
    except csv.Error as e:
        raise RegistryError(f"baris CSV tidak terbaca ({e})", source, reader.line_num) from None


def read_file(path: Path, parse: Callable[[TextIO, Path | None], T]) -> T:
    """Parse the registry file at ``path`` (undecodable text is a RegistryError)."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return parse(f, path)
    except UnicodeDecodeError:
        raise RegistryError("berkas bukan teks UTF-8", path) from None


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """The CSV text of a registry."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def checked(text: str, parse: Callable[[TextIO, Path | None], object]) -> str:
    """``text`` after parsing it as the server will (errors name the entry, not a line)."""
    parse(io.StringIO(text, newline=""), None)
    return text


def parse_opds(f: TextIO, source: Path | None = None) -> list[Opd]:
    """The OPD registry from an open CSV file."""
    result: list[Opd] = []
    seen: set[str] = set()
    for line, row in csv_rows(f, OPD_FIELDS, source):
        try:
            opd_id = check_id(row.get("id", ""), "id OPD")
            if not row.get("name"):
                raise RegistryError(f"nama OPD {opd_id!r} kosong")
            color = check_color(row.get("color") or "#1f6feb")
            if opd_id in seen:
                raise RegistryError(f"id OPD {opd_id!r} ganda")
        except RegistryError as e:
            raise RegistryError(e.message, source, line) from None
        seen.add(opd_id)
        result.append(Opd(opd_id, row["name"], row.get("short", ""), row.get("kind", ""),
                          color, row.get("archived", "").lower() in ("1", "yes", "true", "ya")))
    return result


def read_opds(path: Path) -> list[Opd]:
    """Read the OPD registry (``opd.csv``)."""
    return read_file(path, parse_opds)


def opds_text(opds: Iterable[Opd]) -> str:
    """The checked text of an OPD registry (RegistryError when it would not read back)."""
    return checked(csv_text(OPD_FIELDS, (
        (o.id, o.name, o.short, o.kind, o.color, "yes" if o.archived else "") for o in opds)),
        parse_opds)


def write_opds(path: Path, opds: Iterable[Opd]) -> None:
    """Write the OPD registry atomically."""
    write_atomic(path, opds_text(opds))


def parse_users(f: TextIO, source: Path | None = None,
                opd_ids: Iterable[str] | None = None) -> list[User]:
    """The account registry from an open CSV file; PIC OPD ids are checked if given."""
    known = set(opd_ids) if opd_ids is not None else None
    result: list[User] = []
    seen: set[str] = set()
    for line, row in csv_rows(f, USER_FIELDS, source):
        try:
            login = row.get("login", "")
            _check_reserved(login)
            if not LEGACY_LOGIN_RE.match(login):
                raise RegistryError(f"login {login!r} tidak valid")
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
            email = row.get("email", "")  # no column in a users.csv from before e-mail
            if email:
                check_email(email)
        except RegistryError as e:
            raise RegistryError(e.message, source, line) from None
        seen.add(login)
        result.append(User(login, role, opds, email))
    return result


def read_users(path: Path, opd_ids: Iterable[str] | None = None) -> list[User]:
    """Read the account registry (``users.csv``); PIC OPD ids are checked if given."""
    ids = list(opd_ids) if opd_ids is not None else None
    return read_file(path, lambda f, source: parse_users(f, source, ids))


def users_text(users: Iterable[User], opd_ids: Iterable[str] | None = None) -> str:
    """The checked text of an account registry."""
    ids = list(opd_ids) if opd_ids is not None else None
    return checked(csv_text(USER_FIELDS, (
        (u.login, u.role, ";".join(u.opds), u.email) for u in users)),
                   lambda f, source: parse_users(f, source, ids))


def write_users(path: Path, users: Iterable[User], opd_ids: Iterable[str] | None = None
                ) -> None:
    """Write the account registry atomically (PIC OPD ids checked if given)."""
    write_atomic(path, users_text(users, opd_ids))
