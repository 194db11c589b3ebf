"""The plan of an import: each item of the file against what the OPD calendar holds.

Like a synchroniser (vdirsyncer; ``kalender_sync.plan`` in this project), the
import first plans, then acts (``kalender.admin.importrun``): an item whose UID
the calendar does not hold is new; one it holds with the same content
(:func:`kalender.admin.importsplit.content_key`) is already there and is
skipped, so a run cut short continues where it stopped; one it holds with other
content is changed and overwrites the stored object (under its stored name,
as a client's PUT would). Pure: the stored items are handed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kalender.admin.importsplit import Item, Split, Unreadable, content_key, href_for
from kalender.clash.icaltext import parse
from kalender.errors import BadCalendarError

__all__ = ["CHANGED", "NEW", "SAME", "Plan", "Step", "plan"]

NEW, SAME, CHANGED = "baru", "sudah ada", "berubah"


@dataclass(frozen=True)
class Step:
    """What the import does with one item: write it as ``href``, or skip it (SAME)."""

    item: Item
    action: str  # NEW, SAME or CHANGED
    href: str
    past: bool  # every occurrence ended before now: history


@dataclass(frozen=True)
class Plan:
    """The whole import, in chronological order."""

    steps: tuple[Step, ...]
    unreadable: tuple[Unreadable, ...]
    skipped: tuple[tuple[str, int], ...]  # components an OPD calendar does not hold
    duplicates: tuple[str, ...]  # UIDs the file gives twice
    made_uids: tuple[Item, ...]  # items the file gave no UID

    def count(self, action: str) -> int:
        """How many steps are ``action``."""
        return sum(1 for s in self.steps if s.action == action)

    @property
    def writes(self) -> tuple[Step, ...]:
        """The steps that write (new and changed)."""
        return tuple(s for s in self.steps if s.action != SAME)


def stored_key(text: str) -> str:
    """content_key of a stored object ("" when it cannot be read: then it is rewritten)."""
    try:
        calendar = parse(text, bare=False)
    except BadCalendarError:
        return ""
    return content_key(c for c in calendar.subcomponents if c.name == "VEVENT")


def plan(found: Split, stored: Mapping[str, tuple[str, str]], now: int) -> Plan:
    """Classify the items of ``found`` against ``stored`` (UID -> (href, stored text))."""
    taken = {href for href, _ in stored.values()}
    steps = []
    for item in found.items:
        past = item.end is not None and item.end <= now
        if item.uid not in stored:
            href = href_for(item.uid, taken)
            taken.add(href)
            steps.append(Step(item, NEW, href, past))
            continue
        href, text = stored[item.uid]
        action = SAME if stored_key(text) == item.key else CHANGED
        steps.append(Step(item, action, href, past))
    return Plan(tuple(steps), found.unreadable, found.skipped, found.duplicates,
                tuple(i for i in found.items if i.made_uid))
