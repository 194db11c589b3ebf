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
import contextlib
import functools
import io
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable
from http import client
from typing import Any

import defusedxml.ElementTree as DefusedET
from radicale import Application as RadicaleApplication
from radicale import config, httputils, pathutils, types, xmlutils
from radicale.app import base as radicale_base
from radicale.log import logger

from kalender.dav import answers, feeds, gate, preplan, props, refused, storage, throttle
from kalender.errors import KalenderError
from kalender.roles import PUBLIC_AGENDA

NS = answers.NS
DAV = answers.DAV
REASON_HEADER = "X-Kalender-Reason"

ET.register_namespace("K", NS)
ET.register_namespace("D", DAV)


#: The refusal answered by error_response on this thread (read at the end of the request).
_answered = threading.local()


def error_response(error: KalenderError) -> types.WSGIResponse:
    """The HTTP answer for ``error``: status, headers and a DAV:error body."""
    body = answers.dav_error(f"{{{NS}}}{error.condition}", error.message,
                             [(f"{{{NS}}}clash", d) for d in error_details(error)])
    headers = {"Content-Type": answers.CONTENT_TYPE, REASON_HEADER: error.reason}
    _answered.error = error
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
        # Radicale sleeps [auth] delay inside the worker after a failed login and
        # before every 401/403 (issue 7): failed logins are throttled instead.
        self._auth_delay = 0.0
        self._throttle = throttle.Throttle(throttle_limits(configuration))

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
        try:
            # waitress's refusal, the path as UTF-8, the Content-Length (kalender.dav.gate)
            gate.admit(environ, self.limits, reencode_path=not self._internal_server)
        except KalenderError as e:
            return _refused_early(e)
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if not authorization and not _anonymous_allowed(environ):
            # Anonymous users may only GET the public agenda; Radicale itself
            # would answer some paths (the root's redirect, OPTIONS) without login.
            return self._plain(401, "Silakan masuk (login) dengan nama pengguna dan kata sandi "
                                    "akun Kalender OPD Anda.")
        credentials = _basic_credentials(authorization) if authorization else None
        if authorization and credentials is None:
            # Radicale would fail on these with a 500 (RFC 7617 §2: user-id ":" password).
            # Not counted as a failed login: no password was tried (no bcrypt spent).
            return self._plain(401, "Kredensial tidak dapat dibaca; masuk dengan nama "
                                    "pengguna dan kata sandi.", "readable-credentials")
        # Radicale reads a body only after login and its rights check; the body's
        # size and shape are checked at that read, before its parsers run.
        gate.install(environ, self.limits)
        _answered.error = None
        capture = None
        if environ.get("REQUEST_METHOD", "").upper() == "PUT":
            # keeps the body Radicale reads, for the refused event's UID and title
            capture = refused.CapturingInput(environ["wsgi.input"])
            environ["wsgi.input"] = capture  # type: ignore[index]
        checked = None  # the client address of a password check the throttle admitted
        if credentials is not None and not self._logged_in(*credentials):
            address = _client_address(environ)
            admission = self._throttle.begin(address, credentials[0], time.monotonic())
            if not admission.allowed:
                return self._throttled(admission)  # before bcrypt and before any body is read
            checked = address
        status_text = "500 Internal Server Error"
        try:
            status_text, headers, body = super()._handle_request(environ)
        finally:
            if checked is not None and credentials is not None:
                self._checked(checked, credentials[0], status_text.startswith("401"))
        error: KalenderError | None = getattr(_answered, "error", None)
        _answered.error = None
        reason = next((v for k, v in headers if k == REASON_HEADER), None)
        if reason is not None:
            headers = [(k, v) for k, v in headers if k != REASON_HEADER]
            status_text = f"{status_text.split(' ', 1)[0]} {reason}"
        else:
            error = None  # a refusal built but not answered (Radicale answered otherwise)
        return self._finished(environ, status_text, headers, list(body), error, capture)

    def _finished(self, environ: types.WSGIEnviron, status_text: str,
                  headers: list[tuple[str, str]], body: list[bytes],
                  error: KalenderError | None, capture: refused.CapturingInput | None
                  ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        """The end of every request Radicale answered: refusal record, 4xx shape."""
        status = int(status_text[:3])
        credentials = _basic_credentials(environ.get("HTTP_AUTHORIZATION", ""))
        explanation = None
        if error is None and 400 <= status < 500:
            explanation = answers.explain(environ, status, headers, body,
                                          self._path_valid(environ))
        method = environ.get("REQUEST_METHOD", "").upper()
        if error is not None and method in answers.WRITE_METHODS:
            self._record_refusal(environ, credentials, error.status, error.reason,
                                 error.message, capture)
        elif explanation is not None and status in (400, 403, 413) and \
                method in ("PUT", "DELETE", "MOVE") and credentials is not None and \
                self._logged_in(*credentials):
            # Radicale's own refusal of an event write by a logged-in user (the
            # credentials' success is remembered: the path check comes before login)
            self._record_refusal(environ, credentials, status, explanation.reason,
                                 explanation.message, capture)
        if explanation is not None:
            return answers.reshaped(status, headers, explanation)
        return status_text, headers, body

    def _plain(self, status: int, message: str, condition: str | None = None
               ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        """A DAV:error answer made before Radicale runs (401 with the login challenge).

        ``condition`` is the local name of the precondition element in the
        project's namespace (default: the one of ``status``, kalender.dav.answers).
        """
        default = answers.plain_explanation(status, "", {})
        explanation = answers.Explanation(
            answers.k(condition) if condition else default.condition, default.reason, message)
        return self._answer(status, explanation)

    def _answer(self, status: int, explanation: answers.Explanation,
                extra: tuple[tuple[str, str], ...] = ()
                ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        """A complete DAV:error answer (401 with the login challenge, RFC 7235 §3.1)."""
        body = answers.dav_error(explanation.condition, explanation.message)
        headers = [("Content-Type", answers.CONTENT_TYPE), ("Content-Length", str(len(body))),
                   *extra]
        if status == 401:
            headers.append(("WWW-Authenticate", f'Basic realm="{self._auth_realm}"'))
        return f"{status} {explanation.reason}", headers, [body]

    # -- login throttling (kalender.dav.throttle) ----------------------------
    def _throttled(self, admission: throttle.Admission
                   ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        """The 429 of too many failed logins (or password checks at once after failures).

        Only credentials that have not succeeded before get here: the throttle
        stops guessing, it never locks a PIC's own devices out.
        """
        return self._answer(429, answers.throttled(admission.retry_after),
                            (("Retry-After", str(admission.retry_after)),))

    def _checked(self, address: str, login: str, failed: bool) -> None:
        """Tell the throttle a password check ended (a 401 to credentials is a failure)."""
        for key in self._throttle.end(address, login, failed, time.monotonic()):
            logger.warning("Terlalu banyak login gagal: %s ditahan hingga %d detik",
                           key, int(self._throttle.limits.window))

    def _logged_in(self, login: str, password: str) -> bool:
        """True if these exact credentials succeeded before (kalender.dav.auth's cache)."""
        remembered = getattr(self._auth, "remembered", None)
        return bool(remembered(login, password)) if callable(remembered) else False

    # -- refused writes (kalender.dav.refused) ----------------------------------
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
    def do_PUT(self, environ: types.WSGIEnviron, base_prefix: str, path: str, user: str,
               user_groups: set[str], *args: Any) -> types.WSGIResponse:
        """PUT of an event or of a whole calendar, planned first (kalender.dav.preplan).

        The body is checked and expanded before Radicale's parser and outside the
        storage lock; a refusal found there is answered before vobject sees the body.
        """
        try:
            preplan.plan_put(self, environ, path, user, user_groups)
        except KalenderError as e:
            preplan.done(self)
            return error_response(e)
        except TimeoutError:
            preplan.done(self)
            return httputils.REQUEST_TIMEOUT
        try:
            return self._guarded(super().do_PUT, environ, base_prefix, path, user, user_groups,
                                 *args)
        finally:
            preplan.done(self)

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

    # -- request gate (kalender.dav.gate) --------------------------------------
    @functools.cached_property
    def limits(self) -> gate.Limits:
        """Bounds on every request: Radicale's sizes and the [storage] kalender_max_* options."""
        return gate.limits(self.configuration, self._max_content_length,
                           self._max_resource_size)

    def do_REPORT(self, environ: types.WSGIEnviron, *args: Any) -> types.WSGIResponse:
        """REPORT; a body refused by the gate becomes its own answer."""
        return self._guarded(super().do_REPORT, environ, *args)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """(login, password) of a Basic Authorization header (RFC 7617 §2), None if unreadable."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    login, colon, password = decoded.partition(":")
    return (login, password) if colon else None


def _basic_credentials_readable(header: str) -> bool:
    """An Authorization header Radicale can read: Basic base64("user:password") in UTF-8."""
    return _basic_credentials(header) is not None


def _client_address(environ: types.WSGIEnviron) -> str:
    """The client's address: REMOTE_ADDR (X-Forwarded-For is never trusted here).

    waitress drops X-Forwarded-* unless ``trusted_proxy`` is set, and then puts the
    forwarded address into REMOTE_ADDR itself; anyone can send the header.
    """
    return str(environ.get("REMOTE_ADDR") or "unknown")


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


def _int_option(configuration: config.Configuration, name: str, default: int) -> int:
    """An integer option of ours in [auth] (Radicale keeps unknown options of a plugin type)."""
    try:
        raw = configuration.get("auth", name)
    except KeyError:
        return default
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ValueError(f"[auth] {name} harus bilangan bulat, bukan {raw!r}") from None


def throttle_limits(configuration: config.Configuration) -> throttle.Limits:
    """The login throttle's limits from ``[auth] kalender_*`` (see config.template)."""
    base = throttle.Limits()
    return throttle.Limits(
        per_login=_int_option(configuration, "kalender_login_failures", base.per_login),
        per_address=_int_option(configuration, "kalender_address_failures", base.per_address),
        window=float(_int_option(configuration, "kalender_failure_window", int(base.window))),
        max_checks=_int_option(configuration, "kalender_password_checks", base.max_checks))


def _refused_early(error: KalenderError) -> tuple[str, list[tuple[str, str]], list[bytes]]:
    """``error_response(error)`` in ``_handle_request``'s form, for a refusal before Radicale."""
    status, headers, body, _ = error_response(error)
    assert isinstance(body, bytes)
    fields = [(k, v) for k, v in dict(headers).items() if k != REASON_HEADER]
    return f"{status} {error.reason}", [*fields, ("Content-Length", str(len(body)))], [body]


def _anonymous_allowed(environ: types.WSGIEnviron) -> bool:
    """True for the requests anonymous users may make: GET/HEAD of the public agenda."""
    path = "/" + environ.get("PATH_INFO", "").strip("/") + "/"
    return (environ.get("REQUEST_METHOD", "").upper() in ("GET", "HEAD")
            and path.startswith(PUBLIC_AGENDA))
