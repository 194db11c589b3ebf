"""Routing: the web pages in front of the CalDAV application.

:class:`WebApp` wraps Kalender OPD's Radicale application. A GET or HEAD of
a page path (``/`` from a browser, ``/kegiatan/<id>``, ``/publik/agenda.json``,
``/layar/``, ``/cetak/``, ``/aset/<file>``) is answered here from the sync
service's rendered data (``kalender_sync.webindex``), without login and
without Radicale's storage lock; every other request, and every CalDAV
request to ``/`` (PROPFIND, a GET that does not ask for HTML), goes on to
Radicale exactly as before.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import mimetypes
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from radicale import types

from kalender.deployment import CachedRegistry
from kalender.errors import KalenderError
from kalender.web import respond
from kalender.web.public import jsonfeed
from kalender.web.render import render
from kalender_sync.webindex import WebIndex

logger = logging.getLogger("kalender.web")
WIB = dt.timezone(dt.timedelta(hours=7), "WIB")

#: An activity's page id (kalender_sync.occurrences.page_id).
ACTIVITY = r"([0-9a-f]{32}(?:-[0-9TZ]{8,16})?)"
#: (path pattern, "module:function") of every page; the function takes a Request
#: (and the pattern's groups) and returns a respond.Response.
ROUTES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^/$"), "kalender.web.public.agenda:page"),
    (re.compile(rf"^/kegiatan/{ACTIVITY}\.ics$"), "kalender.web.public.event:ics"),
    (re.compile(rf"^/kegiatan/{ACTIVITY}/?$"), "kalender.web.public.event:page"),
    (re.compile(r"^/publik/agenda\.json$"), "kalender.web.public.jsonfeed:agenda"),
    (re.compile(r"^/layar/?$"), "kalender.web.public.lobby:page"),
    (re.compile(r"^/layar/data\.json$"), "kalender.web.public.lobby:data"),
    (re.compile(r"^/cetak/?$"), "kalender.web.public.printsheet:page"),
    (re.compile(r"^/aset/([a-z0-9][a-z0-9._-]*)$"), "kalender.web.app:asset"),
    # browsers ask for it by themselves; Radicale would answer a citizen 401 "Perlu Login"
    (re.compile(r"^/favicon\.ico$"), "kalender.web.app:favicon"),
]
#: First path segments the pages own (logins may not use them: kalender.registry).
SEGMENTS = frozenset({"kegiatan", "layar", "cetak", "aset"})


@dataclass
class Request:
    """One page request: its path, query and the data it is answered from."""

    environ: Mapping[str, Any]
    path: str
    query: dict[str, str]
    now: dt.datetime  # aware, WIB
    index: WebIndex
    registry: CachedRegistry

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
                 registry: CachedRegistry | None = None) -> None:
        self.dav = dav
        storage = getattr(dav, "_storage", None)
        self.registry = registry or storage.registry  # type: ignore[union-attr]
        self.root = root or storage.deployment.root  # type: ignore[union-attr]
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

    def route(self, environ: types.WSGIEnviron) -> tuple[Callable[..., respond.Response],
                                                         tuple[str, ...]] | None:
        """The page function and its arguments for a request, None for CalDAV."""
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path == "/" and not (method in ("GET", "HEAD") and _wants_html(environ)):
            return None  # discovery, PROPFIND, a client's plain GET: Radicale's
        for pattern, target in ROUTES:
            match = pattern.match(path)
            if match is not None:
                module, _, function = target.partition(":")
                return getattr(importlib.import_module(module), function), match.groups()
        return None

    def __call__(self, environ: types.WSGIEnviron,
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Answer a page, or pass the request on."""
        found = self.route(environ)
        if found is None:
            return self.dav(environ, start_response)  # type: ignore[no-any-return]
        function, args = found
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            if method not in ("GET", "HEAD"):
                raise respond.MethodError("Halaman ini hanya dapat dibaca (GET).")
            request = Request(environ, environ.get("PATH_INFO", "/"), _query(environ),
                              dt.datetime.now(WIB), self.index(), self.registry)
            answer = function(request, *args)
        except KalenderError as e:
            answer = error_page(e, path=environ.get("PATH_INFO", ""))
        except Exception:  # a bug must not become a traceback for a citizen
            logger.exception("web: halaman %s gagal", environ.get("PATH_INFO"))
            answer = error_page(KalenderError("Terjadi kesalahan pada server; coba lagi "
                                              "sebentar lagi."), 500,
                                environ.get("PATH_INFO", ""))
        return _send(environ, start_response, answer, method == "HEAD")


def error_page(error: KalenderError, status: int | None = None,
               path: str = "") -> respond.Response:
    """The error page for ``error`` (its status, its sentence); JSON for a ``.json`` path."""
    code = status or error.status
    if path.endswith(".json"):  # a script reads it: {"error": sentence}, not a web page
        answer = jsonfeed.error(code, error.message)
        if code == 405:
            answer.headers["Allow"] = "GET, HEAD"
        return answer
    body = render("error.html", status=code, title=HTTPStatus(code).phrase,
                  reason=error.reason, message=error.message)
    answer = respond.Response(code, body.encode("utf-8"))
    answer.headers["Cache-Control"] = "no-store"
    if code == 405:
        answer.headers["Allow"] = "GET, HEAD"
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
    start_response(f"{status} {HTTPStatus(status).phrase}", list(headers.items()))
    return [] if head or status == 304 else [body]


def _wants_html(environ: types.WSGIEnviron) -> bool:
    """Whether the client asks for a web page (a browser sends ``Accept: text/html``)."""
    return "text/html" in environ.get("HTTP_ACCEPT", "")


def _query(environ: types.WSGIEnviron) -> dict[str, str]:
    """The query string's parameters (the first value of each)."""
    parsed = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}
