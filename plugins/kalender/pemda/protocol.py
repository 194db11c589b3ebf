"""Protocol details of an activity as DESCRIPTION lines: pakaian, surat, narahubung (pure).

The protocol office needs to know what to wear, which invitation letter an
activity answers (its number and subject), whom to call and whether the
leader gives a speech (issue 11 item 4). iCalendar has no property for these,
so they travel as labelled plain-text lines in DESCRIPTION (RFC 5545
§3.8.1.5), which every calendar app shows as written::

    Pakaian: PDH Khaki
    Nomor surat: 005/123/419.42/2026
    Perihal: Undangan Rakor Stunting
    Narahubung: Budi 081234567890
    Sambutan: Ya

:func:`read` recognises these lines the way PICs type them in their apps
(any case, spaces around the colon, a leading bullet, Google's HTML ``<br>``,
the usual other labels: ``Dress code``, ``No. Surat``, ``Hal``, ``Kontak``,
``CP``); :meth:`Protocol.lines` writes them back in one shape; :func:`without`
is the description minus the lines :func:`read` used (the web form's
``deskripsi``). The first line of each kind counts; a line whose value says
nothing (``Pakaian:``, ``Sambutan: mungkin``) is not a protocol line and stays
in the description.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = ["DRESS", "Protocol", "plain", "read", "speech", "without"]

#: The dress codes of local government (Permendagri on official uniforms), offered by the form.
DRESS = ("PDH", "PDH Khaki", "PDL", "Batik", "Pakaian Sipil Lengkap", "Pakaian Dinas Upacara")

#: field -> the label it is written with, and the labels PICs type for it.
_WRITTEN = {"pakaian": "Pakaian", "nomor_surat": "Nomor surat", "perihal": "Perihal",
            "narahubung": "Narahubung", "sambutan": "Sambutan"}
_LABELS = {
    "pakaian": r"pakaian|dress\s*code|seragam",
    "nomor_surat": r"(?:nomor|nomer|no\.?)\s*(?:surat|undangan)(?:\s+undangan)?",
    "perihal": r"perihal|hal",
    "narahubung": r"narahubung|nara\s+hubung|kontak(?:\s+person)?|contact\s+person|cp",
    "sambutan": r"sambutan",
}
# a bullet or quote mark may lead ("- Pakaian: ...", "• CP: ..."); the label ends in a colon
_PATTERNS = {name: re.compile(r"^[\s\-*•·>–—]*(?:" + label + r")\s*:\s*(?P<value>.*?)\s*$",
                              re.I)
             for name, label in _LABELS.items()}
_YES = frozenset({"ya", "iya", "y", "yes", "perlu", "ada", "ya perlu", "ya, perlu", "wajib"})
_NO = frozenset({"tidak", "tdk", "t", "no", "tidak perlu", "tidak ada", "-", "--", "nihil",
                 "tanpa sambutan", "ga", "gak", "enggak", "tidak ada sambutan"})
_BREAK = re.compile(r"<\s*(?:br\s*/?|/p|/div|/li)\s*>", re.I)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Protocol:
    """What the protocol office needs to know of an activity (empty strings: not said)."""

    pakaian: str = ""  # "PDH Khaki"
    nomor_surat: str = ""  # "005/123/419.42/2026"
    perihal: str = ""
    narahubung: str = ""  # "Budi 081234567890" (never public)
    sambutan: bool | None = None  # a speech is needed (None: not said)

    def lines(self) -> list[str]:
        """The DESCRIPTION lines of the details that are set, in a fixed order."""
        found = []
        for name in ("pakaian", "nomor_surat", "perihal", "narahubung"):
            value = " ".join(str(getattr(self, name)).split())
            if value:
                found.append(f"{_WRITTEN[name]}: {value}")
        if self.sambutan is not None:
            found.append(f"Sambutan: {'Ya' if self.sambutan else 'Tidak'}")
        return found


def plain(description: str) -> str:
    """A DESCRIPTION as plain lines (Google Calendar sends HTML with ``<br>``)."""
    if re.search(r"<[a-zA-Z/][^>]*>", description):
        description = html.unescape(_TAG.sub("", _BREAK.sub("\n", description)))
    return description.replace("\r\n", "\n").replace("\r", "\n")


def speech(text: str) -> bool | None:
    """``Ya``/``Perlu`` is True, ``Tidak``/``-`` False, anything else None."""
    word = " ".join(text.casefold().replace(".", "").split())
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None


def _classify(line: str) -> tuple[str, str | bool] | None:
    """(field, value) of a protocol line, None for any other line."""
    for name, pattern in _PATTERNS.items():
        found = pattern.match(line)
        if found is None:
            continue
        value = " ".join(found["value"].split())
        if name == "sambutan":
            said = speech(value)
            return (name, said) if said is not None else None
        if name == "pakaian":  # "pdh khaki" is the form's "PDH Khaki"
            value = next((d for d in DRESS if d.casefold() == value.casefold()), value)
        return (name, value) if value else None
    return None


def _scan(description: str) -> tuple[dict[str, str | bool], list[str]]:
    """(the first value of each field, the other lines) of a description."""
    values: dict[str, str | bool] = {}
    rest: list[str] = []
    for line in plain(description).split("\n"):
        found = _classify(line)
        if found is not None and found[0] not in values:
            values[found[0]] = found[1]
        else:
            rest.append(line)
    return values, rest


def read(description: str) -> Protocol:
    """The protocol details named by a description's lines."""
    values, _ = _scan(description)
    sambutan = values.pop("sambutan", None)
    return Protocol(**{k: str(v) for k, v in values.items()},
                    sambutan=bool(sambutan) if sambutan is not None else None)


def without(description: str) -> str:
    """The description minus the lines :func:`read` used (plain text, trimmed)."""
    _, rest = _scan(description)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in rest)).strip()
