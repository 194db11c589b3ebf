"""Provisioning through Radicale's storage API: calendars, principals, passwords.

The CLI never writes collection folders by hand: it loads the deployment's
Radicale configuration and storage plugin and works under the same write lock
as the server, so it is safe while ``kalender serve`` runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import vobject
from radicale import config as radicale_config
from radicale import item as radicale_item
from radicale import storage as radicale_storage

from kalender.deployment import Deployment
from kalender.filechange import write_atomic
from kalender.registry import Opd, RegistryError
from kalender.roles import LEADERS_AGENDA, PUBLIC_AGENDA, bentrok_href

CALENDAR_DESCRIPTIONS = {
    PUBLIC_AGENDA: ("Agenda Publik Kota Kediri", "#2e7d32",
                    "Agenda kegiatan Pemerintah Kota Kediri untuk masyarakat (hanya baca)."),
    LEADERS_AGENDA: ("Agenda Pimpinan Kota Kediri", "#6a1b9a",
                     "Seluruh kegiatan lintas OPD, untuk pimpinan (hanya baca)."),
}


#: Colour of the Bentrok calendars: red, like an error.
BENTROK_COLOR = "#c62828"


def load_configuration(dep: Deployment) -> radicale_config.Configuration:
    """Radicale's configuration for the deployment."""
    return radicale_config.load([(str(dep.config), False)])


@contextlib.contextmanager
def storage_locked(dep: Deployment, actor: str = "kalender:cli"
                   ) -> Iterator[radicale_storage.BaseStorage]:
    """The deployment's storage with the write lock held."""
    store = radicale_storage.load(load_configuration(dep))
    with store.acquire_lock("w", actor, actor=actor):
        yield store


def calendar_props(name: str, color: str, description: str = "") -> dict[str, str]:
    """Collection properties of an event calendar (RFC 4791 §5.2)."""
    props = {"tag": "VCALENDAR", "D:displayname": name, "ICAL:calendar-color": color,
             "C:supported-calendar-component-set": "VEVENT"}
    if description:
        props["C:calendar-description"] = description
    return props


def ensure_calendar(store: radicale_storage.BaseStorage, href: str, props: dict[str, str]
                    ) -> bool:
    """Create the calendar at ``href`` unless it exists (then update its properties).

    True when it was created (so that a change that fails later can delete it).
    """
    existing = next(iter(store.discover(href)), None)
    if existing is None:
        store.create_collection(href, props=props)
        return True
    if isinstance(existing, radicale_storage.BaseCollection):
        meta = dict(existing.get_meta())
        if any(meta.get(k) != v for k, v in props.items()):
            meta.update(props)
            existing.set_meta(meta)
    return False


def ensure_opd_calendar(store: radicale_storage.BaseStorage, opd: Opd) -> bool:
    """The calendar of one OPD (official name, its colour) and its Bentrok calendar.

    True when the OPD calendar was created.
    """
    created = ensure_calendar(store, opd.href, calendar_props(
        opd.name, opd.color, f"Kegiatan {opd.name}" + (" (diarsipkan)" if opd.archived else "")))
    ensure_calendar(store, bentrok_href(opd.id), calendar_props(
        f"Bentrok - {opd.label}", BENTROK_COLOR,
        f"Kegiatan {opd.label} yang ditolak server, dan lokasi yang perlu diperiksa. Diisi "
        "oleh server (hanya baca); entri hilang sendiri setelah kegiatan disimpan ulang."))
    return created


def delete_opd_calendars(store: radicale_storage.BaseStorage, opd: Opd) -> None:
    """Delete an OPD's calendar and its Bentrok calendar (when it is removed)."""
    delete_collection(store, opd.href)
    delete_collection(store, bentrok_href(opd.id))


def ensure_merged_calendars(store: radicale_storage.BaseStorage) -> None:
    """The public and leaders' agendas, and the parents of venue and person calendars."""
    for href, (name, color, description) in CALENDAR_DESCRIPTIONS.items():
        ensure_calendar(store, href, calendar_props(name, color, description))
    for parent in ("/ruang/", "/orang/", "/bentrok/"):
        if next(iter(store.discover(parent)), None) is None:
            store.create_collection(parent)


def server_url(dep: Deployment) -> str:
    """http://HOST:PORT of the deployment's server, from ``[server] hosts``."""
    import configparser

    parser = configparser.ConfigParser()
    parser.read(dep.config, encoding="utf-8")
    host = parser.get("server", "hosts", fallback="127.0.0.1:5232").split(",")[0].strip()
    name, _, port = host.rpartition(":")
    if name in ("0.0.0.0", "", "[::]"):  # noqa: S104 - reaching a wildcard bind locally
        name = "127.0.0.1"
    return f"http://{name}:{port}"


def ensure_principal(store: radicale_storage.BaseStorage, login: str) -> bool:
    """The user's home collection (Radicale only creates it for users who may write it).

    True when it was created.
    """
    if next(iter(store.discover(f"/{login}/")), None) is None:
        store.create_collection(f"/{login}/")
        return True
    return False


def count_items(store: radicale_storage.BaseStorage, href: str) -> int:
    """Number of items in the collection at ``href`` (0 when missing)."""
    col = next(iter(store.discover(href)), None)
    if not isinstance(col, radicale_storage.BaseCollection):
        return 0
    return sum(1 for _ in col.get_all())


def delete_collection(store: radicale_storage.BaseStorage, href: str) -> None:
    """Delete the collection at ``href`` if it exists."""
    col = next(iter(store.discover(href)), None)
    if isinstance(col, radicale_storage.BaseCollection):
        col.delete()


def upload_event(store: radicale_storage.BaseStorage, href: str, name: str, ics: str) -> None:
    """Store one iCalendar object as ``name`` in the calendar at ``href``."""
    col = next(iter(store.discover(href)), None)
    if not isinstance(col, radicale_storage.BaseCollection):
        raise RegistryError(f"kalender {href} tidak ada")
    vobj = vobject.readOne(ics)
    item = radicale_item.Item(collection_path=href.strip("/"), vobject_item=vobj)
    item.prepare()
    col.upload(name, item)


def hash_password(password: str) -> str:
    """bcrypt hash of ``password`` as Radicale's htpasswd auth expects it."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=12)).decode("ascii")


def read_htpasswd(path: Path) -> dict[str, str]:
    """login -> hash from an htpasswd file."""
    result: dict[str, str] = {}
    if path.exists():
        for line in path.read_text("utf-8").splitlines():
            login, sep, digest = line.partition(":")
            if sep and not line.startswith("#"):
                result[login] = digest
    return result


def drop_passwords(path: Path, logins: set[str]) -> None:
    """Remove the password lines of ``logins`` from the htpasswd file."""
    entries = read_htpasswd(path)
    write_htpasswd(path, {k: v for k, v in entries.items() if k not in logins})


def htpasswd_text(entries: dict[str, str]) -> str:
    """The text of an htpasswd file with ``entries`` (login -> hash)."""
    return "".join(f"{login}:{digest}\n" for login, digest in entries.items())


#: The htpasswd file holds password hashes: readable by its owner only.
HTPASSWD_MODE = 0o600


def write_htpasswd(path: Path, entries: dict[str, str]) -> None:
    """Write the htpasswd file atomically, readable by its owner only."""
    write_atomic(path, htpasswd_text(entries), HTPASSWD_MODE)
