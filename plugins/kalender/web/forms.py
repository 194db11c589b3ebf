"""Form posts of the web workspace: the body read within its limit, the CSRF check.

A POST body is ``application/x-www-form-urlencoded`` (what an HTML form sends;
a script sends ``URLSearchParams``), at most :data:`MAX_FORM` bytes: a larger
Content-Length is refused with 413 before a byte is read, and never more than
the Content-Length is read. ``kalender.web.app`` checks the posted ``csrf``
field (or an ``X-CSRF-Token`` header, for a script) against the session's
token before any page function runs (OWASP's synchronizer token pattern;
the sign-in form, before a session exists, uses a double-submit cookie:
``kalender.web.workspace.session``).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from kalender.web import respond
from kalender.web.workspace import session

if TYPE_CHECKING:  # pragma: no cover
    from kalender.web.app import Request

#: The largest form body read (bytes); a larger Content-Length gets 413 unread.
MAX_FORM = 64 * 1024


def check_csrf(request: Request) -> None:
    """Refuse a POST whose ``csrf`` field is not this session's (or sign-in form's) token."""
    expected = session.expected_csrf(request)
    sent = request.posted("csrf") or str(request.environ.get("HTTP_X_CSRF_TOKEN", "")).strip()
    if expected is None or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise respond.ForbiddenError(
            "Formulir ini sudah kedaluwarsa atau tidak dikirim dari halaman Kalender OPD. "
            "Muat ulang halamannya (masuk lagi bila diminta), lalu kirim ulang.")


def read(environ: Any) -> dict[str, list[str]]:
    """A POST's urlencoded fields; never reads more than its Content-Length, at most MAX_FORM."""
    text = str(environ.get("CONTENT_LENGTH") or "").strip()
    if text and not (text.isascii() and text.isdigit()):
        raise respond.BadQueryError("Header Content-Length tidak valid.")
    length = int(text) if text else 0
    if length > MAX_FORM:
        raise respond.FormTooLargeError(
            f"Isian formulir terlalu besar (lebih dari {MAX_FORM // 1024} KB); persingkat "
            "isiannya, misalnya deskripsi, lalu kirim ulang.")
    if length == 0:
        return {}
    kind = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise respond.FormTypeError("Formulir harus dikirim sebagai "
                                    "application/x-www-form-urlencoded.")
    body = environ["wsgi.input"].read(length)
    try:
        return parse_qs(body.decode("ascii", "replace"), keep_blank_values=True,
                        encoding="utf-8", errors="replace", max_num_fields=1000)
    except ValueError:  # more fields than any form of ours has
        raise respond.BadQueryError("Formulir memuat terlalu banyak isian.") from None
