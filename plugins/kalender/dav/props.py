"""Per-user calendar properties: each user's own name, colour, order and default alarms.

Calendar clients change cosmetic properties on their own: macOS Calendar sends
Apple's ``calendar-order`` after discovery, a rename sends ``displayname`` with
``calendar-color``, default alerts send ``default-alarm-vevent-date``/``-datetime``
(draft-daboo-valarm-extensions §9, on a calendar or the calendar home), Evolution's
editor sends name, colour, order and description together, and iOS PROPPATCHes
read-only calendars too. Apple's CalendarServer, Nextcloud and sabre/dav keep
these per user; so does this module, in ``kalender.db`` (table ``user_props``),
never in the collection's shared ``.Radicale.props``.

Radicale 3.9's own per-user overlay belongs to its sharing feature: the values
live in a share's row and apply only when the calendar is reached through the
share's own URL, which this project does not use (README, "Discovery").

A user's overlay is applied to what that user's PROPFIND shows
(``kalender.dav.storage.Storage.viewing``); others keep seeing the shared values.
A PROPPATCH is atomic (RFC 4918 §9.2): when one property is refused, nothing is
stored and the others are answered ``424 Failed Dependency``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from radicale import storage, xmlutils
from radicale.rights import BaseRights

from kalender import database
from kalender.errors import KalenderError

DAV = "DAV:"
NS = "urn:x-kalender-opd:"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

#: Properties every user who can see a calendar may set for themselves (Radicale's
#: short names: C = CalDAV, ICAL = http://apple.com/ns/ical/).
COSMETIC = frozenset({
    "D:displayname",
    "C:calendar-description",
    "ICAL:calendar-color",
    "ICAL:calendar-order",
    "C:default-alarm-vevent-date",
    "C:default-alarm-vevent-datetime",
})
#: Of those, the ones that are per user even for an admin: a client's own list
#: order and alerts, which clients send unasked and nobody means for everyone.
PERSONAL = frozenset({
    "ICAL:calendar-order",
    "C:default-alarm-vevent-date",
    "C:default-alarm-vevent-datetime",
})
#: Longest value kept per property (a default alarm is a few hundred characters).
MAX_VALUE = 10_000

REFUSED_MESSAGE = ("Properti ini menentukan cara server menyimpan kalender dan hanya dapat "
                   "diubah admin. Nama, deskripsi, warna, urutan dan alarm bawaan boleh Anda "
                   "ubah untuk tampilan Anda sendiri.")
TOO_LONG_MESSAGE = (f"Nilai properti ini lebih dari {MAX_VALUE} karakter; "
                    "persingkat lalu simpan ulang.")
DEPENDENCY_MESSAGE = ("Tidak disimpan karena properti lain dalam permintaan yang sama ditolak; "
                      "perubahan properti berlaku seluruhnya atau tidak sama sekali.")


class BadPropertyUpdateError(KalenderError):
    """A PROPPATCH body that is not a DAV:propertyupdate (RFC 4918 §14.19)."""

    status = 400
    reason = "Permintaan Tidak Valid"
    condition = "valid-propertyupdate"


class NoSuchCalendarError(KalenderError):
    """A PROPPATCH of a calendar that does not exist (the user may read its path)."""

    status = 404
    reason = "Kalender Tidak Ditemukan"
    condition = "no-such-calendar"


@dataclass(frozen=True)
class PropChange:
    """One property of a PROPPATCH: its XML name, Radicale's short name, the new value."""

    tag: str            # Clark notation as sent, e.g. {http://apple.com/ns/ical/}calendar-order
    name: str           # short name, e.g. ICAL:calendar-order
    value: str | None   # None: DAV:remove


def target(store: storage.BaseStorage, rights: BaseRights, user: str, groups: set[str],
           path: str) -> str | None:
    """The collection whose properties ``user`` may set for themselves, or None.

    Any calendar the user may read, and their own home (the calendar home of
    draft-daboo-valarm-extensions §9's default alarms). None leaves the request
    to Radicale (403 without the rights, as for every other write). Call it with
    the storage locked.
    """
    raw = rights.authorization(user, groups, path)
    if "r" not in raw and "R" not in raw:
        return None
    found = next(iter(store.discover(path)), None)
    if found is None:
        raise NoSuchCalendarError(f"Kalender {path} tidak ada; periksa alamatnya.")
    if not isinstance(found, storage.BaseCollection):
        return None
    if found.tag == "VCALENDAR" and "r" in raw:
        return str(found.path)
    if not found.tag and found.path == user and "R" in raw:
        return str(found.path)
    return None


def short_name(tag: str) -> str:
    """Radicale's short name of an XML tag (unknown namespaces stay in Clark notation)."""
    if not tag.startswith("{"):
        return tag  # no namespace: never a known property
    try:
        return xmlutils.make_human_tag(tag)
    except ValueError:
        return tag


def parse_update(root: ET.Element | None) -> list[PropChange]:
    """The changes of a DAV:propertyupdate, last instruction per property (RFC 4918 §9.2)."""
    if root is None or root.tag != f"{{{DAV}}}propertyupdate":
        raise BadPropertyUpdateError(
            "Isi permintaan PROPPATCH harus berupa <D:propertyupdate> (RFC 4918 §9.2).")
    changes: dict[str, PropChange] = {}
    for instruction in root:
        if instruction.tag not in (f"{{{DAV}}}set", f"{{{DAV}}}remove"):
            continue
        is_set = instruction.tag == f"{{{DAV}}}set"
        for prop in instruction.findall(f"{{{DAV}}}prop/*"):
            changes.pop(prop.tag, None)  # keep document order of the last instruction
            changes[prop.tag] = PropChange(prop.tag, short_name(prop.tag),
                                           (prop.text or "") if is_set else None)
    return list(changes.values())


def refusals(changes: Sequence[PropChange], allowed: frozenset[str]
             ) -> dict[str, tuple[int, str]]:
    """Refused changes by tag: (status, sentence); empty when all may be stored."""
    out: dict[str, tuple[int, str]] = {}
    for c in changes:
        if c.name not in allowed:
            out[c.tag] = (403, REFUSED_MESSAGE)
        elif c.value is not None and len(c.value) > MAX_VALUE:
            # RFC 4918 §9.2.1: 507, no room to record the property.
            out[c.tag] = (507, TOO_LONG_MESSAGE)
    return out


def multistatus(href: str, changes: Sequence[PropChange],
                refused: Mapping[str, tuple[int, str]]) -> bytes:
    """The 207 answer: 200 for all, or the refusals and 424 for the rest (RFC 4918 §9.2.1)."""
    root = ET.Element(f"{{{DAV}}}multistatus")
    response = ET.SubElement(root, f"{{{DAV}}}response")
    ET.SubElement(response, f"{{{DAV}}}href").text = href
    groups: dict[tuple[int, str], list[str]] = {}
    for c in changes:
        if c.tag in refused:
            key = refused[c.tag]
        else:
            key = (424, DEPENDENCY_MESSAGE) if refused else (200, "")
        groups.setdefault(key, []).append(c.tag)
    if not changes:
        groups[(200, "")] = []
    for (status, sentence), tags in groups.items():
        propstat = ET.SubElement(response, f"{{{DAV}}}propstat")
        prop = ET.SubElement(propstat, f"{{{DAV}}}prop")
        for tag in tags:
            ET.SubElement(prop, tag)
        ET.SubElement(propstat, f"{{{DAV}}}status").text = xmlutils.make_response(status)
        if status in (403, 507):
            # RFC 4918 §14.22: propstat (prop, status, error?, responsedescription?)
            error = ET.SubElement(propstat, f"{{{DAV}}}error")
            ET.SubElement(error, f"{{{NS}}}" + ("need-privileges" if status == 403
                                                else "max-property-size"))
            message = ET.SubElement(error, f"{{{NS}}}message")
            message.set(XML_LANG, "id")
            message.text = sentence
        if sentence:
            ET.SubElement(propstat, f"{{{DAV}}}responsedescription").text = sentence
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


#: One user's overlay: collection path (e.g. ``opd/dinkes``) -> name -> value
#: (None: removed for this user, the shared value is hidden from them).
View = dict[str, dict[str, str | None]]


def overlaid(meta: Mapping[str, str], own: Mapping[str, str | None]) -> dict[str, str]:
    """The shared properties ``meta`` as one user sees them with their ``own`` values."""
    merged = dict(meta)
    for name, value in own.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


class Overlay:
    """The ``user_props`` table of one deployment database."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        return database.connect(self.path)

    def view(self, login: str) -> View:
        """Everything ``login`` set for themselves."""
        out: View = {}
        rows = self._conn().execute(
            "SELECT collection, name, value FROM user_props WHERE login = ?", (login,))
        for collection, name, value in rows:
            out.setdefault(collection, {})[name] = value
        return out

    def save(self, login: str, collection: str, changes: Iterable[PropChange]) -> None:
        """Store ``changes`` as ``login``'s own values on ``collection`` (one transaction)."""
        conn = self._conn()
        with _transaction(conn):
            for c in changes:
                conn.execute(
                    "INSERT INTO user_props (login, collection, name, value) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (login, collection, name) DO UPDATE SET value = excluded.value",
                    (login, collection, c.name, c.value))

    def forget_login(self, login: str) -> None:
        """Drop every value of ``login`` (the account is removed)."""
        self._conn().execute("DELETE FROM user_props WHERE login = ?", (login,))

    def forget(self, login: str, collection: str, names: Iterable[str]) -> None:
        """Drop ``login``'s own values of ``names`` (they see the shared ones again)."""
        conn = self._conn()
        with _transaction(conn):
            conn.executemany(
                "DELETE FROM user_props WHERE login = ? AND collection = ? AND name = ?",
                [(login, collection, n) for n in names])


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on error (autocommit connections)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
