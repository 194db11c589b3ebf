"""Form posts of the web workspace: the body read within its limit, the CSRF check.

A POST body is ``application/x-www-form-urlencoded`` (what an HTML form sends;
a script sends ``URLSearchParams``), at most :data:`MAX_FORM` bytes, or
``multipart/form-data`` (RFC 7578) on the pages of :data:`UPLOADS` (the
activity form with its invitation PDF), at most :data:`MAX_MULTIPART` bytes:
a larger Content-Length is refused with 413 before a byte is read, and never
more than the Content-Length is read.
A multipart body is read with the standard library's ``email`` parser (the
deprecated ``cgi`` module is gone in Python 3.13); its files become
:class:`Upload` values, its other parts text fields like an urlencoded form.
``kalender.web.app`` checks the posted ``csrf`` field (or an ``X-CSRF-Token``
header, for a script) against the session's token before any page function
runs (OWASP's synchronizer token pattern; the sign-in form, before a session
exists, uses a double-submit cookie: ``kalender.web.workspace.session``).
"""

from __future__ import annotations

import email.parser
import email.policy
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from kalender.web import respond
from kalender.web.workspace import session

if TYPE_CHECKING:  # pragma: no cover
    from kalender.web.app import Request

#: The largest form body read (bytes); a larger Content-Length gets 413 unread.
MAX_FORM = 64 * 1024
#: The largest file of a multipart form (the invitation PDF), bytes.
MAX_FILE = 2 * 1024 * 1024
#: The largest multipart body: one file, the form's fields and the parts' headers.
MAX_MULTIPART = MAX_FILE + MAX_FORM
MAX_FIELDS = 1000
#: The pages (route targets) that take multipart/form-data: the activity form and its PDF.
UPLOADS = frozenset({"kalender.web.workspace.booking:new", "kalender.web.workspace.booking:edit"})


@dataclass(frozen=True)
class Upload:
    """One file of a multipart form, as the browser sent it."""

    filename: str  # the name on the PIC's computer, without its folders
    content_type: str  # what the browser says it is (checked again by the reader)
    data: bytes


def check_csrf(request: Request) -> None:
    """Refuse a POST whose ``csrf`` field is not this session's (or sign-in form's) token."""
    expected = session.expected_csrf(request)
    sent = request.posted("csrf") or str(request.environ.get("HTTP_X_CSRF_TOKEN", "")).strip()
    if expected is None or not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise respond.ForbiddenError(
            "Formulir ini sudah kedaluwarsa atau tidak dikirim dari halaman Kalender OPD. "
            "Muat ulang halamannya (masuk lagi bila diminta), lalu kirim ulang.")


def read(environ: Any) -> dict[str, list[str]]:
    """A POST's fields; never reads more than its Content-Length (see :func:`read_post`)."""
    return read_post(environ)[0]


def read_post(environ: Any,
              uploads: bool = False) -> tuple[dict[str, list[str]], dict[str, list[Upload]]]:
    """A POST's (text fields, files): urlencoded up to MAX_FORM; multipart up to
    MAX_MULTIPART when the page takes ``uploads`` (elsewhere 415, as any other type)."""
    text = str(environ.get("CONTENT_LENGTH") or "").strip()
    if text and not (text.isascii() and text.isdigit()):
        raise respond.BadQueryError("Header Content-Length tidak valid.")
    length = int(text) if text else 0
    kind = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
    if kind == "multipart/form-data" and uploads:
        if length > MAX_MULTIPART:
            raise respond.FormTooLargeError(
                f"Berkas undangan terlalu besar: paling besar {MAX_FILE // (1024 * 1024)} MB. "
                "Perkecil berkas PDF-nya (misalnya pindai ulang dengan resolusi lebih "
                "rendah), lalu kirim ulang.")
        if length == 0:
            return {}, {}
        return _multipart(str(environ.get("CONTENT_TYPE", "")),
                          environ["wsgi.input"].read(length))
    if length > MAX_FORM:
        raise respond.FormTooLargeError(
            f"Isian formulir terlalu besar (lebih dari {MAX_FORM // 1024} KB); persingkat "
            "isiannya, misalnya deskripsi, lalu kirim ulang.")
    if length == 0:
        return {}, {}
    if kind != "application/x-www-form-urlencoded":
        raise respond.FormTypeError("Formulir harus dikirim sebagai "
                                    "application/x-www-form-urlencoded.")
    return _urlencoded(environ["wsgi.input"].read(length)), {}


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, list[str]],
                                                        dict[str, list[Upload]]]:
    """The parts of a multipart/form-data body (RFC 7578), each named by its disposition."""
    if "boundary=" not in content_type.lower():
        raise respond.BadQueryError("Formulir multipart/form-data tanpa boundary.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1",
                                                                                "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart() or message.defects:
        raise respond.BadQueryError("Isian formulir multipart/form-data rusak; kirim ulang "
                                    "formulirnya.")
    fields: dict[str, list[str]] = {}
    files: dict[str, list[Upload]] = {}
    parts = list(message.iter_parts())  # type: ignore[attr-defined]
    if len(parts) > MAX_FIELDS:
        raise respond.BadQueryError("Formulir memuat terlalu banyak isian.")
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue  # RFC 7578 §4.2: every part names its field
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            if len(data) > MAX_FILE:
                raise respond.FormTooLargeError(
                    f"Berkas undangan terlalu besar: paling besar "
                    f"{MAX_FILE // (1024 * 1024)} MB. Perkecil berkas PDF-nya, lalu kirim "
                    "ulang.")
            # a browser may send the full path (old Internet Explorer): keep the last part
            short = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
            if short or data:
                files.setdefault(name, []).append(Upload(short, part.get_content_type(), data))
            continue
        fields.setdefault(name, []).append(data.decode("utf-8", "replace"))
    return fields, files


def _urlencoded(body: bytes) -> dict[str, list[str]]:
    """The fields of an application/x-www-form-urlencoded body."""
    try:
        return parse_qs(body.decode("ascii", "replace"), keep_blank_values=True,
                        encoding="utf-8", errors="replace", max_num_fields=1000)
    except ValueError:  # more fields than any form of ours has
        raise respond.BadQueryError("Formulir memuat terlalu banyak isian.") from None
