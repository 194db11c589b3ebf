"""The clash guard: plan and check a write before it happens, record it after.

``kalender.dav.storage`` calls, for every write path and inside Radicale's write
lock: :meth:`Guard.plan` (parse the item, raising ``BadCalendarError`` or
``UnknownTimezoneError``), :meth:`Guard.check` (raise ``ClashError`` unless
the write clashes with nothing), then Radicale's own write, then
:meth:`Guard.commit` (index and audit trail in one SQLite transaction).

A PUT is planned twice: :meth:`Guard.plan_ahead` parses and expands the
request body before Radicale's own parser and outside the lock
(``kalender.dav.preplan``), and :meth:`Guard.plan` inside the lock reuses that
result for the same collection and UID, unless the registry changed or
Radicale's serialisation of the item reads differently (then it recomputes).

Only OPD calendars (``/opd/<id>/``) are checked; the merged calendars hold
copies and are never compared with the OPD calendars. The clock is read here
and nowhere else (``kalender.clash.rules`` and ``kalender.clash.extract`` get ``now``).

An admin may book over a clash on purpose: a line ``Abaikan bentrok: <alasan>``
in the event's DESCRIPTION is honoured for admin accounts only, and the reason
is written to the audit trail with the clashes it overrode.

Tentative holds (STATUS:TENTATIVE) follow the deployment's policy ``tentative``
(``[storage] kalender_tentative``, :func:`kalender.clash.rules.judge`): under
``warn`` a write whose clashes all involve a hold is accepted, its audit row
says so, and its OPD gets a Bentrok entry (``notice.WARNED``) posted in the
commit's transaction, after the board's own upkeep. The live check
(:meth:`Guard.trial`), the suggestions of a refusal and the free-slot and
free-venue searches judge by the same policy: under ``warn`` holds never make a
time or venue unavailable.
"""

from __future__ import annotations

import dataclasses
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import icalendar

from kalender import audit
from kalender.clash import fields, messages, repair, suggest
from kalender.clash.extract import Extracted, Limits, extract
from kalender.clash.free import WORKING, Hours, Need, Suggestions
from kalender.clash.icaltext import count_dates, fingerprint, parse, split_items
from kalender.clash.index import Index, ItemRow, uid_of
from kalender.clash.match import Matcher
from kalender.clash.planned import Change, Planned, opd_of
from kalender.clash.rules import BLOCK, Booking, Clash, Verdict, judge, obstacles
from kalender.clash.suggest import Trial
from kalender.deployment import CachedRegistry, Deployment
from kalender.errors import BadCalendarError, ClashError, UnsupportedComponentError
from kalender.notify import board, notice
from kalender.notify.channel import POSTED

DAY = 86400
#: Prefix of actors that are the CLI itself (HTTP Basic logins cannot contain ':').
SYSTEM_ACTOR = "kalender:"
OVERRIDE_RE = re.compile(r"^\s*abaikan\s+bentrok\s*:\s*(\S.*)$", re.IGNORECASE | re.MULTILINE)

ReadItem = Callable[[str, str], tuple[str, str, str] | None]  # -> (text, etag, uid)
#: Items of the request on this thread planned before the storage lock (plan_ahead).
_ahead = threading.local()
#: (collection, UID) -> the warned clashes of the write being checked on this thread
#: (Guard.check), told to the OPD when that write commits (Guard.commit).
_warned = threading.local()
#: The reason phrase of a Bentrok entry for a write accepted despite a hold.
WARNED_REASON = "Bertabrakan dengan kegiatan tentatif"


@dataclass(frozen=True)
class Ahead:
    """An item planned before the lock, and what its result depends on."""

    matcher: Matcher  # the registry's matcher then (a new one after any registry change)
    limits: Limits
    fingerprint: str  # kalender.clash.icaltext.fingerprint of the parsed body
    extracted: Extracted


class Guard:
    """Clash checks and index upkeep for one deployment."""

    def __init__(self, deployment: Deployment, registry: CachedRegistry,
                 horizon_days: int = 730, max_occurrences: int = 5000,
                 limits: Limits | None = None, tentative: str = BLOCK) -> None:
        self.deployment = deployment
        #: how tentative holds count (kalender.clash.rules.BLOCK or WARN)
        self.tentative = tentative
        self.registry = registry
        self.index = Index(deployment.database)
        #: what one written item may cost; radicale_limit set: writes are checked for
        #: what Radicale would refuse or walk for long (kalender.clash.recurrence)
        self.limits = limits or Limits(horizon_days=horizon_days,
                                       max_occurrences=max_occurrences)
        self.horizon_days = self.limits.horizon_days
        self.max_occurrences = self.limits.max_occurrences
        #: called after a committed change to an OPD calendar (wakes the sync service)
        self.on_change: Callable[[set[str]], None] | None = None
        #: called inside the commit's transaction with the removed (OPD, UID) pairs and
        #: the written OPD items of a person's write (kalender.notify.upkeep, via storage)
        self.on_items: Callable[[sqlite3.Connection, list[tuple[str, str]], list[Planned],
                                 str], None] | None = None
        #: reads a stored item (set by the storage plugin); used to re-expand series
        self.read_item: ReadItem | None = None
        #: lists the item names of a stored calendar (set by the storage plugin)
        self.list_hrefs: Callable[[str], list[str]] | None = None

    @staticmethod
    def now() -> int:
        """The current time (epoch seconds)."""
        return int(time.time())

    # -- before the write ------------------------------------------------------
    def _limits(self, horizon_days: int | None, storing: bool) -> Limits:
        """The limits of one plan: a re-index keeps stored items Radicale accepted."""
        return dataclasses.replace(
            self.limits, horizon_days=horizon_days or self.limits.horizon_days,
            radicale_limit=self.limits.radicale_limit if storing else None)

    def plan_ahead(self, collection: str, text: str, whole: bool) -> None:
        """Plan a PUT body before the storage lock; raises what :meth:`plan` would raise.

        ``whole``: the body is a whole calendar (an import), planned per UID as
        Radicale splits it. The results wait (for this thread) for :meth:`plan`.
        """
        self.forget_ahead()
        collection = collection.strip("/")
        opd = opd_of(collection)
        if opd is None:
            return
        limits, matcher, now = self._limits(None, True), self.registry.matcher(), self.now()
        count_dates(text, limits.max_exdates, limits.max_rdates)  # before the costly parse
        calendar = parse(text, bare=False)
        kinds = {c.name for c in calendar.subcomponents if c.name in ("VEVENT", "VTODO",
                                                                       "VJOURNAL")}
        if not whole and len(kinds) > 1:
            raise BadCalendarError(f"Satu item kalender hanya boleh berisi satu jenis komponen, "
                                   f"ditemukan {', '.join(sorted(kinds))}; simpan terpisah.")
        if kinds - {"VEVENT"}:  # OPD calendars hold events only (provision.py, RFC 4791)
            raise UnsupportedComponentError(", ".join(sorted(kinds - {"VEVENT"})))
        ahead: dict[tuple[str, str], Ahead] = {}
        for number, item in enumerate(split_items(calendar) if whole else [calendar]):
            components = [c for c in item.subcomponents if c.name != "VTIMEZONE"]
            if whole and components and not components[0].get("UID"):
                # Radicale gives it a UID of its own: checked here, planned in the lock
                components[0].add("UID", f"kalender-tanpa-uid-{number}")
                extract(item, opd, matcher, now=now, limits=limits)
                continue
            extracted = extract(item, opd, matcher, now=now, limits=limits)
            ahead[(collection, extracted.uid)] = Ahead(matcher, limits, fingerprint(item),
                                                       extracted)
        _ahead.items = ahead

    @staticmethod
    def forget_ahead() -> None:
        """Drop what :meth:`plan_ahead` kept for this thread (at the end of a request)."""
        _ahead.items = {}

    def plan(self, collection: str, href: str, text: str, uid: str,
             horizon_days: int | None = None, storing: bool = True) -> Planned:
        """Parse one item for ``collection``; raises BadCalendarError on bad data.

        ``storing``: the item is about to be written (False: a re-index of stored data).
        """
        collection = collection.strip("/")
        opd = opd_of(collection)
        if opd is None:
            return Planned(collection, href, uid, text)
        limits, matcher = self._limits(horizon_days, storing), self.registry.matcher()
        found: Ahead | None = getattr(_ahead, "items", {}).get((collection, uid))
        data: str | icalendar.Calendar = text
        if found is not None and found.matcher is matcher and found.limits == limits:
            data = parse(text)  # Radicale's serialisation of the body: the same event?
            if fingerprint(data) == found.fingerprint:
                return Planned(collection, href, uid, text, found.extracted)
        extracted = extract(data, opd, matcher, now=self.now(), limits=limits)
        return Planned(collection, href, uid, text, extracted)

    def check(self, planned: Sequence[Planned], actor: str, replacing: str | None = None,
              moved_from: str | None = None) -> str | None:
        """Raise ClashError if ``planned`` clashes; returns an admin override note.

        ``replacing``: a collection whose current items all go (an import);
        ``moved_from``: the collection a MOVE takes the item from (it is itself).
        """
        self._extend_horizon(planned)
        _warned.items = {}
        verdicts = self._verdicts(planned, replacing, moved_from)
        clashes = [c for v in verdicts for c in v.refused]
        warned = {(p.collection, p.uid): v.warned for p, v in zip(planned, verdicts, strict=True)
                  if v.warned}
        notes = []
        if clashes:
            reason = self._override(planned, actor)
            if reason is None:
                found, message = self._refusal(planned, clashes, replacing, moved_from)
                raise ClashError(clashes, message, found)
            notes.append(f"abaikan bentrok: {reason} ({len(clashes)} bentrok)")
        if warned:
            _warned.items = warned
            count = sum(len(w) for w in warned.values())
            notes.append(f"diterima dengan peringatan: {count} bentrok dengan kegiatan tentatif")
        return "; ".join(notes) or None

    def _verdicts(self, planned: Sequence[Planned], replacing: str | None = None,
                  moved_from: str | None = None) -> list[Verdict]:
        """The clashes of each planned item with the index (and the items before it)."""
        venues = self.registry.venues()
        replaced_opd = opd_of(replacing) if replacing else None
        verdicts: list[Verdict] = []
        earlier: list[Booking] = []
        for p in planned:
            if not p.bookings:
                verdicts.append(Verdict())
                continue
            existing = self._others(p, replaced_opd, moved_from)(p.bookings)
            verdicts.append(judge(p.bookings, existing + earlier, venues, self.tentative))
            earlier += p.bookings
        return verdicts

    def _others(self, p: Planned, replaced_opd: str | None, moved_from: str | None
                ) -> Callable[[Iterable[Booking]], list[Booking]]:
        """Reads the indexed bookings ``p`` is compared with (not what the write removes)."""
        source = (opd_of(moved_from), p.uid) if moved_from else None
        return lambda bookings: [b for b in self._existing(bookings)
                                 if b.opd != replaced_opd and (b.opd, b.uid) != source]

    def _obstacles(self, fetch: Callable[[Iterable[Booking]], list[Booking]]
                   ) -> Callable[[Iterable[Booking]], list[Booking]]:
        """``fetch`` limited to what can refuse a firm booking (the searches of free time)."""
        return lambda bookings: obstacles(fetch(bookings), self.tentative)

    def _refusal(self, planned: Sequence[Planned], clashes: Sequence[Clash],
                 replacing: str | None = None, moved_from: str | None = None
                 ) -> tuple[Suggestions, str]:
        """What fits instead (kalender.clash.suggest; one item only) and the refusal's text."""
        items = [p for p in planned if p.bookings]
        replaced_opd = opd_of(replacing) if replacing else None
        found = suggest.suggest(items[0].bookings, clashes,
                                self._obstacles(self._others(items[0], replaced_opd, moved_from)),
                                self.registry.venues(), self.now()) if len(items) == 1 else (
            Suggestions())
        text = messages.explain(clashes, self._name, self._opd_names())
        tail = messages.offer(found, lambda p: self._name("person", p))
        return found, f"{text} {tail}" if tail else text

    # -- looking before booking (reads the index; no lock, writes nothing) ------
    def trial(self, collection: str, text: str, actor: str) -> Trial:
        """Check ``text`` as a write of one item to ``collection`` would be; write nothing.

        Raises what :meth:`plan` raises. Series indexed up to an earlier horizon are
        not re-expanded (that writes the index): the write itself stays the judge.
        """
        planned = self.plan(collection, "", text, uid_of(text) or "")
        verdict = self._verdicts([planned])[0]
        if not verdict.refused:  # under warn, a clash with a hold passes: say so
            return Trial((), self._warning(verdict.warned) if verdict.warned else "",
                         Suggestions())
        found, message = self._refusal([planned], verdict.refused)
        return Trial(verdict.refused, message, found, self._override([planned], actor))

    def free_slots(self, duration_s: int, venue_id: str | None, person_ids: Iterable[str],
                   days: Sequence[date], actor: str, hours: Hours = WORKING, limit: int = 10,
                   uid: str = "", opd: str = "") -> list[tuple[int, int]]:
        """The first free (start, end) on ``days`` of a booking of that venue and persons.

        Any ``actor`` gets the same answer; ``uid``/``opd`` name an item being
        moved, whose own bookings do not block it.
        """
        need = Need(duration_s, frozenset({venue_id} if venue_id else ()),
                    frozenset(person_ids), uid, opd)
        return suggest.slots(need, days, self._obstacles(self._existing),
                             self.registry.venues(), self.now(), hours, limit)

    def free_venues(self, start: int, end: int, person_ids: Iterable[str] = (),
                    uid: str = "", opd: str = "") -> list[str]:
        """Registered venues a booking of [start, end) with those persons fits, by name."""
        booking = Booking(uid, opd, start, end, frozenset(), frozenset(person_ids))
        return suggest.venues_at(booking, self._obstacles(self._existing),
                                 self.registry.venues())

    def _extend_horizon(self, planned: Sequence[Planned]) -> None:
        """Expand recurring items far enough to be compared with the farthest new booking."""
        far = max((b.end for p in planned for b in p.bookings), default=0)
        stale = self.index.stale_recurring(far)
        if not stale or self.read_item is None:
            return
        # a month beyond the farthest booking, so the next writes (whose farthest
        # occurrence moves on by seconds) do not re-expand the same series again
        days = (far - self.now()) // DAY + 32
        for collection, href in stale:
            self.refresh(collection, href, self.read_item, max(days, self.horizon_days))

    def _existing(self, bookings: Iterable[Booking]) -> list[Booking]:
        """Indexed bookings that could clash with ``bookings`` (a superset)."""
        return self.index.around(bookings, self.registry.venues())

    def is_admin(self, actor: str) -> bool:
        """Admins, and the CLI's own actors ("kalender:...": no login can contain ':')."""
        if actor.startswith(SYSTEM_ACTOR):
            return True
        account = self.registry.user(actor)
        return account is not None and account.role == "admin"

    def _override(self, planned: Sequence[Planned], actor: str) -> str | None:
        """The admin's 'Abaikan bentrok' reason, if the actor is an admin and gave one."""
        if not self.is_admin(actor):
            return None
        for p in planned:
            for event in icalendar.Calendar.from_ical(p.text).walk("VEVENT"):
                found = OVERRIDE_RE.search(str(event.get("DESCRIPTION", "")))
                if found:
                    return found.group(1).strip()
        return None

    def _name(self, kind: str, resource: str) -> str:
        """Display name of a venue or person id."""
        if kind == "venue":
            venue = self.registry.venues().get(resource)
            return venue.name if venue else resource
        person = self.registry.persons().get(resource)
        return person.title if person else resource

    def _opd_names(self) -> dict[str, str]:
        """OPD id -> official name."""
        return {o.id: o.name for o in self.registry.opds()}

    def _warning(self, clashes: Sequence[Clash]) -> str:
        """The sentence of a write accepted despite holds (kalender.clash.messages.warned)."""
        return messages.warned(clashes, self._name, self._opd_names())

    def _warn(self, db: sqlite3.Connection, p: Planned, clashes: Sequence[Clash],
              actor: str) -> None:
        """Post the Bentrok entry telling ``p``'s OPD its accepted write clashes with a hold."""
        opd = opd_of(p.collection)
        if opd is None:
            return
        found = fields.event_fields(p.text)
        first = clashes[0].booking  # the first clashing occurrence, as a refusal shows it
        names = {o.id: o.label for o in self.registry.opds()}
        board.post(db, notice.Notice(
            notice.WARNED, opd, names.get(opd, opd), p.uid, first.title, first.start, first.end,
            fields.event_place(found), WARNED_REASON, self._warning(clashes), actor,
            self.now()))

    # -- after the write -------------------------------------------------------
    def commit(self, change: Change, actor: str) -> None:
        """Index and audit rows of an accepted write, in one transaction."""
        horizon = self.now() + self.horizon_days * DAY
        with self.index.transaction() as db:
            removed = [(o, uid) for collection, href in change.remove
                       if href is not None and (o := opd_of(collection))
                       for uid in Index.uids(db, collection.strip("/"), href)]
            for collection, href in change.remove:
                Index.remove(db, collection.strip("/"), href)
            for p, etag in change.put:
                x = p.extracted
                row = ItemRow(p.collection, p.href, p.uid, etag, x.horizon if x else horizon,
                              bool(x and x.recurring), x.locations if x else (),
                              x.unknown_persons if x else ())
                Index.put(db, row, opd_of(p.collection), p.bookings)
            for action, path, href, before, after, note in change.entries:
                if actor in audit.UNAUDITED_ACTORS:
                    break  # the server's own notices are not people's changes
                audit.record(self.deployment.database, actor, action, path, href, before, after,
                             note)
            if self.on_items is not None and not actor.startswith(SYSTEM_ACTOR):
                # people's writes only: a repair or a reindex re-reads items, it decides nothing
                self.on_items(db, removed, [p for p, _ in change.put
                                            if p.extracted is not None], actor)
            warned: dict[tuple[str, str], tuple[Clash, ...]] = getattr(_warned, "items", {})
            told = False
            for p, _ in change.put:  # after the upkeep, which withdrew the UID's old entry
                clashes = warned.pop((p.collection, p.uid), ())
                if clashes and not actor.startswith(SYSTEM_ACTOR):
                    self._warn(db, p, clashes, actor)
                    told = True
        if told:
            POSTED.set()  # committed: the notifier writes the entry now
        touched = [c for c, _ in change.remove] + [p.collection for p, _ in change.put]
        opds = {o for o in (opd_of(c) for c in touched) if o}
        if self.on_change is not None and opds:
            self.on_change(opds)

    def maintain(self, read_item: ReadItem) -> None:
        """Repair crash leftovers and move recurring horizons on (kalender.clash.repair)."""
        repair.maintain(self, read_item)

    def refresh(self, collection: str, href: str, read_item: ReadItem,
                horizon_days: int | None = None) -> None:
        """Re-index one item from storage, or forget it if it is gone."""
        repair.refresh(self, collection, href, read_item, horizon_days)
