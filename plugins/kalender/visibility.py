"""Who may see what of an event: the one privacy rule of Kalender OPD.

Every consumer that shows an event to someone other than its own OPD asks
this module (clash answers, the public feed, venue calendars, and what comes
later: web pages, JSON, e-mails, Bentrok entries). Pure: plain values and
icalendar components in, plain values out.

The class of an event is its CLASS property (RFC 5545 §3.8.1.3):

* absent means PUBLIC; values are compared trimmed and case-insensitively;
* an unknown value (``X-RAHASIA``, a typo) is treated as PRIVATE, as the RFC
  requires of values an application does not recognise;
* an override (a VEVENT with RECURRENCE-ID, §3.8.4.4) is one occurrence of
  its series: it is at least as restricted as the series (an override
  without CLASS of a PRIVATE series is PRIVATE) and may be more restricted.

Restriction grows PUBLIC < CONFIDENTIAL < PRIVATE. A *held* event (a tentative
hold, STATUS:TENTATIVE of RFC 5545 §3.8.1.11, or one waiting for the protocol
office's approval: :func:`held`) is hidden from the public whatever its class.
What an :class:`Audience` is shown of each class is :func:`shown`; which
properties that leaves in an iCalendar copy is :data:`KEPT`; the text of a
block is :func:`label`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "CONFIDENTIAL", "KEPT", "PRIVATE", "PUBLIC", "PUBLIC_PROPERTIES", "Audience", "Shown",
    "class_of_value", "classes_of", "event_class", "held", "label", "public_text",
    "series_class", "shown", "status_of", "stricter", "title_shown",
]

PUBLIC, CONFIDENTIAL, PRIVATE = "PUBLIC", "CONFIDENTIAL", "PRIVATE"
_RANK = {PUBLIC: 0, CONFIDENTIAL: 1, PRIVATE: 2}


class Audience(enum.Enum):
    """Who is looking at an event of an OPD."""

    PUBLIC = "public"  #: anyone: the public feed, the city's web page, JSON, the lobby screen
    OTHER_OPD = "other-opd"  #: another OPD: clash answers, venue calendars, availability
    LEADERS = "leaders"  #: pimpinan and admins (and the key persons' calendars)
    OWNER = "owner"  #: the OPD whose calendar holds the event


class Shown(enum.Enum):
    """How much of an event an audience sees."""

    FULL = "full"  #: every detail
    PUBLIC = "public"  #: the public details (:data:`PUBLIC_PROPERTIES`, text scrubbed)
    BUSY = "busy"  #: only its time, as "Kegiatan internal - <OPD>"
    OCCUPIED = "occupied"  #: its time and place, as "Terpakai - <OPD>"; never its title
    HIDDEN = "hidden"  #: nothing, not even that it exists


def class_of_value(value: object | None) -> str:
    """The class a CLASS value means: PUBLIC when absent, PRIVATE when unknown."""
    if value is None:
        return PUBLIC
    text = str(value).strip().upper()
    return text if text in _RANK else PRIVATE  # an empty "CLASS:" is no known value either


def stricter(*classes: str) -> str:
    """The most restricted of ``classes`` (PUBLIC when none)."""
    return max(classes, key=lambda c: _RANK.get(c, 2), default=PUBLIC)


def event_class(component: Any, series: str | None = None) -> str:
    """The effective class of one VEVENT: its own, at least that of its ``series``."""
    own = class_of_value(component.get("CLASS"))
    return stricter(own, series) if series is not None else own


def series_class(events: Iterable[Any]) -> str | None:
    """The class of the series master (the VEVENT without RECURRENCE-ID), None without one."""
    for event in events:
        if event.get("RECURRENCE-ID") is None:
            return class_of_value(event.get("CLASS"))
    return None


def classes_of(calendar: Any) -> list[tuple[Any, str]]:
    """Every VEVENT of one calendar object with its effective class, in order.

    Overrides of one series inherit the master's class; an object of
    overrides alone (an invitation to single occurrences) has each judged
    by itself.
    """
    events = list(calendar.walk("VEVENT"))
    series = series_class(events)
    return [(e, event_class(e, series)) for e in events]


_SHOWN = {
    Audience.PUBLIC: {PUBLIC: Shown.PUBLIC, CONFIDENTIAL: Shown.BUSY, PRIVATE: Shown.HIDDEN},
    Audience.OTHER_OPD: {PUBLIC: Shown.PUBLIC, CONFIDENTIAL: Shown.OCCUPIED,
                         PRIVATE: Shown.OCCUPIED},
}


def status_of(component: Any) -> str:
    """The STATUS of one VEVENT (RFC 5545 §3.8.1.11), trimmed and upper-case ("" when absent)."""
    return str(component.get("STATUS", "")).strip().upper()


def held(component: Any, pending: bool = False) -> bool:
    """Whether an event is held back from the public: a tentative hold, or ``pending`` approval.

    ``pending``: the protocol office has not (or not yet, for this time and place)
    approved the item (``kalender.pemda.approvals``).
    """
    return pending or status_of(component) == "TENTATIVE"


def shown(cls: str, audience: Audience, held: bool = False) -> Shown:
    """What ``audience`` sees of an event of class ``cls`` (an unknown class is PRIVATE).

    ``held`` (:func:`held`): the public sees nothing of it; another OPD still sees
    the venue taken (a hold blocks like a booking), leaders see it in full.
    """
    if held and audience is Audience.PUBLIC:
        return Shown.HIDDEN
    table = _SHOWN.get(audience)
    if table is None:  # leaders and the owning OPD see everything
        return Shown.FULL
    return table.get(cls, table[PRIVATE])


def title_shown(cls: str, audience: Audience) -> bool:
    """Whether ``audience`` may read the title (SUMMARY) of an event of class ``cls``."""
    return shown(cls, audience) in (Shown.FULL, Shown.PUBLIC)


def label(level: Shown, opd_name: str) -> str | None:
    """The title that replaces the real one at ``level`` (None: the real title or nothing)."""
    if level is Shown.BUSY:
        return f"Kegiatan internal - {opd_name}"
    if level is Shown.OCCUPIED:
        return f"Terpakai - {opd_name}"
    return None


#: Time properties of a VEVENT: what a block keeps (RFC 5545 §3.6.1, §3.8.5).
_TIMES = frozenset({"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE",
                    "RECURRENCE-ID", "STATUS", "TRANSP"})
#: Properties the public may read (RFC 5545 §3.6.1); everything else is dropped:
#: ATTENDEE, ORGANIZER (e-mail addresses), ATTACH, CONTACT, COMMENT, X-*, VALARM...
PUBLIC_PROPERTIES = _TIMES | {"UID", "SUMMARY", "DESCRIPTION", "LOCATION", "CATEGORIES",
                              "CLASS", "GEO"}
#: The properties an iCalendar copy keeps at each level (None: all of them).
KEPT: dict[Shown, frozenset[str] | None] = {
    Shown.FULL: None,
    Shown.PUBLIC: PUBLIC_PROPERTIES,
    Shown.BUSY: _TIMES,
    Shown.OCCUPIED: _TIMES | {"LOCATION"},
    Shown.HIDDEN: frozenset(),
}

#: Text the public must not read in a description: e-mail addresses, the admin's
#: clash override reason, meeting join details (links with passcodes) and the
#: protocol lines of an invitation that stay inside (contact person and phone,
#: the letter's number, its attachments).
EMAIL = re.compile(r"(mailto:)?[\w.+-]+@[\w-]+(\.[\w-]+)+", re.IGNORECASE)
HIDDEN_LINES = re.compile(r"^\s*(abaikan\s+bentrok|passcode|kode\s+sandi|password|meeting\s+id"
                          r"|id\s+rapat|narahubung|kontak|cp|contact\s+person"
                          r"|no(mor|\.)?\s*surat|lampiran)\b.*$", re.IGNORECASE | re.MULTILINE)
BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
MEETING_LINK = re.compile(r"https?://\S*(zoom\.us|teams\.microsoft|meet\.google|webex)\S*",
                          re.IGNORECASE)


def public_text(text: str) -> str:
    """A description fit for the public (and another OPD): no addresses or internal lines."""
    text = BREAK.sub("\n", text)  # Google Calendar writes HTML line breaks into DESCRIPTION
    text = HIDDEN_LINES.sub("", text)
    text = EMAIL.sub("[alamat disembunyikan]", text)
    text = MEETING_LINK.sub("[tautan rapat disembunyikan]", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
