"""A deployment folder: where its files are, and reading its registries.

Layout of ``DIR`` (created by ``kalender init``)::

    config            Radicale configuration (from radicale_config/config.template)
    rights            rights file generated from users.csv (from rights.template)
    users.csv         login, role, OPD ids
    users.htpasswd    bcrypt password hashes
    opd.csv           the OPD registry
    venues.csv        the venue registry      (clash rules)
    persons.csv       the key person registry (clash rules)
    collections/      Radicale's collection storage
    kalender.db       SQLite: audit trail and the clash index
"""

from __future__ import annotations

import contextlib
import csv
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radicale.log import logger

from kalender import places, registry, roles, upgrade
from kalender.clash.match import Matcher
from kalender.clash.rules import Person, Venue
from kalender.filechange import write_atomic
from kalender.registry import Opd, RegistryError, User

ENV_DIR = "KALENDER_DIR"


@dataclass(frozen=True)
class Deployment:
    """Paths of one deployment folder and the operations that read them."""

    root: Path

    @classmethod
    def locate(cls, explicit: str | None) -> Deployment:
        """``--dir``, else ``$KALENDER_DIR``, else the current folder; must hold a config."""
        root = Path(explicit or os.environ.get(ENV_DIR) or ".").resolve()
        dep = cls(root)
        if not dep.config.is_file():
            raise RegistryError(
                f"{root} bukan folder deployment Kalender OPD (tidak ada berkas 'config'); "
                "buat dengan 'kalender init DIR' atau pilih dengan --dir")
        for done in upgrade.upgrade(dep):
            print(f"Pembaruan deployment: {done}", file=sys.stderr)
        return dep

    @property
    def config(self) -> Path:
        """The Radicale configuration file."""
        return self.root / "config"

    @property
    def rights(self) -> Path:
        """The generated rights file."""
        return self.root / "rights"

    @property
    def users_csv(self) -> Path:
        """The account registry."""
        return self.root / "users.csv"

    @property
    def htpasswd(self) -> Path:
        """The bcrypt htpasswd file."""
        return self.root / "users.htpasswd"

    @property
    def opd_csv(self) -> Path:
        """The OPD registry."""
        return self.root / "opd.csv"

    @property
    def venues_csv(self) -> Path:
        """The venue registry."""
        return self.root / "venues.csv"

    @property
    def persons_csv(self) -> Path:
        """The key person registry."""
        return self.root / "persons.csv"

    @property
    def collections(self) -> Path:
        """Radicale's ``filesystem_folder``."""
        return self.root / "collections"

    @property
    def database(self) -> Path:
        """SQLite file with the audit trail and the clash index."""
        return self.root / "kalender.db"

    def opds(self) -> list[Opd]:
        """The OPD registry."""
        return registry.read_opds(self.opd_csv)

    def users(self) -> list[User]:
        """The account registry, PIC OPD ids checked against the OPD registry."""
        return registry.read_users(self.users_csv, [o.id for o in self.opds()])

    def venues(self, check_names: bool = True) -> list[Venue]:
        """The venue registry (empty if the file is missing)."""
        if not self.venues_csv.exists():
            return []
        return places.read_venues(self.venues_csv, check_names)

    def persons(self, check_names: bool = True) -> list[Person]:
        """The key person registry (empty if the file is missing)."""
        if not self.persons_csv.exists():
            return []
        return places.read_persons(self.persons_csv, check_names)

    def write_rights(self) -> None:
        """Regenerate the rights file from the registries (atomic rename)."""
        write_atomic(self.rights, roles.rights_text(self.users(), self.opds()), 0o644)

    def validate(self) -> None:
        """Read every registry once; raise RegistryError naming the first bad file and line."""
        users = self.users()
        self.venues()
        self.persons()
        logins = {u.login for u in users}
        if self.htpasswd.exists():
            for n, line in enumerate(self.htpasswd.read_text("utf-8").splitlines(), 1):
                if not line.strip() or line.startswith("#"):
                    continue
                login, sep, digest = line.partition(":")
                if not sep or not digest.startswith("$2"):
                    raise RegistryError("baris bukan 'login:hash-bcrypt'", self.htpasswd, n)
                if login not in logins:
                    raise RegistryError(f"login {login!r} tidak ada di users.csv", self.htpasswd, n)


class CachedRegistry:
    """Registries re-read when their file changes (so CLI edits apply without restart)."""

    def __init__(self, deployment: Deployment) -> None:
        self._dep = deployment
        self._lock = threading.Lock()
        self._stamp: tuple[Any, ...] = ()
        self._opds: list[Opd] = []
        self._users: dict[str, User] = {}
        self._venues: dict[str, Venue] = {}
        self._persons: dict[str, Person] = {}
        self._matcher = Matcher([], [])
        self._hold = False
        self._loaded = False
        # Read now, while the files are as validated at start-up: a file broken
        # before the first request must find a last good version to keep.
        with contextlib.suppress(RegistryError, OSError, csv.Error):
            self._refresh()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Skip the per-call stat of the registry files (for a bulk job like reindex)."""
        self._refresh()
        self._hold = True
        try:
            yield
        finally:
            self._hold = False

    def _refresh(self) -> None:
        """Reload if the stat of any registry file changed.

        A file that no longer reads (a hand edit with a typo) does not stop the
        server: the last registries that read cleanly stay in force and one error
        line names the file and line, until the file changes again. Only when
        nothing was ever read is the error raised.
        """
        if self._hold:
            return
        d = self._dep
        stamp = tuple(_stat(p) for p in (d.opd_csv, d.users_csv, d.venues_csv, d.persons_csv))
        if stamp == self._stamp:
            return
        with self._lock:
            if stamp == self._stamp:
                return
            try:
                opds = d.opds()
                users = registry.read_users(d.users_csv, [o.id for o in opds])
                venues, persons = d.venues(), d.persons()
            except (RegistryError, OSError, csv.Error) as e:
                if not self._loaded:
                    raise
                self._stamp = stamp
                logger.error("Registri tidak dimuat ulang, tetap memakai versi terakhir yang "
                             "valid: %s", e)
                return
            self._opds, self._users = opds, {u.login: u for u in users}
            self._venues = {v.id: v for v in venues}
            self._persons = {p.id: p for p in persons}
            self._matcher = Matcher(venues, persons)
            if self._loaded:
                logger.info("Registri dimuat ulang dari %s", d.root)
            self._stamp, self._loaded = stamp, True

    def opds(self) -> list[Opd]:
        """Current OPD registry."""
        self._refresh()
        return self._opds

    def user(self, login: str) -> User | None:
        """Current account ``login`` or None."""
        self._refresh()
        return self._users.get(login)

    def users(self) -> list[User]:
        """Current accounts."""
        self._refresh()
        return list(self._users.values())

    def venues(self) -> dict[str, Venue]:
        """Current venues by id."""
        self._refresh()
        return self._venues

    def persons(self) -> dict[str, Person]:
        """Current key persons by id."""
        self._refresh()
        return self._persons

    def matcher(self) -> Matcher:
        """Venue and person recognition for the current registries."""
        self._refresh()
        return self._matcher


def _stat(path: Path) -> tuple[int, int]:
    """(mtime_ns, size) of ``path`` or zeros when missing."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (st.st_mtime_ns, st.st_size)
