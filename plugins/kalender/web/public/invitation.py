"""``/kegiatan/<id>/undangan.pdf``: the invitation letter attached to an activity.

The web form stores the letter as ``ATTACH;FMTTYPE=application/pdf;
ENCODING=BASE64;VALUE=BINARY;X-FILENAME=<name>`` (RFC 5545 §3.8.1.1); the
PIC marks it public with the parameter ``X-KALENDER-PUBLIK=TRUE``. The file is
read from the OPD's stored item (found through ``WebIndex.source_of``; the
sync's copies leave inline files out), a plain file read without the lock. Leaders (and the
organising OPD's PIC) may always download it, with ``Cache-Control: private,
no-store``; anyone else only when the letter is marked public and the activity
itself is in the public agenda. Everyone else gets the same 404 as for an
activity without a letter: the answer does not tell that a letter exists.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import icalendar

from kalender.registry import LEADER_ROLES
from kalender.web import respond
from kalender_sync.occurrences import Occurrence

LEADERS = "pimpinan/agenda"
PDF = "application/pdf"
PUBLIC_PARAM = "X-KALENDER-PUBLIK"
MISSING = "Surat undangan tidak ditemukan untuk kegiatan ini."
#: An ATTACH line's start and its parameters, before the value (folding undone below).
_ATTACH = re.compile(r"^ATTACH[;:]", re.IGNORECASE | re.MULTILINE)
_FOLD = re.compile(r"\r?\n[ \t]")
_PDF_PARAM = re.compile(r';FMTTYPE="?application/pdf"?[;:]', re.IGNORECASE)
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")


@dataclass(frozen=True)
class Invitation:
    """An attached letter: its bytes, its file name, whether the PIC made it public."""

    data: bytes
    filename: str
    public: bool


def path(occ: Occurrence) -> str:
    """The letter's address, ``/kegiatan/<id>/undangan.pdf``."""
    return occ.path + "/undangan.pdf"


def has_pdf(text: str | None) -> bool:
    """Whether a copy's text carries a PDF ATTACH (a quick look, without parsing it)."""
    if not text or "ATTACH" not in text.upper():
        return False
    for match in _ATTACH.finditer(text):
        head = _FOLD.sub("", text[match.start():match.start() + 600])
        if _PDF_PARAM.search(head.split("\n", 1)[0]):
            return True
    return False


def _param(value: Any, name: str) -> str:
    """A parameter of a property value ("" when absent)."""
    params = getattr(value, "params", {}) or {}
    found = params.get(name, "")
    return str(found[0] if isinstance(found, list) else found).strip()


def read(text: str) -> Invitation | None:
    """The first inline PDF attached to a VEVENT of ``text`` (None when there is none)."""
    try:
        cal = icalendar.Calendar.from_ical(text)
    except ValueError:
        return None
    for event in cal.walk("VEVENT"):
        values = event.get("ATTACH")
        for value in values if isinstance(values, list) else [values] if values else []:
            if _param(value, "FMTTYPE").lower() != PDF:
                continue
            if _param(value, "VALUE").upper() != "BINARY":
                continue  # a URI: nothing of ours to serve
            raw = value.to_ical() if hasattr(value, "to_ical") else str(value).encode()
            try:
                data = base64.b64decode(raw, validate=False)
            except (binascii.Error, ValueError):
                continue
            if not data.startswith(b"%PDF-"):
                continue  # only a real PDF is served as one
            return Invitation(data, _param(value, "X-FILENAME") or "undangan.pdf",
                              _param(value, PUBLIC_PARAM).upper() == "TRUE")
    return None


def _texts(request: Any, occ: Occurrence) -> Iterable[str]:
    """The OPD's stored item of the activity (copies carry no files: kalender_sync.transform).

    A plain read of one file: Radicale replaces item files atomically (write,
    then rename), so no storage lock is taken and no writer waits for a reader.
    """
    source = request.index.source_of(occ)
    if source is None:
        return
    opd, name = source
    if "/" in name or name.startswith("."):
        return  # item names are flat file names in the OPD's folder
    try:
        yield (request.root / "collections" / "collection-root" / "opd" / opd / name
               ).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return


def find(request: Any, occ: Occurrence) -> Invitation | None:
    """The activity's letter, from its leaders' copy."""
    for text in _texts(request, occ):
        if has_pdf(text):
            found = read(text)
            if found is not None:
                return found
    return None


def links(request: Any, occurrences: Iterable[Occurrence]) -> set[str]:
    """The UIDs among ``occurrences`` that have a letter (for the leaders' list)."""
    first = {o.uid: o for o in reversed(list(occurrences))}  # one look per series
    return {uid for uid, occ in first.items()
            if any(has_pdf(text) for text in _texts(request, occ))}


def _may_read(request: Any, occ: Occurrence) -> bool:
    """Leaders always; the organising OPD's PIC."""
    user = request.user
    if user is None:
        return False
    return user.role in LEADER_ROLES or (user.role == "pic" and occ.opd in user.opds)


def disposition(filename: str) -> str:
    """``attachment`` with the file name (RFC 6266 §4.3: ASCII fallback and UTF-8 form)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "undangan.pdf"
    if not name.lower().endswith(".pdf"):
        name += ".pdf"
    plain = _UNSAFE.sub("_", name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def page(request: Any, occurrence_id: str) -> respond.Response:
    """The letter as a download (404 for whoever may not read it)."""
    leaders_view = request.index.get(occurrence_id, LEADERS)
    if leaders_view is not None and _may_read(request, leaders_view):
        found = find(request, leaders_view)
        if found is None:
            raise respond.NotFoundError(MISSING)
        return respond.page(found.data, PDF, private=True,
                            Content_Disposition=disposition(found.filename))
    public_view = request.index.get(occurrence_id)
    if public_view is None or public_view.internal or leaders_view is None:
        raise respond.NotFoundError(MISSING)
    found = find(request, leaders_view)
    if found is None or not found.public:
        raise respond.NotFoundError(MISSING)
    return respond.page(found.data, PDF, max_age=300,
                        Content_Disposition=disposition(found.filename))
