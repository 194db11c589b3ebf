"""Which refused write is recorded, and as what: login, calendar, the event's UID and title.

Every ``kalender.errors`` refusal of a write, and Radicale's own 400/403/413 to
an event write by a logged-in user, is handed to ``kalender.dav.refused``'s
recorder (a background thread): the answer is never delayed by the record.
"""

from __future__ import annotations

import contextlib
import urllib.parse

from radicale import pathutils, types
from radicale.app import base as radicale_base
from radicale.log import logger

from kalender.dav import refused, storage
from kalender.dav.base import Base


class RecordingPart(Base):
    """Records refused writes for the audit trail (and the PIC's notices)."""

    def _path_valid(self, environ: types.WSGIEnviron) -> bool:
        """False when Radicale refuses the request's path itself ([server] validate_path_value)."""
        path = pathutils.sanitize_path(environ.get("PATH_INFO", ""))
        return bool(radicale_base._check_path_format(self._storage, path,
                                                     self._validate_path_value))

    def _record_refusal(self, environ: types.WSGIEnviron, credentials: tuple[str, str] | None,
                        status: int, reason: str, message: str,
                        capture: refused.CapturingInput | None) -> None:
        """Queue the refused write for the audit trail; never fails the request."""
        store = self._storage
        if not isinstance(store, storage.Storage) or credentials is None:
            return
        try:
            path = pathutils.sanitize_path(environ.get("PATH_INFO", ""))
            method = environ.get("REQUEST_METHOD", "").upper()
            collection = path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"
            uid = title = ""
            if capture is not None:
                raw = capture.captured()
                if not raw and status != 413:
                    # refused before Radicale read the body (rights): read its start now
                    with contextlib.suppress(Exception):  # a body refused while read
                        raw = capture.read(min(_content_length(environ), refused.SCANNED))
                uid, title = refused.event_identity(
                    raw[:refused.SCANNED].decode("utf-8", "replace"))
            elif method in ("DELETE", "MOVE") and not path.endswith("/"):
                stored = store.read_item(collection, path.rsplit("/", 1)[1])
                if stored is not None:
                    uid, title = refused.event_identity(stored[0])
                    uid = uid or stored[2]
                destination = _destination_collection(environ)
                collection = destination or collection
            refused.RECORDER.submit(refused.Refused(store.deployment.database, credentials[0],
                                                    collection, uid, title, reason, message))
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
