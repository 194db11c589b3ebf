"""What a copy says beyond the PIC's own data: status, approval, cancellation, stand-ins.

Pure: icalendar components and plain values in, text out. The sync writes
these into the output copies (``kalender_sync.transform``) where calendar
apps show them, and ``kalender_sync.occurrences`` reads them back for the web
pages:

* a cancelled activity (STATUS:CANCELLED, RFC 5545 §3.8.1.11) keeps its
  STATUS and is titled ``DIBATALKAN: <title>`` (apps that ignore STATUS still
  say it);
* leaders' and key persons' copies carry a ``Status: ...`` DESCRIPTION line
  (Tentatif, the protocol office's decision, Definitif; Dibatalkan) and the
  decision as ``X-KALENDER-PERSETUJUAN`` (and ``X-KALENDER-ALASAN`` of a
  rejection); the PIC's own values of those properties are never copied, as
  approval is kept by the server (issue 11);
* every copy names the stand-ins of ``ATTENDEE;PARTSTAT=DELEGATED`` (RFC 5545
  §3.2.4, §3.2.12) in a sentence, unless the description already says it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kalender.clash.match import Matcher
from kalender.pemda import approval, standin
from kalender.visibility import status_of

CANCELLED_PREFIX = "DIBATALKAN: "
APPROVAL_PROPERTY = "X-KALENDER-PERSETUJUAN"
REASON_PROPERTY = "X-KALENDER-ALASAN"
#: Properties of the server's own making: never copied from the PIC's data.
OWN_PROPERTIES = frozenset({APPROVAL_PROPERTY, REASON_PROPERTY})
STATUS_PREFIX = "Status: "
REASON_PREFIX = "Alasan penolakan: "
TENTATIVE, CANCELLED, DEFINITE = "Tentatif", "Dibatalkan", "Definitif"


@dataclass(frozen=True)
class Extra:
    """What the sync knows of a source beyond its iCalendar data."""

    approval: str = ""  #: kalender.pemda.approval state; "" when off or not needed
    reason: str = ""  #: the last rejection's reason
    matcher: Matcher | None = None  #: reads the ATTENDEE delegations (stand-ins)

    @property
    def pending(self) -> bool:
        """Whether the item waits for (or was refused) the protocol office's approval."""
        return self.approval not in ("", approval.APPROVED)

    @property
    def refusal(self) -> str:
        """The reason of the rejection in force ("" unless rejected)."""
        return " ".join(self.reason.split()) if self.approval == approval.REJECTED else ""


def cancelled(component: Any) -> bool:
    """Whether a VEVENT is cancelled (STATUS:CANCELLED)."""
    return status_of(component) == "CANCELLED"


def cancelled_title(title: str) -> str:
    """``DIBATALKAN: <title>``, the prefix once even if the PIC wrote it already."""
    if title.upper().startswith(CANCELLED_PREFIX.upper()):
        return title
    return CANCELLED_PREFIX + title


def plain_title(title: str) -> str:
    """The title without the cancellation prefix (the occurrence carries its status)."""
    if title.upper().startswith(CANCELLED_PREFIX.upper()):
        return title[len(CANCELLED_PREFIX):].strip()
    return title


def _said(description: str, matcher: Matcher) -> tuple[set[str], set[str]]:
    """(person ids, casefolded texts) of those the description already says are represented."""
    ids: set[str] = set()
    texts: set[str] = set()
    for absent, _present in standin.read(description):
        texts.add(" ".join(absent.casefold().split()))
        if absent:
            ids |= matcher.match_person(absent)
    return ids, texts


def stand_ins(component: Any, matcher: Matcher | None) -> list[str]:
    """Sentences of the delegations of one VEVENT that its description does not say."""
    if matcher is None:
        return []
    description = str(component.get("DESCRIPTION", ""))
    ids, texts = _said(description, matcher)
    found: list[str] = []
    for d in matcher.delegations(component):
        text = standin.sentence(d)
        if d.absent and d.absent <= ids:
            continue
        if not d.absent and " ".join(d.absent_text.casefold().split()) in texts:
            continue
        if text.casefold() in description.casefold() or text in found:
            continue
        found.append(text)
    return found


def status_line(component: Any, extra: Extra) -> str:
    """The ``Status: ...`` line of a leaders' copy of one VEVENT."""
    if cancelled(component):
        return STATUS_PREFIX + CANCELLED
    if status_of(component) == "TENTATIVE":
        waiting = [approval.label(extra.approval)] if extra.pending else []
        return STATUS_PREFIX + ", ".join([TENTATIVE, *waiting])
    return STATUS_PREFIX + (approval.label(extra.approval) if extra.approval else DEFINITE)


def leaders_lines(component: Any, extra: Extra) -> list[str]:
    """What a leaders' copy of one VEVENT adds to its description, in order."""
    lines = [*stand_ins(component, extra.matcher), status_line(component, extra)]
    if extra.refusal:
        lines.append(REASON_PREFIX + extra.refusal)
    return lines


def is_stand_in(line: str) -> bool:
    """Whether one description line says who represents whom."""
    return bool(standin.read(line))


def read_back(text: str, leaders: bool) -> tuple[str, tuple[str, ...]]:
    """(description without the sync's status lines and stand-in lines, stand-in sentences).

    ``text``: a copy's DESCRIPTION with its organiser line already removed;
    ``leaders``: a leaders' copy (it ends with :func:`leaders_lines`).
    """
    lines = text.replace("\r\n", "\n").split("\n")
    while leaders and lines and (lines[-1].startswith((STATUS_PREFIX, REASON_PREFIX))
                                 or not lines[-1].strip()):
        lines.pop()  # what :func:`leaders_lines` wrote last (a PIC's own lines stay above)
    sentences: list[str] = []
    kept: list[str] = []
    for line in lines:
        pairs = standin.read(line)
        if not pairs:
            kept.append(line)
            continue
        sentences += [standin.line(a, p) if a else f"Diwakili oleh {p}" for a, p in pairs]
    return "\n".join(kept).strip(), tuple(dict.fromkeys(sentences))


def join(description: str, lines: Iterable[str]) -> str:
    """``description`` followed by ``lines`` after an empty line (either may be empty)."""
    tail = "\n".join(line for line in lines if line)
    head = description.rstrip()
    return f"{head}\n\n{tail}" if head and tail else head or tail
