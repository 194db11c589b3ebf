"""Stand-ins: "Wali Kota diwakili oleh Wakil Wali Kota", as PICs write it in a description.

A key person who is represented is free for the time of the activity and the
stand-in is busy (issue 11): the clash engine checks the stand-in instead
(:meth:`kalender.clash.match.Matcher.delegations` turns these texts into
person ids). This module reads and writes the text, and reads the iCalendar
form, ``ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO=`` (RFC 5545 §3.2.4, §3.2.12),
into calendar addresses (:func:`delegated`); it knows no registry.

Recognised, one per line or per ``;``-separated part of a line, whatever the
case, spacing, a leading bullet or dash, and Google's HTML ``<br>``:

- ``Wali Kota diwakili oleh Wakil Wali Kota`` (also ``diwakili`` without
  ``oleh``, ``diwakilkan kepada|ke|oleh``); the represented person is the
  text after a leading label (``Pimpinan: Wali Kota diwakili oleh ...``), and a
  trailing "berhalangan hadir," or "tidak dapat hadir," is dropped
  (``Wali Kota berhalangan hadir, diwakili Asisten I.``);
- ``Diwakili: Wali Kota oleh Asisten I`` (also ``kepada``);
- ``Diwakili oleh: Asisten I``, ``Diwakili: Asisten I`` or a line that starts
  ``Diwakili oleh Asisten I``: only the stand-in is written, so :func:`read`
  gives ``""`` as the represented text. The Matcher
  takes the represented person to be the one key person the event names
  otherwise (attendees and labelled lines); when it names none or several,
  nobody is freed but the stand-in is still busy (the line says the stand-in
  attends; the PIC should say whom they represent).

A sentence without a stand-in ("Rapat ini tidak dapat diwakilkan.") is no
stand-in.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Delegation", "Party", "delegated", "line", "read", "sentence"]


@dataclass(frozen=True)
class Delegation:
    """Who is represented (free for the time) and who stands in (busy)."""

    absent: frozenset[str]  # registered person ids represented: FREE for the time
    present: frozenset[str]  # registered stand-in ids: BUSY; empty for an unregistered name
    absent_text: str  # who is represented, as a person sees it ("Wali Kota")
    present_text: str  # the stand-in as written or registered ("Wakil Wali Kota")


@dataclass(frozen=True)
class Party:
    """One calendar address of an ATTENDEE delegation, as the ATTENDEE lines say it."""

    address: str  # case-folded, without "mailto:"
    cn: str = ""  # the CN of its own ATTENDEE line, if it has one
    declined: bool = False  # its own ATTENDEE says PARTSTAT=DECLINED


_VERB = r"diwakil(?:i|kan)"
_BY = r"(?:oleh|kepada|ke)"
# "Diwakili:", "Diwakili oleh:", "Diwakilkan kepada :" (the label form).
_LABEL = re.compile(rf"^{_VERB}(?:\s+{_BY})?\s*:\s*(?P<rest>.*)$", re.I)
# "Wali Kota oleh Asisten I" after the label.
_SPLIT = re.compile(rf"^(?P<a>.+?)\s+{_BY}\s+(?P<b>.+)$", re.I)
# "Wali Kota diwakili oleh Wakil Wali Kota" (the inline form).
_INLINE = re.compile(rf"^(?P<a>.*?)[\s,]*\b{_VERB}\b(?:\s+{_BY}\b)?\s*(?P<b>.*)$", re.I)
# A leading bullet, dash, number or quote: "- ", "* ", "• ", "1. ".
_BULLET = re.compile(r"^[\s\-–—*•·>\"']*(?:\d+[.)]\s+)?")
# "berhalangan hadir", "tidak dapat hadir", "yang berhalangan" before the verb.
_AWAY = re.compile(r"\s*,?\s*(?:yang\s+)?(?:berhalangan(?:\s+hadir)?|tidak\s+(?:dapat|bisa)?"
                   r"\s*hadir)\s*,?\s*(?:dan|sehingga)?\s*$", re.I)
_BREAK = re.compile(r"<\s*(?:br\s*/?|/p|/div|/li)\s*>", re.I)
_TAG = re.compile(r"<[^>]+>")


def _lines(text: str) -> Iterable[str]:
    """Lines of a DESCRIPTION; Google sends HTML with <br>, so those become line breaks."""
    if "<" in text:
        text = html.unescape(_TAG.sub("", _BREAK.sub("\n", text)))
    return text.splitlines()


def _tidy(text: str) -> str:
    """One line of words: spaces collapsed, end punctuation and quotes dropped."""
    return " ".join(text.split()).strip(" .,;:!\"'")


def _one(part: str) -> tuple[str, str] | None:
    """(represented, stand-in) texts of one part of a line, or None."""
    part = _BULLET.sub("", part).strip()
    if match := _LABEL.match(part):
        rest = _tidy(match["rest"])
        if split := _SPLIT.match(rest):
            absent, present = _tidy(split["a"]), _tidy(split["b"])
            return (absent, present) if absent and present else None
        return ("", rest) if rest else None
    if not (match := _INLINE.match(part)):
        return None
    before = match["a"].rsplit(":", 1)[-1]  # "Pimpinan: Wali Kota" -> "Wali Kota"
    absent, present = _tidy(_AWAY.sub("", before)), _tidy(match["b"])
    return (absent, present) if present else None  # "" absent: "Diwakili oleh Sekda"


def read(description: str) -> list[tuple[str, str]]:
    """Raw (represented, stand-in) texts of the stand-in lines of a DESCRIPTION, in order.

    The represented text is ``""`` for a ``Diwakili oleh: X`` line (see the module).
    """
    found: list[tuple[str, str]] = []
    for text in _lines(description):
        for part in text.split(";"):
            if (pair := _one(part)) is not None and pair not in found:
                found.append(pair)
    return found


def sentence(d: Delegation) -> str:
    """The sentence people read: "Wali Kota diwakili oleh Wakil Wali Kota".

    Without a represented text "Diwakili oleh Sekda"; without a stand-in text
    (a delegation to nobody known) "Wali Kota diwakilkan".
    """
    if not _tidy(d.present_text):
        return f"{_tidy(d.absent_text)} diwakilkan"
    return line(d.absent_text, d.present_text)


def line(absent_text: str, present_text: str) -> str:
    """The DESCRIPTION line the web form writes for one stand-in (:func:`read` reads it).

    Without a represented text: "Diwakili oleh Sekda" (read back as ``("", "Sekda")``).
    """
    absent, present = _tidy(absent_text), _tidy(present_text)
    return f"{absent} diwakili oleh {present}" if absent else f"Diwakili oleh {present}"


def _address(value: Any) -> str:
    text = str(value).strip()
    return (text[7:] if text[:7].casefold() == "mailto:" else text).casefold()


def _addresses(value: Any) -> list[str]:
    """The addresses of a DELEGATED-TO or DELEGATED-FROM parameter (a list or one)."""
    values = value if isinstance(value, list) else [] if value is None else [value]
    return [a for v in values if (a := _address(v))]


def delegated(attendees: Iterable[Any]) -> list[tuple[Party, tuple[Party, ...]]]:
    """(delegator, delegates) of ATTENDEE properties, grouped by delegator.

    From ``PARTSTAT=DELEGATED`` with ``DELEGATED-TO`` (RFC 5545 §3.2.12,
    §3.2.4; a delegator naming nobody still delegates) and from the delegate's
    own ``DELEGATED-FROM`` (§3.2.5), so either side alone is enough. Room and
    resource attendees (``CUTYPE=ROOM|RESOURCE``) are venues, never delegates.
    """
    people: dict[str, Party] = {}
    params_of: dict[str, Any] = {}
    for attendee in attendees:
        params = getattr(attendee, "params", {})
        if str(params.get("CUTYPE", "")).upper() in ("ROOM", "RESOURCE"):
            continue
        address = _address(attendee)
        if address and address not in people:
            people[address] = Party(address, " ".join(str(params.get("CN", "")).split()),
                                    str(params.get("PARTSTAT", "")).upper() == "DECLINED")
            params_of[address] = params
    delegates: dict[str, list[str]] = {}
    for address, params in params_of.items():
        if str(params.get("PARTSTAT", "")).upper() == "DELEGATED":
            delegates.setdefault(address, []).extend(_addresses(params.get("DELEGATED-TO")))
        for source in _addresses(params.get("DELEGATED-FROM")):
            delegates.setdefault(source, []).append(address)
    return [(people.get(source, Party(source)),
             tuple(people.get(t, Party(t)) for t in dict.fromkeys(targets) if t != source))
            for source, targets in delegates.items()]
