"""PROPPATCH and PROPFIND: every user's own cosmetic properties, honest privileges.

Cosmetic properties are kept per user (``kalender.dav.props``). Privileges
(RFC 3744 §3): a calendar the user may write reports ``DAV:write`` with
``write-content``, ``write-properties``, ``bind`` and ``unbind`` (Outlook
CalDav Synchronizer and KDE look for the last two), and never ``DAV:all`` (no
ACL method exists).
"""

from __future__ import annotations

import contextlib
import io
import xml.etree.ElementTree as ET
from http import client
from typing import Any

import defusedxml.ElementTree as DefusedET
from radicale import httputils, types, xmlutils

from kalender.dav import props, storage
from kalender.dav.base import DAV, Base, error_response
from kalender.errors import KalenderError


def _privileges_fixed(body: bytes, admin: bool) -> bytes:
    """Rewrite every current-user-privilege-set in a multistatus (RFC 3744 §5.4)."""
    root = DefusedET.fromstring(body)
    changed = False
    for privset in root.iter(f"{{{DAV}}}current-user-privilege-set"):
        names = {p[0].tag for p in privset if len(p)}
        if f"{{{DAV}}}write" not in names:
            continue
        for priv in list(privset):
            if len(priv) and priv[0].tag == f"{{{DAV}}}all" and not admin:
                privset.remove(priv)
        for extra in ("bind", "unbind"):
            if f"{{{DAV}}}{extra}" not in names:
                ET.SubElement(ET.SubElement(privset, f"{{{DAV}}}privilege"), f"{{{DAV}}}{extra}")
        changed = True
    if not changed:
        return body
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


class PropertiesPart(Base):
    """Radicale's PROPPATCH and PROPFIND with per-user values and fixed privileges."""

    def do_PROPPATCH(self, environ: types.WSGIEnviron, base_prefix: str, path: str, user: str,
                     user_groups: set[str], request_info: dict[str, Any]) -> types.WSGIResponse:
        """PROPPATCH: cosmetic properties per user (kalender.dav.props), the rest admin-only.

        A user who may read a calendar (or their own home) sets name, description,
        colour, order and default alarms for themselves alone; anything else is
        answered 207 with 403 for it and 424 for the rest (RFC 4918 §9.2). An
        admin changes the shared properties, except the personal ones
        (props.PERSONAL), which are theirs alone too.
        """
        store = self._storage
        radicale = (super().do_PROPPATCH, environ, base_prefix, path, user, user_groups,
                    request_info)
        if not user or not isinstance(store, storage.Storage):
            return self._guarded(*radicale)
        try:
            with store.acquire_lock("r", user):
                collection = props.target(store, self._rights, user, user_groups, path)
            if collection is None:  # no read right, an item, the root: Radicale decides
                return self._guarded(*radicale)
            raw = httputils.read_raw_request_body(self.configuration, environ)
            environ["wsgi.input"] = io.BytesIO(raw)  # type: ignore[index]
            changes = props.parse_update(self._read_xml_request_body(environ, request_info))
        except TimeoutError:
            return httputils.REQUEST_TIMEOUT
        except RuntimeError:
            return error_response(props.BadPropertyUpdateError(
                "Isi permintaan PROPPATCH tidak dapat dibaca sebagai XML."))
        except KalenderError as e:
            return error_response(e)
        if store.guard.is_admin(user):
            personal = [c for c in changes if c.name in props.PERSONAL]
            environ["wsgi.input"] = io.BytesIO(raw)  # type: ignore[index]
            with store.keeping(frozenset(c.name for c in personal)):
                answer = self._guarded(*radicale)
            if answer[0] == client.MULTI_STATUS:
                store.overlay.save(user, collection, personal)
                # what the admin just shared replaces their own value of it
                store.overlay.forget(user, collection, [c.name for c in changes
                                                        if c.name not in props.PERSONAL])
            return answer
        refused = props.refusals(changes, props.COSMETIC)
        if not refused:
            store.overlay.save(user, collection, changes)
        headers = {"DAV": httputils.DAV_HEADERS, "Content-Type": "text/xml; charset=utf-8"}
        return (client.MULTI_STATUS, headers,
                props.multistatus(xmlutils.make_href(base_prefix, path), changes, refused), None)

    # -- discovery -----------------------------------------------------------
    def do_PROPFIND(self, environ: types.WSGIEnviron, base_prefix: str, path: str,
                    user: str, *args: Any) -> types.WSGIResponse:
        """PROPFIND with the user's own property values (kalender.dav.props) and the
        privilege set fixed up (see module docstring)."""
        store = self._storage
        with (store.viewing(user) if isinstance(store, storage.Storage)
              else contextlib.nullcontext()):
            status, headers, answer, xml_request = self._guarded(
                super().do_PROPFIND, environ, base_prefix, path, user, *args)
        if status == client.MULTI_STATUS and isinstance(answer, bytes) and \
                b"current-user-privilege-set" in answer:
            answer = _privileges_fixed(answer, self._role(user) == "admin")
        return status, headers, answer, xml_request
