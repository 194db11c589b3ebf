"""Which refused write is recorded, and as what: login, calendar, the event's UID and title.

Every ``kalender.errors`` refusal of a write, and Radicale's own 400/403/413 to
an event write by a logged-in user, is handed to ``kalender.dav.refused``'s
recorder (a background thread): the answer is never delayed by the record.
"""

from __future__ import annotations

import contextlib
import time
import urllib.parse

from radicale import pathutils, types
from radicale.app import base as radicale_base
from radicale.log import logger

from kalender.clash import fields
from kalender.dav import refused, storage
from kalender.dav.base import Base
from kalender.errors import KalenderError
from kalender.notify.notice import REFUSED, Notice


class RecordingPart(Base):
    """Records refused writes for the audit trail (and the PIC's notices)."""

    def _path_valid(self, environ: types.WSGIEnviron) -> bool:
        """False when Radicale refuses the request's path itself ([server] validate_path_value)."""
        path = pathutils.sanitize_path(environ.get("PATH_INFO", ""))
        return bool(radicale_base._check_path_format(self._storage, path,
                                                     self._validate_path_value))

    def _record_refusal(self, environ: types.WSGIEnviron, credentials: tuple[str, str] | None,
                        status: int, reason: str, message: str,
                        capture: refused.CapturingInput | None,
                        error: KalenderError | None = None) -> None:
        """Queue the refused write for the audit trail and the PICs; never fails the request."""
        store = self._storage
        if not isinstance(store, storage.Storage) or credentials is None:
            return
        try:
            path = pathutils.sanitize_path(environ.get("PATH_INFO", ""))
            method = environ.get("REQUEST_METHOD", "").upper()
            collection = path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"
            told = collection  # whose PICs hear of it: a MOVE's event belongs to its source
            uid = title = ""
            found: dict[str, str] = {}
            if capture is not None:
                raw = capture.captured()
                if not raw and status != 413:
                    # refused before Radicale read the body (rights): read its start now
                    with contextlib.suppress(Exception):  # a body refused while read
                        raw = capture.read(min(_content_length(environ), fields.SCANNED))
                found = fields.event_fields(raw[:fields.SCANNED].decode("utf-8", "replace"))
                uid, title = fields.event_identity(raw.decode("utf-8", "replace"))
            elif method in ("DELETE", "MOVE") and not path.endswith("/"):
                stored = store.read_item(collection, path.rsplit("/", 1)[1])
                if stored is not None:
                    found = fields.event_fields(stored[0])
                    uid, title = fields.event_identity(stored[0])
                    uid = uid or stored[2]
                destination = _destination_collection(environ)
                collection = destination or collection
            notice = None
            if method in ("PUT", "MOVE") and uid:
                notice = notice_of(store, credentials[0], told, uid, title, found,
                                   reason, message, error)
            addresses = pic_addresses(store, notice.opd) if notice is not None else ()
            refused.RECORDER.submit(refused.Refused(
                store.deployment.database, credentials[0], collection, uid, title, reason,
                message, notice, addresses))
        except Exception:  # the answer is already decided: a record must never change it
            logger.exception("Penolakan tidak dapat dicatat")


def _content_length(environ: types.WSGIEnviron) -> int:
    """The request's Content-Length (0 when absent or unreadable)."""
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0



def _destination_collection(environ: types.WSGIEnviron) -> str | None:
    """The collection path of a MOVE's Destination header (RFC 4918 §10.3), if local."""
    destination = str(environ.get("HTTP_DESTINATION", ""))
    if not destination:
        return None
    path = pathutils.sanitize_path(urllib.parse.urlsplit(destination).path)
    return path.rsplit("/", 1)[0] + "/"


def _target_opd(store: storage.Storage, actor: str, collection: str) -> str | None:
    """The OPD whose PICs hear of a refused write into an OPD calendar.

    The calendar's OPD, unless the writer is a PIC of other OPD only (not
    allowed there): then the writer's own. Writes elsewhere (the Bentrok or
    merged calendars) tell nobody: there is no OPD's event to fix.
    """
    parts = collection.strip("/").split("/")
    known = {o.id for o in store.registry.opds()}
    if len(parts) != 2 or parts[0] != "opd" or parts[1] not in known:
        return None
    user = store.registry.user(actor)
    own = [o for o in (user.opds if user is not None else ()) if o in known]
    return parts[1] if not own or parts[1] in own else own[0]


def notice_of(store: storage.Storage, actor: str, collection: str, uid: str, title: str,
              found: dict[str, str], reason: str, message: str,
              error: KalenderError | None) -> Notice | None:
    """The Bentrok notice of a refused event write (None when no OPD is concerned)."""
    opd = _target_opd(store, actor, collection)
    if opd is None:
        return None
    names = {o.id: o.label for o in store.registry.opds()}
    clashes = getattr(error, "clashes", ())
    if clashes:  # the first clashing occurrence, and its event (an import holds many)
        booking = clashes[0].booking
        start, end, uid, title = booking.start, booking.end, booking.uid, booking.title
    else:
        start, end = fields.event_time(found), fields.event_time(found, "DTEND")
    return Notice(REFUSED, opd, names.get(opd, opd), uid, title, start, end,
                  fields.event_place(found), reason, message, actor, int(time.time()))


def pic_addresses(store: storage.Storage, opd: str) -> tuple[str, ...]:
    """E-mail addresses of the PICs of ``opd``."""
    return tuple(u.email for u in store.registry.users()
                 if u.role == "pic" and opd in u.opds and u.email)
