"""The Radicale WSGI application of Kalender OPD: one place where errors become HTTP.

``kalender.dav.storage`` refuses a write by raising a ``kalender.errors``
exception. Those are ``ValueError``s, so Radicale's own handlers turn them into
a plain ``400`` (still refused, nothing written) when Radicale runs without this
module (``python -m radicale``). Under ``kalender serve`` this application
replaces that answer with the exception's own status, reason phrase and a
``DAV:error`` body (RFC 4918 §16) holding a precondition element in the
project's namespace and a sentence in Bahasa Indonesia.

It also advertises exactly the privileges that work (RFC 3744 §3): a calendar
the user may write reports ``DAV:write`` with ``write-content``,
``write-properties``, ``bind`` and ``unbind`` (Outlook CalDav Synchronizer
and KDE look for the last two), and never ``DAV:all`` (no ACL method exists);
and drops DAV:all.
"""

from __future__ import annotations

import base64
import binascii
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from http import client
from typing import Any

import defusedxml
import defusedxml.ElementTree as DefusedET
from radicale import Application as RadicaleApplication
from radicale import config, httputils, types

from kalender.dav import feeds, storage
from kalender.errors import KalenderError
from kalender.roles import PUBLIC_AGENDA

NS = "urn:x-kalender-opd:"
DAV = "DAV:"
REASON_HEADER = "X-Kalender-Reason"

ET.register_namespace("K", NS)
ET.register_namespace("D", DAV)


def error_response(error: KalenderError) -> types.WSGIResponse:
    """The HTTP answer for ``error``: status, headers and a DAV:error body."""
    root = ET.Element(f"{{{DAV}}}error")
    condition = ET.SubElement(root, f"{{{NS}}}{error.condition}")
    for detail in error_details(error):
        ET.SubElement(condition, f"{{{NS}}}clash", detail)
    message = ET.SubElement(root, f"{{{NS}}}message")
    message.set("{http://www.w3.org/XML/1998/namespace}lang", "id")
    message.text = error.message
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    headers = {"Content-Type": "application/xml; charset=utf-8", REASON_HEADER: error.reason}
    return error.status, headers, body, None


def error_details(error: KalenderError) -> list[dict[str, str]]:
    """Machine-readable attributes of each clash carried by ``error`` (empty otherwise)."""
    details = getattr(error, "details", None)
    return list(details()) if callable(details) else []


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


class Application(RadicaleApplication):
    """Radicale's application with Kalender OPD's error answers and privilege fixes."""

    def __init__(self, configuration: config.Configuration) -> None:
        super().__init__(configuration)

    # -- helpers -----------------------------------------------------------
    def _role(self, user: str) -> str:
        """Role of ``user`` in the deployment ('' when unknown or anonymous)."""
        registry = getattr(self._storage, "registry", None)
        account = registry.user(user) if registry is not None and user else None
        return account.role if account is not None else ""

    def _guarded(self, method: Callable[..., types.WSGIResponse], environ: types.WSGIEnviron,
                 *args: Any) -> types.WSGIResponse:
        """Run a Radicale handler; a refusal raised by the storage becomes its own answer."""
        storage.clear_refusal()
        try:
            answer = method(environ, *args)
        except KalenderError as e:
            return error_response(e)
        refusal = storage.take_refusal()
        return error_response(refusal) if refusal is not None else answer

    def _handle_request(self, environ: types.WSGIEnviron) -> Any:
        """Radicale's request handling, with the reason phrase of a refusal."""
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if not authorization and not _anonymous_allowed(environ):
            # Anonymous users may only GET the public agenda; Radicale itself
            # would answer some paths (the root's redirect, OPTIONS) without login.
            return self._plain(401, "Silakan masuk (login) untuk mengakses Kalender OPD.")
        if authorization and not _basic_credentials_readable(authorization):
            # Radicale would fail on these with a 500 (RFC 7617 §2: user-id ":" password).
            return self._plain(401, "Kredensial tidak dapat dibaca; masuk dengan nama "
                                    "pengguna dan kata sandi.")
        if not _xml_body_acceptable(environ):
            return self._plain(400, "Isi XML permintaan tidak valid atau memuat DTD/entitas "
                                    "yang tidak diizinkan.")
        status_text, headers, answers = super()._handle_request(environ)
        reason = next((v for k, v in headers if k == REASON_HEADER), None)
        if reason is not None:
            headers = [(k, v) for k, v in headers if k != REASON_HEADER]
            status_text = f"{status_text.split(' ', 1)[0]} {reason}"
        return status_text, headers, answers

    def _plain(self, status: int, message: str) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        """A short text/plain answer (401 with the login challenge)."""
        body = (message + "\n").encode("utf-8")
        headers = [("Content-Type", "text/plain; charset=utf-8"),
                   ("Content-Length", str(len(body)))]
        if status == 401:
            headers.append(("WWW-Authenticate", f'Basic realm="{self._auth_realm}"'))
        return f"{status} {client.responses[status]}", headers, [body]

    # -- feeds -----------------------------------------------------------------
    def do_GET(self, environ: types.WSGIEnviron, base_prefix: str, path: str, user: str,
               user_groups: set[str], *args: Any) -> types.WSGIResponse:
        """GET; an output calendar is served from its rendered feed (see kalender.dav.feeds)."""
        deployment = getattr(self._storage, "deployment", None)
        found = (feeds.feed_file(deployment.root / "feeds", path, environ.get("QUERY_STRING", ""))
                 if deployment is not None else None)
        if found is None:
            return super().do_GET(environ, base_prefix, path, user, user_groups, *args)
        permissions = self._rights.authorization(user, user_groups, path)
        if "r" not in permissions and "i" not in permissions:
            return httputils.NOT_ALLOWED
        return feeds.answer(environ, *found, public=path == PUBLIC_AGENDA)

    # -- write paths ---------------------------------------------------------
    def do_PUT(self, environ: types.WSGIEnviron, *args: Any) -> types.WSGIResponse:
        """PUT of an event or of a whole calendar."""
        return self._guarded(super().do_PUT, environ, *args)

    def do_DELETE(self, environ: types.WSGIEnviron, *args: Any) -> types.WSGIResponse:
        """DELETE of an event or calendar."""
        return self._guarded(super().do_DELETE, environ, *args)

    def do_MOVE(self, environ: types.WSGIEnviron, *args: Any) -> types.WSGIResponse:
        """MOVE of an event, possibly between OPD calendars."""
        return self._guarded(super().do_MOVE, environ, *args)

    def do_MKCALENDAR(self, environ: types.WSGIEnviron, *args: Any) -> types.WSGIResponse:
        """MKCALENDAR."""
        return self._guarded(super().do_MKCALENDAR, environ, *args)

    def do_MKCOL(self, environ: types.WSGIEnviron, *args: Any) -> types.WSGIResponse:
        """MKCOL (extended MKCOL can create calendars too, RFC 5689)."""
        return self._guarded(super().do_MKCOL, environ, *args)

    def do_PROPPATCH(self, environ: types.WSGIEnviron, *args: Any) -> types.WSGIResponse:
        """PROPPATCH (a non-admin may change only the colour: kalender.dav.storage)."""
        return self._guarded(super().do_PROPPATCH, environ, *args)

    # -- discovery -----------------------------------------------------------
    def do_PROPFIND(self, environ: types.WSGIEnviron, base_prefix: str, path: str,
                    user: str, *args: Any) -> types.WSGIResponse:
        """PROPFIND with the privilege set fixed up (see module docstring)."""
        status, headers, answer, xml_request = super().do_PROPFIND(
            environ, base_prefix, path, user, *args)
        if status == client.MULTI_STATUS and isinstance(answer, bytes) and \
                b"current-user-privilege-set" in answer:
            answer = _privileges_fixed(answer, self._role(user) == "admin")
        return status, headers, answer, xml_request


def _basic_credentials_readable(header: str) -> bool:
    """An Authorization header Radicale can read: Basic base64("user:password") in UTF-8."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return ":" in decoded


XML_METHODS = frozenset({"PROPFIND", "PROPPATCH", "REPORT", "MKCALENDAR", "MKCOL"})


def _xml_body_acceptable(environ: types.WSGIEnviron) -> bool:
    """False for an XML body that is malformed or uses DTDs/entities (checked with defusedxml).

    The body is read once and put back for Radicale.
    """
    if environ.get("REQUEST_METHOD", "").upper() not in XML_METHODS:
        return True
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    if length <= 0:
        return True
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)  # type: ignore[index]
    try:
        DefusedET.fromstring(body)
    except (ET.ParseError, defusedxml.DefusedXmlException, ValueError):
        return False
    return True


def _anonymous_allowed(environ: types.WSGIEnviron) -> bool:
    """True for the requests anonymous users may make: GET/HEAD of the public agenda."""
    path = "/" + environ.get("PATH_INFO", "").strip("/") + "/"
    return (environ.get("REQUEST_METHOD", "").upper() in ("GET", "HEAD")
            and path.startswith(PUBLIC_AGENDA))
