"""Routing: the web pages in front of the CalDAV application.

:class:`WebApp` wraps Kalender OPD's Radicale application. A request for a
page path (``/`` from a browser, ``/kegiatan/<id>``, ``/publik/agenda.json``,
``/layar/``, ``/cetak/``, ``/aset/<file>``, and the signed-in workspace of
``kalender.web.workspace``: ``/masuk/``, ``/ketersediaan/``, ``/kegiatan/baru/``...)
is answered here, without Radicale's storage lock for reading; every other
request, and every CalDAV request to a path a browser also opens (PROPFIND of
``/``, ``/opd/``, ``/pimpinan/``; a GET that does not ask for HTML), goes on to
Radicale exactly as before. A browser never meets Radicale's Basic-auth
prompt: its GET of a calendar path is sent to the sign-in form instead. The
table of pages is ``kalender.web.routes``.

Every POST is a form (``application/x-www-form-urlencoded``, at most 64 KB; the
activity form also ``multipart/form-data`` with one file of at most 2 MB) whose
``csrf`` field is checked here, before the page function runs
(``kalender.web.forms``).
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import logging
import mimetypes
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from radicale import types

from kalender.deployment import CachedRegistry, Deployment
from kalender.errors import KalenderError
from kalender.registry import User
from kalender.roles import PUBLIC_AGENDA
from kalender.web import forms, respond
from kalender.web.public import jsonfeed
from kalender.web.render import render
from kalender.web.routes import FORM, POST, READ, ROUTES, SEGMENTS, Route
from kalender.web.workspace import session
from kalender_sync.webindex import WebIndex

if TYPE_CHECKING:  # pragma: no cover
    from kalender.dav.storage import Storage

#: the routing table lives in kalender.web.routes; these names are this module's too
__all__ = ["FORM", "POST", "READ", "ROUTES", "SEGMENTS", "Request", "Route", "WebApp"]

logger = logging.getLogger("kalender.web")
WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
@dataclass
class Request:
    """One page request: its path, query, form, account and the data it is answered from."""

    environ: Mapping[str, Any]
    path: str  # decoded (UTF-8)
    query: dict[str, str]
    now: dt.datetime  # aware, WIB
    index: WebIndex
    registry: CachedRegistry
    method: str  # GET, HEAD or POST
    root: Path  # the deployment folder
    storage: Storage  # .guard, .registry, .deployment
    dav: Any  # the CalDAV application (kalender.web.workspace.internal)
    sessions: session.Store
    #: a POST's fields (application/x-www-form-urlencoded), every value of each
    form: dict[str, list[str]] = field(default_factory=dict)
    #: a multipart POST's files (``kalender.web.forms.Upload``), by field name
    files: dict[str, list[forms.Upload]] = field(default_factory=dict)
    #: ``Set-Cookie`` values added to whatever the page answers
    cookies: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """``scheme://host[:port]`` as the client addressed this server."""
        scheme = self.environ.get("wsgi.url_scheme", "http")
        host = self.environ.get("HTTP_HOST") or (
            f"{self.environ.get('SERVER_NAME', 'localhost')}:{self.environ.get('SERVER_PORT')}")
        return f"{scheme}://{host}"

    def arg(self, name: str, default: str = "") -> str:
        """One query parameter, stripped (``default`` when absent)."""
        return self.query.get(name, default).strip()

    def posted(self, name: str, default: str = "") -> str:
        """The first value of a form field, stripped (``default`` when absent)."""
        values = self.form.get(name)
        return values[0].strip() if values else default

    @functools.cached_property
    def signed_in(self) -> session.SignedIn | None:
        """The session's account and token (None when not signed in)."""
        return session.current(self)

    @property
    def user(self) -> User | None:
        """The signed-in account (from the session cookie), None when not signed in."""
        signed = self.signed_in
        return signed.user if signed is not None else None

    @functools.cached_property
    def csrf(self) -> str:
        """The token every form carries as its hidden field ``csrf``."""
        return session.csrf_token(self)


def asset(request: Request, name: str) -> respond.Response:
    """A file of ``static/``, cached for a day."""
    try:
        data = resources.files("kalender.web").joinpath("static", name).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise respond.NotFoundError("Berkas tidak ditemukan.") from None
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind.endswith("javascript"):
        kind += "; charset=utf-8"
    return respond.page(data, kind, max_age=86400)


def favicon(request: Request) -> respond.Response:
    """The site's icon (``static/favicon.ico``), cached for a day."""
    return asset(request, "favicon.ico")


class WebApp:
    """WSGI middleware: the web pages, then the CalDAV application."""

    def __init__(self, dav: Any, root: Path | None = None,
                 registry: CachedRegistry | None = None,
                 sessions: session.Store | None = None) -> None:
        self.dav = dav
        storage = getattr(dav, "_storage", None)
        self.storage = storage
        self.registry = registry or storage.registry  # type: ignore[union-attr]
        self.root = root or storage.deployment.root  # type: ignore[union-attr]
        deployment = Deployment(self.root)
        self.sessions = sessions or session.Store(
            deployment.database, deployment.htpasswd,
            session.limits(getattr(dav, "configuration", None)))
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        """The wrapped application's attributes (``limits``, read by kalender.dav.gate)."""
        if name == "dav":
            raise AttributeError(name)
        return getattr(self.dav, name)

    def index(self) -> WebIndex:
        """This thread's read-only connection to the rendered data."""
        index = getattr(self._local, "index", None)
        if index is None:
            index = self._local.index = WebIndex(self.root / "sync.db")
        return index

    def route(self, environ: types.WSGIEnviron) -> tuple[Route, tuple[str, ...]] | None:
        """The page and its arguments for a request, None for CalDAV."""
        path = _path(environ)
        wants_page = _method(environ) in READ and _wants_html(environ)
        for route in ROUTES:
            match = route.pattern.match(path)
            if match is not None:
                if route.browser and not wants_page:
                    return None  # discovery, PROPFIND, a client's plain GET: Radicale's
                return route, match.groups()
        return None

    def request(self, environ: types.WSGIEnviron, uploads: bool = False) -> Request:
        """The Request of ``environ`` (a POST's form read, within its limit; files when
        ``uploads``: the pages of ``forms.UPLOADS``)."""
        method = _method(environ)
        fields, files = forms.read_post(environ, uploads) if method == "POST" else ({}, {})
        return Request(environ, _path(environ), _query(environ), dt.datetime.now(WIB),
                       self.index(), self.registry, method, self.root,
                       self.storage,  # type: ignore[arg-type]
                       self.dav, self.sessions, fields, files=files)

    def __call__(self, environ: types.WSGIEnviron,
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Answer a page, or pass the request on."""
        found = self.route(environ)
        if found is None:
            if not _browser_calendar_get(environ):
                return self.dav(environ, start_response)  # type: ignore[no-any-return]
            found = (_SIGN_IN_FIRST, ())
        route, args = found
        method = _method(environ)
        path = _path(environ)
        request: Request | None = None
        try:
            if method not in route.methods:
                raise respond.MethodError(
                    "Halaman ini hanya dapat dibaca (GET)." if route.methods == READ else
                    "Halaman ini hanya menerima kiriman formulir (POST)." if route.methods == POST
                    else "Halaman ini hanya menerima GET dan kiriman formulir (POST).",
                    ", ".join(route.methods))
            request = self.request(environ, route.target in forms.UPLOADS)
            if method == "POST":
                forms.check_csrf(request)
            module, _, name = route.target.partition(":")
            function = getattr(importlib.import_module(module), name)
            answer = function(request, *args)
        except session.LoginRequired:
            answer = respond.redirect(sign_in_link(environ))
        except KalenderError as e:
            answer = error_page(e, path=path, request=request)
        except Exception:  # a bug must not become a traceback for a citizen
            logger.exception("web: halaman %s gagal", path)
            answer = error_page(KalenderError("Terjadi kesalahan pada server; coba lagi "
                                              "sebentar lagi."), 500, path, request)
        if request is not None:
            answer.cookies.extend(request.cookies)
        return _send(environ, start_response, answer, method == "HEAD")


def sign_in_link(environ: Mapping[str, Any]) -> str:
    """``/masuk/?lanjut=<this path and query>``: where a page sends a browser to sign in."""
    target = _path(environ)
    if environ.get("QUERY_STRING"):
        target += "?" + str(environ["QUERY_STRING"])
    return "/masuk/?" + urlencode({"lanjut": target})


def browser_calendar(request: Request) -> respond.Response:
    """A browser's GET of a calendar path: sign in first, or go to the account's page.

    Radicale would answer 401 with a Basic-auth challenge, and a browser would
    show its password prompt; the web workspace is the browser's way in. Under
    the pages' own first segments (``/kegiatan/...``) it is a page that does not
    exist: 404, not a sign-in.
    """
    if request.path.strip("/").split("/")[0] in SEGMENTS:
        raise respond.NotFoundError("Halaman tidak ditemukan. Lihat agenda kota di halaman "
                                    "utama.")
    user = request.user
    if user is None:
        return respond.redirect(sign_in_link(request.environ))
    return respond.redirect(session.home_of(user))


_SIGN_IN_FIRST = Route(re.compile(""), "kalender.web.app:browser_calendar")


def _browser_calendar_get(environ: types.WSGIEnviron) -> bool:
    """A browser's GET without credentials that Radicale would answer 401 (see above)."""
    path = "/" + _path(environ).strip("/") + "/"
    return (_method(environ) in READ and _wants_html(environ)
            and not environ.get("HTTP_AUTHORIZATION") and not path.startswith(PUBLIC_AGENDA))


def error_page(error: KalenderError, status: int | None = None, path: str = "",
               request: Request | None = None) -> respond.Response:
    """The error page for ``error`` (its status, its sentence); JSON for a ``.json`` path.

    With the ``request``, a signed-in person keeps the workspace's menu on it.
    """
    code = status or error.status
    allow = getattr(error, "allow", "GET, HEAD")
    if path.endswith(".json"):  # a script reads it: {"error": sentence}, not a web page
        answer = jsonfeed.error(code, error.message)
        if code == 405:
            answer.headers["Allow"] = allow
        return answer
    fields = {"status": code, "title": HTTPStatus(code).phrase, "reason": error.reason,
              "message": error.message}
    try:
        body = render("error.html", request=request, **fields) if request is not None else ""
    except Exception:  # the session's database unreadable: the page without the menu
        logger.exception("web: menu halaman galat %s gagal", path)
        body = ""
    body = body or render("error.html", **fields)
    answer = respond.Response(code, body.encode("utf-8"))
    answer.headers["Cache-Control"] = "no-store"
    if code == 405:
        answer.headers["Allow"] = allow
    return answer


def _send(environ: types.WSGIEnviron, start_response: Callable[..., Any],
          answer: respond.Response, head: bool) -> list[bytes]:
    """Start the response (304 when the client's copy is current)."""
    headers = dict(respond.SECURITY_HEADERS)
    headers.update(answer.headers)
    status, body = answer.status, answer.body
    etag = headers.get("ETag")
    if status == 200 and etag and respond.fresh(environ.get("HTTP_IF_NONE_MATCH"), etag):
        status, body = 304, b""
    else:
        headers["Content-Type"] = answer.content_type
        headers["Content-Length"] = str(len(body))
    fields = list(headers.items()) + [("Set-Cookie", c) for c in answer.cookies]
    start_response(f"{status} {HTTPStatus(status).phrase}", fields)
    return [] if head or status == 304 else [body]


def _method(environ: Mapping[str, Any]) -> str:
    """The request method, uppercase."""
    return str(environ.get("REQUEST_METHOD", "GET")).upper()


def _path(environ: Mapping[str, Any]) -> str:
    """PATH_INFO as text: a WSGI server hands its bytes as latin-1 (PEP 3333)."""
    raw = str(environ.get("PATH_INFO", "") or "/")
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def _wants_html(environ: Mapping[str, Any]) -> bool:
    """Whether the client asks for a web page (a browser sends ``Accept: text/html``)."""
    return "text/html" in str(environ.get("HTTP_ACCEPT", ""))


def _query(environ: Mapping[str, Any]) -> dict[str, str]:
    """The query string's parameters (the first value of each)."""
    parsed = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}
