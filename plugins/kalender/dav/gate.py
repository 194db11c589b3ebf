"""The gate of every request: its size, its path and the shape of its body.

Three layers refuse with ``kalender.errors`` exceptions (``kalender.dav.app``
answers them): waitress (``create_server``) stops a request whose headers or
body pass the limits, by its Content-Length before the body is sent; ``admit``
runs before Radicale (waitress's refusal, charset, path as UTF-8, length);
``install`` wraps ``wsgi.input``: Radicale reads a body only after login and its
rights check, and at that read the body is taken (bounded) and its shape checked
(``check_xml``, ``kalender.dav.icalcheck``) before Radicale's parsers see it.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from typing import IO, Any
from xml.parsers import expat

import waitress
from radicale import config, types
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import BadRequest, RequestEntityTooLarge, RequestHeaderFieldsTooLarge

from kalender.dav.icalcheck import CalendarLimits, check_calendar
from kalender.errors import (
    BadCalendarError,
    BadPathError,
    BadRequestError,
    BadXmlError,
    HeadersTooLargeError,
    ItemTooLargeError,
    KalenderError,
    TooLargeError,
    grouped,
)

SERVER_REFUSAL = "kalender.server_refusal"  #: environ key of waitress's refusal
XML_METHODS = frozenset({"PROPFIND", "PROPPATCH", "REPORT", "MKCALENDAR", "MKCOL"})


@dataclass(frozen=True)
class Limits:
    """Bounds on every request (options in radicale_config/config.template)."""

    max_body: int = 100_000_000  #: bytes of a body ([server] max_content_length)
    header_bytes: int = 65_536  #: request line and headers (waitress)
    xml_depth: int = 64
    xml_elements: int = 20_000
    calendar: CalendarLimits = field(default_factory=CalendarLimits)


#: [storage] option -> field of Limits or CalendarLimits (a storage plugin's own options)
OPTIONS = {
    "kalender_max_header_size": "header_bytes",
    "kalender_max_xml_depth": "xml_depth",
    "kalender_max_xml_elements": "xml_elements",
    "kalender_max_components": "components",
    "kalender_max_properties": "properties",
    "kalender_max_line_length": "line_length",
    "kalender_max_timezone_transitions": "tz_transitions",
}


def limits(configuration: config.Configuration, max_body: int, max_item: int) -> Limits:
    """The limits of a deployment: Radicale's two sizes and our [storage] options."""
    values: dict[str, int] = {"max_body": max_body, "max_item": max_item}
    for option, name in OPTIONS.items():
        # an option not set keeps its default: older deployments need no change
        with contextlib.suppress(KeyError):
            raw = str(configuration.get("storage", option)).strip()
            if not (raw.isascii() and raw.isdigit()) or int(raw) <= 0:
                raise ValueError(f"[storage] {option} harus bilangan bulat positif, bukan {raw!r}")
            values[name] = int(raw)
    calendar = {f.name: values.pop(f.name) for f in fields(CalendarLimits) if f.name in values}
    return Limits(**values, calendar=CalendarLimits(**calendar))


def admit(environ: types.WSGIEnviron, bounds: Limits, reencode_path: bool) -> None:
    """Checks before Radicale runs, none of which reads the body."""
    refusal = environ.get(SERVER_REFUSAL)
    if isinstance(refusal, KalenderError):
        raise refusal
    if reencode_path:
        environ["PATH_INFO"] = utf8_path(environ.get("PATH_INFO", ""))  # type: ignore[index]
    charset = request_charset(environ)
    try:  # Radicale decodes even the credentials with it: an unknown one is a 500
        known = not charset or codecs.lookup(charset)._is_text_encoding
    except LookupError:
        known = False
    if not known:
        raise BadRequestError(f"Charset \"{charset[:40]}\" pada Content-Type tidak dikenal; "
                              "gunakan UTF-8.")
    declared = content_length(environ) or 0
    if declared > bounds.max_body:
        raise TooLargeError(bounds.max_body)
    if (declared > bounds.calendar.max_item and environ.get("REQUEST_METHOD", "") == "PUT"
            and environ.get("PATH_INFO", "").lower().endswith(".ics")):
        # one event's file can be no larger than one event: refused before a byte is read
        raise ItemTooLargeError(bounds.calendar.max_item, "")


def utf8_path(path: str) -> str:
    """PATH_INFO as UTF-8: a WSGI server hands its bytes as latin-1 (PEP 3333); Radicale's
    own server decodes it itself (radicale/server.py), so it is not used there."""
    try:
        return path.encode("latin-1").decode("utf-8")
    except UnicodeEncodeError:
        return path  # already text beyond latin-1: decoded by the server
    except UnicodeDecodeError:
        raise BadPathError() from None


def content_length(environ: types.WSGIEnviron) -> int | None:
    """The declared body length, None when there is none."""
    text = str(environ.get("CONTENT_LENGTH") or "").strip()
    if text and not (text.isascii() and text.isdigit()):
        raise BadRequestError("Header Content-Length tidak valid.")
    return int(text) if text else None


def install(environ: types.WSGIEnviron, bounds: Limits) -> None:
    """Route the body of an XML method or a PUT through its shape check at the first read."""
    method, charset = environ.get("REQUEST_METHOD", "").upper(), request_charset(environ)
    if method in XML_METHODS:
        def check(raw: bytes) -> None:
            # without a charset parameter XML names its own encoding (RFC 7303 §4.2)
            body = decoded(raw, charset, BadXmlError) if charset else raw
            check_xml(body, bounds.xml_depth, bounds.xml_elements)
    elif method == "PUT":
        def check(raw: bytes) -> None:  # iCalendar is UTF-8 by default (RFC 5545 §3.1.4)
            check_calendar(decoded(raw, charset or "utf-8", BadCalendarError), bounds.calendar)
    else:
        return  # Radicale reads no other body; waitress has bounded its size
    environ["wsgi.input"] = GatedInput(  # type: ignore[index]
        environ["wsgi.input"], content_length(environ), bounds.max_body, check,
        terminated=bool(environ.get("wsgi.input_terminated")))


def request_charset(environ: types.WSGIEnviron) -> str:
    """The charset parameter of the Content-Type ('' when none), as Radicale reads it."""
    content_type = str(environ.get("CONTENT_TYPE", ""))  # quotes kept: Radicale keeps them
    return content_type.partition("charset=")[2].split(";")[0].strip().lower()


def decoded(raw: bytes, charset: str, refusal: type[KalenderError]) -> str:
    """``raw`` in the request's charset, strictly (Radicale would fall back to latin-1)."""
    try:
        return raw.decode(charset)  # admit() has refused an unknown charset
    except UnicodeDecodeError as e:
        raise refusal(f"Isi permintaan bukan teks {charset[:40]} yang sah (byte ke-"
                      f"{e.start + 1}); simpan ulang sebagai UTF-8.") from None


def check_xml(text: str | bytes, max_depth: int, max_elements: int) -> None:
    """Refuse XML that is malformed, has a DTD or entities, or is too deep or too large.

    ElementTree's C tree builder recurses per level (200,000 crash the process);
    expat alone runs with callbacks only, namespaces processed as by ElementTree.
    """
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    depth = count = 0

    def start(name: str, attributes: Any) -> None:
        nonlocal depth, count
        depth, count = depth + 1, count + 1
        if depth > max_depth:
            raise BadXmlError(f"Isi XML permintaan bersarang lebih dari {grouped(max_depth)} "
                              "tingkat; kirim permintaan yang lebih sederhana.")
        if count > max_elements:
            raise BadXmlError(f"Isi XML permintaan memuat lebih dari {grouped(max_elements)} "
                              "elemen; bagi permintaan menjadi beberapa bagian.")

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    def forbidden(*args: Any) -> int:
        # DTDs carry entity definitions (billion laughs, external entities);
        # no WebDAV or CalDAV body needs one (RFC 4918 §20.6).
        raise BadXmlError("Isi XML permintaan memuat DTD atau entitas, yang tidak diizinkan.")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = forbidden
    parser.EntityDeclHandler = forbidden
    parser.ExternalEntityRefHandler = forbidden
    try:
        parser.Parse(text, True)
    except expat.ExpatError as e:
        raise BadXmlError(f"Isi XML permintaan tidak dapat dibaca (baris {e.lineno}, kolom "
                          f"{e.offset}); periksa XML-nya.") from None


class GatedInput:
    """``wsgi.input`` whose first read takes the whole body, bounded, and checks it."""

    def __init__(self, stream: IO[bytes], length: int | None, limit: int,
                 check: Callable[[bytes], None], terminated: bool) -> None:
        self._stream, self._length, self._limit = stream, length, limit
        self._check, self._terminated = check, terminated
        self._buffer: io.BytesIO | None = None

    def _body(self) -> io.BytesIO:
        """The checked body (raises the refusal on every read if it failed)."""
        if self._buffer is None:
            raw = self._take()
            if raw:
                self._check(raw)
            self._buffer = io.BytesIO(raw)
        return self._buffer

    def _take(self) -> bytes:
        """Read the body: Content-Length bytes, or up to EOF but never past the limit."""
        if self._length is not None:
            if self._length > self._limit:
                raise TooLargeError(self._limit)
            return self._stream.read(self._length)
        if not self._terminated:
            return b""  # no length and no EOF promise: nothing may be read (PEP 3333)
        raw = self._stream.read(self._limit + 1)  # EOF-terminated: never more than asked
        if len(raw) > self._limit:
            raise TooLargeError(self._limit)
        return bytes(raw)

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes of the checked body."""
        return self._body().read(size)

    def readline(self, size: int | None = -1) -> bytes:
        """One line of the checked body."""
        return self._body().readline(size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        """The remaining lines of the checked body."""
        return self._body().readlines(hint)

    def __iter__(self) -> Iterator[bytes]:
        """Iterate over the lines of the checked body."""
        return iter(self._body())


# -- waitress ------------------------------------------------------------------
#: Methods that change something: their requests pass the readers queued before them.
WRITE_METHODS = frozenset({"PUT", "DELETE", "MOVE", "PROPPATCH", "MKCALENDAR", "MKCOL",
                           "POST"})


class WritersFirst(ThreadedTaskDispatcher):  # type: ignore[misc]
    """waitress's task queue, with every write put at its head.

    With 20 subscribers polling, every worker thread is busy with a feed GET and
    the queue is never empty: a PIC's PUT would wait behind each GET queued
    before it (issue 12 item 2). Writes are rare and throttled, so serving them
    first costs the readers little; readers never hold writers.
    """

    def add_task(self, task: Any) -> None:
        """Queue ``task``; a write goes after the writes queued, before every read."""
        if not _writes(task):
            super().add_task(task)
            return
        with self.lock:
            ahead = 0
            while ahead < len(self.queue) and _writes(self.queue[ahead]):
                ahead += 1
            self.queue.insert(ahead, task)
            self.queue_cv.notify()


def _writes(task: Any) -> bool:
    """Whether a waitress task is a request that changes something."""
    command = getattr(getattr(task, "request", None), "command", "") or ""
    return str(command).upper() in WRITE_METHODS


#: Bytes of one answer waitress keeps in memory before spilling to a temporary file.
OUTBUF_OVERFLOW = 32 * 1024 * 1024


def create_server(app: Any, **kw: Any) -> Any:
    """``waitress.create_server`` for ``kalender.dav.app.Application`` with its limits;
    waitress's refusals (body or headers too large, unreadable) are answered by the app."""
    bounds: Limits = app.limits
    # A feed answer (the leaders' agenda of years: megabytes) stays in memory: above
    # waitress's default 1 MB it would be written to a temporary file and read back for
    # every subscriber's GET, work done under the interpreter lock the writers need.
    kw.setdefault("outbuf_overflow", OUTBUF_OVERFLOW)
    # waitress refuses a body of max_request_body_size bytes or more
    dispatcher = WritersFirst()
    dispatcher.set_thread_count(int(kw.get("threads", 4)))  # waitress's default is 4
    server = waitress.create_server(app, _dispatcher=dispatcher,
                                    max_request_body_size=bounds.max_body + 1,
                                    max_request_header_size=bounds.header_bytes, **kw)
    for dispatcher in [server, *getattr(server, "map", {}).values()]:
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = _Channel
            dispatcher.kalender_limits = bounds  # waitress may wrap the app (proxy headers)
    return server


def server_refusal(error: object, bounds: Limits) -> KalenderError | None:
    """The refusal matching a waitress parser error, None for the others (5xx)."""
    if isinstance(error, RequestEntityTooLarge):
        return TooLargeError(bounds.max_body)
    if isinstance(error, RequestHeaderFieldsTooLarge):
        return HeadersTooLargeError(bounds.header_bytes)
    if isinstance(error, BadRequest):
        return BadRequestError("Permintaan HTTP tidak dapat dibaca; periksa header dan isinya.")
    return None


class _RefusalTask(WSGITask):  # type: ignore[misc]
    """waitress's refusal of a request, answered by the application (with a DAV:error)."""

    def execute(self) -> None:
        """Ask the app to answer; the unread rest of the request goes with the connection."""
        bounds = getattr(self.channel.server, "kalender_limits", None)
        refusal = server_refusal(self.request.error, bounds) if bounds is not None else None
        if refusal is None:
            ErrorTask.execute(self)
            return
        self._refusal = refusal
        self.set_close_on_finish()
        super().execute()

    def get_environment(self) -> dict[str, Any]:
        """A minimal environ: the request could not be read, so it says little."""
        method = str(getattr(self.request, "command", "") or "GET")
        server = self.channel.server
        return {"REQUEST_METHOD": method if method.isalpha() else "GET", "SCRIPT_NAME": "",
                "PATH_INFO": "/", "QUERY_STRING": "", "SERVER_NAME": server.server_name,
                "SERVER_PORT": str(server.effective_port), "REMOTE_ADDR": self.channel.addr[0],
                "SERVER_PROTOCOL": f"HTTP/{self.version}", "wsgi.version": (1, 0),
                "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
                "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
                SERVER_REFUSAL: self._refusal}


class _Channel(HTTPChannel):  # type: ignore[misc]
    """waitress's channel whose parser errors go to ``_RefusalTask``."""

    error_task_class = _RefusalTask
