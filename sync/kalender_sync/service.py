"""The sync service: read OPD calendars, plan, write the outputs, publish feeds.

``SyncService.run_once`` is one pass (``kalender sync DIR --once``);
``run_forever`` is what ``kalender serve`` runs in a thread: woken by every
accepted change (``kalender.dav.changes.CHANGES``), it reads only the OPD calendars
that changed; every ``poll_seconds`` it reads them all (changes made through
another process).

The protocol office's decisions (``kalender.pemda.approvals``, in ``kalender.db``)
shape the copies too: a pass re-reads the items decided since the last one, and
every item when approval was switched on or off, or when the copies' format
changed (:data:`FORMAT`). With approval off a pass costs one query more.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from kalender.clash.match import Matcher
from kalender.clash.rules import Person, Venue
from kalender.dav.changes import ChangeSet
from kalender.deployment import Deployment
from kalender.pemda import approval, approvals
from kalender.registry import Opd, RegistryError
from kalender_sync import publish
from kalender_sync.plan import LEADERS, PUBLIC, Approval, Change, describe, plan
from kalender_sync.source import Reader
from kalender_sync.state import Output, State
from kalender_sync.transform import Source
from kalender_sync.webindex import WebIndex

logger = logging.getLogger("kalender.sync")
SECRET_FILE = "sync.secret"  # noqa: S105 - a file name, not a password
#: What the copies look like; a new value (status lines, stand-ins...) re-plans every item.
FORMAT = "2"


def credentials(dep: Deployment) -> tuple[str, str]:
    """(login, password) of the sync account, from ``DIR/sync.secret``."""
    login, _, password = (dep.root / SECRET_FILE).read_text("utf-8").strip().partition(":")
    return login, password


@dataclass
class Report:
    """What one pass did (or, with --dry-run, would do)."""

    actions: list[Output] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # none since the copies are one transaction
    feeds: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """Human-readable summary (Bahasa Indonesia)."""
        out = [describe(a) for a in self.actions]
        out += [f"dilewati (tidak terbaca): {s}" for s in self.skipped]
        out += [f"gagal ditulis: {s}" for s in self.failed]
        out.append(f"{len(self.actions)} perubahan, {len(self.skipped)} dilewati, "
                   f"{len(self.failed)} gagal, {self.seconds:.2f} detik")
        return out

    def summary(self) -> str:
        """One log line: copies written and deleted per kind of output, failures."""
        done = self.actions
        written = Counter(a.calendar.split("/")[0] for a in done if a.key is not None)
        deleted = sum(1 for a in done if a.key is None)
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(written.items()))
        line = f"{sum(written.values())} salinan ditulis" + (f" ({kinds})" if kinds else "")
        line += f", {deleted} dihapus, {len(self.failed)} gagal"
        if self.skipped:
            line += f", {len(self.skipped)} sumber tidak terbaca"
        return f"{line}, {self.seconds:.2f} detik"


class SyncService:
    """Merges the OPD calendars into the output calendars of one deployment."""

    def __init__(self, dep: Deployment, url: str,
                 account: tuple[str, str] | None = None) -> None:
        self.dep = dep
        self.url = url.rstrip("/")
        # the sync account's (login, password): DIR/sync.secret unless given (read by
        # ``kalender serve`` at its start, before its sync process runs)
        self.login, password = account if account is not None else credentials(dep)
        self.http = requests.Session()
        self.http.auth = (self.login, password)
        self.reader = Reader(self.url, self.login, password)
        self.state = State(dep.root / "sync.db")
        self.web = WebIndex(dep.root / "sync.db")
        self.feeds = dep.root / "feeds"
        self._ensured: set[str] = set()
        self._publish_all = True
        self._expiry: int | None = None  # when the next cancellation leaves the public feeds
        self._enabled: bool | None = None  # approval on (read again when its version changes)
        self.lock = threading.Lock()

    def close(self) -> None:
        """Release connections."""
        self.reader.close()
        self.http.close()
        self.web.close()
        self.state.close()

    def run_once(self, dry_run: bool = False, only: set[str] | None = None) -> Report:
        """One pass over every OPD calendar, or ``only`` those (one pass at a time)."""
        with self.lock, _deployment_lock(self.dep.root / "sync.lock"):
            began = time.monotonic()
            report = Report()
            opds, venues, persons = self.dep.opds(), self.dep.venues(), self.dep.persons()
            matcher = Matcher(venues, persons)
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            touched: set[str] = set()
            decided, version = self._decided()
            everything = decided is None or self.state.meta("format") != FORMAT
            decide = self._decider()
            if not dry_run:
                touched |= self._apply(self.state.pending())
                self._ensure_calendars([f"ruang/{v.id}" for v in venues]
                                       + [f"orang/{p.id}" for p in persons])
            for opd in opds:
                if only is not None and opd.id not in only and not everything:
                    continue
                known = self.state.sources(opd.id)
                token = None if everything else self.state.token(opd.id)
                changes, token, _full = self.reader.changes(opd.id, opd.name, token, known)
                touched |= self._step(changes, matcher, stamp, decide, report, dry_run)
                if not dry_run:  # after the transaction of the copies it led to
                    self.state.save_token(opd.id, token)
            if decided:
                changes = self._reread(decided, opds)
                touched |= self._step(changes, matcher, stamp, decide, report, dry_run)
            if not dry_run:
                self.state.set_meta("format", FORMAT)
                self.state.set_meta("approval-version", str(version))
                report.feeds = self._publish(touched, venues, persons, opds)
                # the web pages' occurrences follow the written public copies
                names = {o.id: o.name for o in opds}
                self.web.refresh(matcher, lambda opd: names.get(opd, opd),
                                 dt.datetime.now(dt.UTC))
            report.seconds = time.monotonic() - began
            return report

    def _step(self, changes: list[Change], matcher: Matcher, stamp: str,
              decide: Approval | None, report: Report, dry_run: bool) -> set[str]:
        """Plan ``changes`` and (unless ``dry_run``) write them; the calendars touched."""
        actions = plan(changes, self.state.outputs_of, matcher, stamp, report.skipped, decide)
        report.actions += actions
        if dry_run:
            return set()
        touched = self._apply(actions)
        for opd in dict.fromkeys(c.opd for c in changes):
            self._record_sources(opd, [c for c in changes if c.opd == opd])
        return touched

    def _publish(self, touched: set[str], venues: list[Venue], persons: list[Person],
                 opds: list[Opd]) -> list[str]:
        """Render the feeds of the calendars touched (all after a start or a failure)."""
        now = int(time.time())
        if self._expiry is not None and now >= self._expiry:
            touched.add(PUBLIC)  # a cancellation has ended: it leaves the public feeds
        titles = {f"ruang/{v.id}": f"Pemakaian {v.name}" for v in venues}
        titles |= {f"orang/{p.id}": f"Agenda {p.title}" for p in persons}
        titles |= {f"opd/{o.id}": f"Agenda Publik {o.name}" for o in opds}
        if self._publish_all:  # first pass of this process, or a failed render
            touched |= {PUBLIC, LEADERS, *self.state.calendars()}
        written: list[str] = []
        if touched:
            self._publish_all = True
            written = publish.publish(self.state, self.feeds, touched, titles, now,
                                      [o.id for o in opds])
            self._publish_all = False
        if PUBLIC in touched:
            self._expiry = publish.next_expiry(self.state, now)
        return written

    def _decided(self) -> tuple[list[tuple[str, str]] | None, int]:
        """(OPD, UID) decided since the last pass (None: approval switched), the version now."""
        saved = int(self.state.meta("approval-version") or 0)
        decided, version = approvals.changed_since(self.dep.database, saved)
        if version != saved or self._enabled is None:
            self._enabled = approvals.enabled(self.dep.database)
        return decided, version

    def _decider(self) -> Approval | None:
        """The approval state of a source, or None while approval is off."""
        if not self._enabled:
            return None
        db = self.dep.database

        def decide(src: Source, persons: frozenset[str]) -> tuple[str, str]:
            if not approval.needs_approval(persons):
                return "", ""
            found = approvals.state(db, src.opd, src.uid, approval.fingerprint(src.text))
            refused = approvals.reason(db, src.opd, src.uid) if found == approval.REJECTED else ""
            return found, refused

        return decide

    def _reread(self, decided: list[tuple[str, str]], opds: list[Opd]) -> list[Change]:
        """The current data of the items decided since the last pass (those still there)."""
        names = {o.id: o.name for o in opds}
        changes: list[Change] = []
        for opd, uid in decided:
            if opd not in names:
                continue
            hrefs = [h for h, (u, _etag) in self.state.sources(opd).items() if u == uid]
            for href in hrefs:  # none: not read yet, so planned with its decision when it is
                r = self.http.get(f"{self.url}/opd/{opd}/{href}", timeout=20)
                if r.status_code == 200:  # a 404 is a deletion the sync token brings
                    changes.append(Change(opd, href, Source(opd, names[opd], href, uid,
                                                            r.content.decode("utf-8"))))
        return changes

    def _record_sources(self, opd: str, changes: list[Change]) -> None:
        """Remember which source items exist (for deletions found by a full read)."""
        for change in changes:
            uid = change.source.uid if change.source is not None else None
            self.state.set_source(opd, change.href, uid)

    def _apply(self, actions: list[Output]) -> set[str]:
        """Write the copies of one step in one transaction (served from sync.db); the calendars.

        No CalDAV request and no Radicale lock: a PIC's PUT never waits for the
        outputs (issue 12). An exception leaves the step unwritten and its OPD's
        sync token unsaved, so the next pass plans it again.
        """
        self.state.apply(actions, int(time.time()))
        return {a.calendar for a in actions}

    def _ensure_calendars(self, calendars: list[str]) -> None:
        """Create the venue and person calendars that do not exist yet (MKCALENDAR)."""
        for calendar in calendars:
            if calendar in self._ensured:
                continue
            url = f"{self.url}/{calendar}/"
            r = self.http.request("PROPFIND", url, headers={"Depth": "0"}, timeout=20)
            if r.status_code == 404:
                r = self.http.request("MKCALENDAR", url, timeout=20)
            if r.status_code in (201, 207):
                self._ensured.add(calendar)

    def run_forever(self, stop: threading.Event, changes: ChangeSet,
                    poll_seconds: float = 30.0) -> None:
        """Sync what changed on every wake-up, everything every ``poll_seconds``."""
        only: set[str] | None = None  # the first pass reads everything
        while not stop.is_set():
            try:
                report = self.run_once(only=only)
                if report.actions or report.failed:
                    logger.info("sync: %s", report.summary())  # an idle pass says nothing
            except RegistryError as e:  # a registry broken by hand: said once per pass
                logger.error("sync: putaran dilewati, registri tidak terbaca: %s", e)
            except Exception:  # the server keeps answering without the sync
                logger.exception("sync: putaran gagal; diulang sebentar lagi")
                changes.note(set(only or ()))  # not lost: retried with the next pass
                stop.wait(5)
            woken = changes.event.wait(poll_seconds)
            only = changes.take() if woken else None


@contextlib.contextmanager
def _deployment_lock(path: Path) -> Iterator[None]:
    """An exclusive lock across processes: several servers may share one deployment."""
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
