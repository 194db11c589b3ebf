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


class NotFoundError(KalenderError):
    """A page or activity that does not exist (or is not public)."""

    status = 404
    reason = "Tidak Ditemukan"


class BadQueryError(KalenderError):
    """A query parameter that cannot be read, e.g. ``?tanggal=kemarin``."""

    status = 400
    reason = "Permintaan Tidak Valid"


class MethodError(KalenderError):
    """A method the page does not answer (the pages are read only)."""

    status = 405
    reason = "Metode Tidak Diizinkan"


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
         status: int = 200, **headers: str) -> Response:
    """A cacheable answer (public, ``max_age`` seconds) with its ETag."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    fields = {"Cache-Control": f"public, max-age={max_age}", "ETag": etag_of(data)}
    fields.update({k.replace("_", "-"): v for k, v in headers.items()})
    return Response(status, data, content_type, fields)
