"""One log line per HTTP request that changes something or fails (``kalender serve``).

A thin WSGI wrapper around the application handed to waitress. Reads (GET,
PROPFIND, REPORT...) that succeed say nothing: calendar clients poll all day
and the sync service reads every OPD calendar every pass. A line holds the
method, the path (never the query string, and a path segment that looks like a
secret token is masked, so a private feed link never reaches the log), the
login of HTTP Basic credentials (never the password), the client's address,
the status with its reason phrase (``403 Jadwal Bentrok``) and the duration:
``PUT /opd/dinkes/rapat.ics pic-dinkes 10.0.0.7 403 Jadwal Bentrok 0.012s``. The sync account's
own requests are summarised by the sync service, one line per pass, so only
its failures appear here. A 401 to a request without credentials is the
login challenge every client meets first (RFC 9110 §11.6.1), not a failure.

Radicale's own warnings that only repeat such a line (a write the guard
refused, a wrong password) are dropped by :class:`Repeats`, so each refusal
is one line.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from radicale import types

from kalender.errors import KalenderError

logger = logging.getLogger("kalender.http")

#: Methods that never change anything (RFC 9110 §9.2.1, RFC 4918, RFC 3253 REPORT).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"})
#: A path segment that is a secret, e.g. ``secrets.token_urlsafe(24)`` (32+ characters).
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,}$")
#: ... unless it is a UUID, the name many clients give calendars and events.
_UUID = re.compile(r"^[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$", re.I)
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_SHOWN = 200


class RequestLog:
    """WSGI middleware: log the requests that change something or fail."""

    def __init__(self, app: Callable[..., Iterable[bytes]], quiet: frozenset[str] = frozenset()
                 ) -> None:
        self.app = app
        self.quiet = quiet  # logins whose successful requests are reported elsewhere

    def __getattr__(self, name: str) -> Any:
        """The wrapped application's attributes (``limits``, read by kalender.dav.gate)."""
        if name == "app":  # not set yet: no recursion
            raise AttributeError(name)
        return getattr(self.app, name)

    def __call__(self, environ: types.WSGIEnviron, start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        began = time.monotonic()
        seen: list[str] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.append(status)
            return start_response(status, headers, exc_info)

        try:
            result = self.app(environ, start)
        except BaseException:
            self._log(environ, "500 Internal Server Error", time.monotonic() - began)
            raise
        self._log(environ, seen[-1] if seen else "500 Internal Server Error",
                  time.monotonic() - began)
        return result

    def _log(self, environ: types.WSGIEnviron, status: str, seconds: float) -> None:
        """One line, if this request is worth one."""
        method = str(environ.get("REQUEST_METHOD", "")).upper()
        code = int(status.split(" ", 1)[0]) if status[:3].isdigit() else 500
        login = login_of(environ)
        if not wanted(method, code, login, self.quiet, "HTTP_AUTHORIZATION" in environ):
            return
        logger.info("%s %s %s %s %s %.3fs", shown(method), path_of(environ), login,
                    shown(str(environ.get("REMOTE_ADDR", "-"))), shown(status), seconds)


class Repeats(logging.Filter):
    """Drops Radicale's warnings that repeat a request line: refusals, wrong passwords."""

    #: Radicale 3.9's format strings for a failed login (radicale/app, auth/htpasswd.py).
    LOGIN_FAILURES = ("Failed login attempt from %s: %r (%s)",
                      "Login verification failed for user: '%s' (htpasswd/%s/%s)")

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record that the request line already says."""
        args = record.args if isinstance(record.args, tuple) else ()
        return not (record.msg in self.LOGIN_FAILURES
                    or any(isinstance(a, KalenderError) for a in args))


def wanted(method: str, code: int, login: str, quiet: frozenset[str],
           credentials: bool) -> bool:
    """Whether a request gets a line: a change or a failure (see the module docstring)."""
    if code == 401 and not credentials:
        return False
    if login in quiet:
        return code >= 400 and not (code == 404 and method in READ_METHODS)
    return method not in READ_METHODS or code >= 400


def login_of(environ: types.WSGIEnviron) -> str:
    """The login of HTTP Basic credentials (RFC 7617), '-' without any; never the password."""
    scheme, _, token = str(environ.get("HTTP_AUTHORIZATION", "")).strip().partition(" ")
    if not scheme:
        return "-"
    if scheme.lower() != "basic":
        return f"({shown(scheme)[:20]})"
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return "(tidak terbaca)"
    return shown(decoded.partition(":")[0])[:64] or "-"


def path_of(environ: types.WSGIEnviron) -> str:
    """The request path for the log: UTF-8 (PEP 3333 hands latin-1), no query, no secrets."""
    raw = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    try:
        path = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        path = raw
    segments = ["***" if _TOKEN.match(s) and not _UUID.match(s) else s
                for s in path.split("/")]
    return shown("/".join(segments)) or "/"


def shown(text: str) -> str:
    """``text`` safe on one log line: control characters escaped, length capped."""
    text = _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."
