"""Requests of the web workspace through the CalDAV application, as the signed-in login.

A form that books a venue must be judged exactly like a calendar app's PUT:
the same login and rights check, the guard in the same storage lock, the audit
trail naming the real login, the refusal recorded for the Bentrok channel. So
the workspace does not touch the storage: :func:`call` makes an HTTP request
(a WSGI environ) to ``request.dav`` carrying HTTP Basic credentials of the
signed-in login with a one-time ticket as the password (``kalender.dav.tickets``),
the browser's address (``REMOTE_ADDR``: the throttle and Radicale's log see
the real client) and a User-Agent naming the workspace. The sign-in form uses
:func:`send` with the typed password, so its check is CalDAV's own.
"""

from __future__ import annotations

import base64
import io
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kalender.dav import tickets
from kalender.web.workspace.session import LoginRequired

if TYPE_CHECKING:  # pragma: no cover
    from kalender.web.app import Request

#: How the workspace names itself to the CalDAV application (Radicale's log shows it).
USER_AGENT = "KalenderOPD-RuangKerjaWeb/1.0 (halaman web Kalender OPD)"


class Headers(dict[str, str]):
    """Response headers by lowercase name, looked up in any case (RFC 9110 §5.1)."""

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        """The header ``name`` (any case), ``default`` when absent."""
        return super().get(name.lower(), default)


@dataclass(frozen=True)
class Internal:
    """The CalDAV application's answer: status, headers (any case), body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def text(self) -> str:
        """The body as text (UTF-8, what the application always answers in)."""
        return self.body.decode("utf-8", "replace")


def call(request: Request, method: str, path: str, body: bytes = b"",
         headers: Mapping[str, str] | None = None) -> Internal:
    """``method path`` through the CalDAV application as ``request.user``."""
    user = request.user
    if user is None:
        raise LoginRequired("Silakan masuk dengan akun Kalender OPD Anda.")
    with tickets.ticket(user.login) as secret:
        return send(request, method, path, body, headers, (user.login, secret))


def send(request: Request, method: str, path: str, body: bytes = b"",
         headers: Mapping[str, str] | None = None,
         credentials: tuple[str, str] | None = None) -> Internal:
    """One request to the CalDAV application with ``credentials`` (login, password)."""
    outer = request.environ
    target, _, query = path.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": "",
        # a WSGI server hands the path's bytes as latin-1 (PEP 3333); so do we
        "PATH_INFO": target.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": outer.get("SERVER_NAME", "localhost"),
        "SERVER_PORT": outer.get("SERVER_PORT", "80"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": outer.get("REMOTE_ADDR", ""),
        "HTTP_USER_AGENT": USER_AGENT,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": outer.get("wsgi.url_scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": outer.get("wsgi.errors", sys.stderr),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if outer.get("HTTP_HOST"):
        environ["HTTP_HOST"] = outer["HTTP_HOST"]
    if body:
        environ["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        elif key not in ("AUTHORIZATION", "USER_AGENT", "HOST"):
            environ["HTTP_" + key] = value
    if credentials is not None:
        pair = f"{credentials[0]}:{credentials[1]}".encode()
        environ["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(pair).decode("ascii")
    answer: dict[str, Any] = {}

    def start_response(status: str, fields: list[tuple[str, str]],
                       exc_info: Any = None) -> Any:
        answer["status"], answer["headers"] = status, fields
        return lambda data: None

    result = request.dav(environ, start_response)
    try:
        data = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if callable(close):
            close()
    merged = Headers()
    for name, value in answer.get("headers", []):
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return Internal(int(str(answer.get("status", "500"))[:3]), merged, data)
