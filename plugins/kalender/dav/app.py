"""The Radicale WSGI application of Kalender OPD: the request's way through our parts.

Every request passes the gate (``kalender.dav.gate``: the path as UTF-8, sizes,
then the body's shape when Radicale reads it), anonymous and unreadable
credentials are answered before Radicale, failed logins are throttled
(``kalender.dav.login``), writes are planned before the lock
(``kalender.dav.preplan``) and guarded (``kalender.dav.base``), refusals are
recorded (``kalender.dav.recording``), and Radicale's own 4xx answers get a
DAV:error with a sentence (``kalender.dav.answers``). Output calendars are
served from their rendered feeds (``kalender.dav.feeds``).
"""

from __future__ import annotations

import functools
import time
from typing import Any

from radicale import config, httputils, types

from kalender.dav import answers, feeds, gate, preplan, refused, storage, throttle, tickets
from kalender.dav.base import REASON_HEADER, answered, error_response, for_client, refused_early
from kalender.dav.login import LoginPart, basic_credentials, client_address, throttle_limits
from kalender.dav.properties import PropertiesPart
from kalender.dav.recording import RecordingPart
from kalender.errors import KalenderError, NoFeedError
from kalender.roles import PUBLIC_AGENDA


class Application(PropertiesPart, RecordingPart, LoginPart):
    """Radicale's application with Kalender OPD's gate, answers, throttle and properties."""

    def __init__(self, configuration: config.Configuration) -> None:
        super().__init__(configuration)
        # Radicale sleeps [auth] delay inside the worker after a failed login and
        # before every 401/403 (issue 7): failed logins are throttled instead.
        self._auth_delay = 0.0
        self._throttle = throttle.Throttle(throttle_limits(configuration))
        # the web workspace's requests carry a one-time ticket for the signed-in
        # login instead of a password (kalender.dav.tickets), with any backend
        self._auth = tickets.TicketAuth(self._auth)  # type: ignore[assignment]

    def _handle_request(self, environ: types.WSGIEnviron) -> Any:
        """Every answer, a 4xx in the form the requesting client shows best (kalender.dav.base)."""
        return for_client(environ, *self._respond(environ))

    def _respond(self, environ: types.WSGIEnviron
                 ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        """Radicale's request handling, with the reason phrase of a refusal."""
        try:
            # waitress's refusal, the path as UTF-8, the Content-Length (kalender.dav.gate)
            gate.admit(environ, self.limits, reencode_path=not self._internal_server)
        except KalenderError as e:
            return refused_early(e)
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        if not authorization and not _anonymous_allowed(environ):
            # Anonymous users may only GET the public agenda; Radicale itself
            # would answer some paths (the root's redirect, OPTIONS) without login.
            return self._plain(401, "Silakan masuk (login) dengan nama pengguna dan kata sandi "
                                    "akun Kalender OPD Anda.")
        credentials = basic_credentials(authorization) if authorization else None
        if authorization and credentials is None:
            # Radicale would fail on these with a 500 (RFC 7617 §2: user-id ":" password).
            # Not counted as a failed login: no password was tried (no bcrypt spent).
            return self._plain(401, "Kredensial tidak dapat dibaca; masuk dengan nama "
                                    "pengguna dan kata sandi.", "readable-credentials")
        # Radicale reads a body only after login and its rights check; the body's
        # size and shape are checked at that read, before its parsers run.
        gate.install(environ, self.limits)
        answered.error = None
        capture = None
        if environ.get("REQUEST_METHOD", "").upper() == "PUT":
            # keeps the body Radicale reads, for the refused event's UID and title
            capture = refused.CapturingInput(environ["wsgi.input"])
            environ["wsgi.input"] = capture  # type: ignore[index]
        checked = None  # the client address of a password check the throttle admitted
        if credentials is not None and not self._logged_in(*credentials):
            address = client_address(environ)
            admission = self._throttle.begin(address, credentials[0], time.monotonic())
            if not admission.allowed:
                return self._throttled(admission)  # before bcrypt and before any body is read
            checked = address
        status_text = "500 Internal Server Error"
        storage.serving(environ.get("PATH_INFO", ""))  # reads of outputs take no lock
        try:
            status_text, headers, body = super()._handle_request(environ)
        finally:
            storage.serving("")
            if checked is not None and credentials is not None:
                self._checked(checked, credentials[0], status_text.startswith("401"))
        error: KalenderError | None = getattr(answered, "error", None)
        answered.error = None
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
        credentials = basic_credentials(environ.get("HTTP_AUTHORIZATION", ""))
        explanation = None
        if error is None and 400 <= status < 500:
            explanation = answers.explain(environ, status, headers, body,
                                          self._path_valid(environ))
        method = environ.get("REQUEST_METHOD", "").upper()
        if error is not None and method in answers.WRITE_METHODS:
            self._record_refusal(environ, credentials, error.status, error.reason,
                                 error.message, capture, error)
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

    # -- feeds -----------------------------------------------------------------
    def do_GET(self, environ: types.WSGIEnviron, base_prefix: str, path: str, user: str,
               user_groups: set[str], *args: Any) -> types.WSGIResponse:
        """GET; an output calendar is served from its rendered feed (see kalender.dav.feeds)."""
        deployment = getattr(self._storage, "deployment", None)
        try:
            found = (feeds.feed_file(deployment.root / "feeds", path,
                                     environ.get("QUERY_STRING", ""))
                     if deployment is not None else None)
        except KalenderError as e:  # a bad date or an unknown category (kalender.dav.feeds)
            return error_response(e)
        if found is None:
            return super().do_GET(environ, base_prefix, path, user, user_groups, *args)
        permissions = self._rights.authorization(user, user_groups, path)
        if "r" not in permissions and "i" not in permissions:
            return httputils.NOT_ALLOWED
        if not found[1]:  # /publik/agenda/?opd=<id> of no registered OPD
            return error_response(NoFeedError("Tidak ada agenda publik untuk OPD itu; lihat "
                                              "daftar OPD di halaman agenda kota."))
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

    # -- request gate (kalender.dav.gate) --------------------------------------
    @functools.cached_property
    def limits(self) -> gate.Limits:
        """Bounds on every request: Radicale's sizes and the [storage] kalender_max_* options."""
        return gate.limits(self.configuration, self._max_content_length,
                           self._max_resource_size)

    def do_REPORT(self, environ: types.WSGIEnviron, *args: Any) -> types.WSGIResponse:
        """REPORT; a body refused by the gate becomes its own answer."""
        return self._guarded(super().do_REPORT, environ, *args)


def _anonymous_allowed(environ: types.WSGIEnviron) -> bool:
    """True for the requests anonymous users may make: GET/HEAD of the public agenda."""
    path = "/" + environ.get("PATH_INFO", "").strip("/") + "/"
    return (environ.get("REQUEST_METHOD", "").upper() in ("GET", "HEAD")
            and path.startswith(PUBLIC_AGENDA))
