"""Approval by the protocol office (Prokopim), as plain values: states and the fingerprint.

Pure: no database, no clock. An approval is given to one *fingerprint* of an
item: the time and place of each of its VEVENTs (a series and its overrides,
RFC 5545 §3.8.4.4). An edit of any of them makes a new fingerprint, which has
no approval yet: the item waits again by itself, with nothing written into the
PIC's iCalendar data. Other edits (title, description, alarms) keep it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

APPROVED, PENDING, REJECTED = "definitif", "menunggu", "ditolak"
LABELS = {APPROVED: "Definitif", PENDING: "Menunggu persetujuan", REJECTED: "Ditolak"}
#: What the fingerprint reads of a VEVENT: when (RFC 5545 §3.8.2, §3.8.5, §3.8.4.4),
#: where (§3.8.1.7) and whether it takes place at all (§3.8.1.11).
FIELDS = frozenset({"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE",
                    "RECURRENCE-ID", "LOCATION", "STATUS"})
_FOLD = re.compile(r"\r?\n[ \t]")
_NAME = re.compile(r"^([A-Za-z0-9-]+)([;:].*)$")


def _events(text: str) -> list[list[str]]:
    """The property lines read of each VEVENT (sub-components such as VALARM skipped)."""
    events: list[list[str]] = []
    depth = 0  # components open inside the current VEVENT (0: outside one)
    current: list[str] = []
    for raw in _FOLD.sub("", text).replace("\r", "").split("\n"):
        line = raw.rstrip()
        upper = line.upper()
        if upper == "BEGIN:VEVENT" and depth == 0:
            depth, current = 1, []
        elif depth and upper.startswith("BEGIN:"):
            depth += 1
        elif depth and upper.startswith("END:"):
            depth -= 1
            if depth == 0:
                events.append(sorted(current))
        elif depth == 1 and (match := _NAME.match(line)) and match[1].upper() in FIELDS:
            current.append(match[1].upper() + match[2])
    return events


def fingerprint(text: str) -> str:
    """SHA-256 (hex) over the time and place of every VEVENT of an iCalendar object.

    Order-independent (property order, VEVENT order) and blind to what is not
    time or place, so a client re-saving the same activity keeps its approval.
    """
    events = sorted("\n".join(lines) for lines in _events(text))
    return hashlib.sha256("\n\n".join(events).encode("utf-8")).hexdigest()


def needs_approval(persons: Iterable[str]) -> bool:
    """Whether an activity needs approval: it names a key person (after stand-ins)."""
    return any(True for _ in persons)


def label(state: str) -> str:
    """The state as people read it ("Menunggu persetujuan")."""
    return LABELS.get(state, state)
