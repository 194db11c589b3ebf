"""Answers of the web pages: one place for headers, ETag/304 and error pages.

Every page carries a strict Content-Security-Policy (only this server's own
styles, scripts and images; no inline script or style; no framing) and the
other headers a city can put online. An ETag is the hash of the body, so a
page is 304 whenever the bytes would be the same (RFC 9110 §8.8.3, §13.1.2).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from kalender.errors import KalenderError

#: No resource from elsewhere; no inline script or style (CSP Level 3).
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}
HTML = "text/html; charset=utf-8"


@dataclass
class Response:
    """A finished answer: status, headers and body."""

    status: int
    body: bytes
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)
    #: ``Set-Cookie`` values (RFC 6265 §4.1: one header each, never folded into one)
    cookies: list[str] = field(default_factory=list)


class NotFoundError(KalenderError):
    """A page or activity that does not exist (or is not public)."""

    status = 404
    reason = "Tidak Ditemukan"


class BadQueryError(KalenderError):
    """A query parameter that cannot be read, e.g. ``?tanggal=kemarin``."""

    status = 400
    reason = "Permintaan Tidak Valid"


class MethodError(KalenderError):
    """A method the page does not answer (``allow``: the methods it does answer)."""

    status = 405
    reason = "Metode Tidak Diizinkan"

    def __init__(self, message: str, allow: str = "GET, HEAD") -> None:
        super().__init__(message)
        self.allow = allow


class ForbiddenError(KalenderError):
    """A page the signed-in account may not open, or a form that did not come from us."""

    status = 403
    reason = "Akses Ditolak"


class FormTooLargeError(KalenderError):
    """A form body above the workspace's limit (read no further than its Content-Length)."""

    status = 413
    reason = "Isian Terlalu Besar"


class FormTypeError(KalenderError):
    """A POST body that is not ``application/x-www-form-urlencoded``."""

    status = 415
    reason = "Jenis Isian Tidak Didukung"


def etag_of(body: bytes) -> str:
    """A strong ETag from the body's hash."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def fresh(if_none_match: str | None, etag: str) -> bool:
    """Whether the client's ``If-None-Match`` already names ``etag``."""
    if not if_none_match:
        return False
    wanted = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in wanted or etag in wanted


def page(body: str | bytes, content_type: str = HTML, max_age: int = 60,
         status: int = 200, private: bool = False, **headers: str) -> Response:
    """A cacheable answer (public, ``max_age`` seconds) with its ETag.

    ``private=True`` is for a signed-in person's page: ``Cache-Control: private,
    no-store`` (RFC 9111 §5.2.2.3, §5.2.2.7), so neither a shared cache nor the
    browser's disk keeps it, and no ETag.
    """
    data = body.encode("utf-8") if isinstance(body, str) else body
    if private:
        fields = {"Cache-Control": "private, no-store"}
    else:
        fields = {"Cache-Control": f"public, max-age={max_age}", "ETag": etag_of(data)}
    fields.update({k.replace("_", "-"): v for k, v in headers.items()})
    return Response(status, data, content_type, fields)


def redirect(location: str, status: int = 303) -> Response:
    """A redirect to a local ``location`` (303 See Other: the next request is a GET)."""
    return Response(status, b"", "text/plain; charset=utf-8",
                    {"Location": location, "Cache-Control": "no-store"})
