"""Items 1 and 4: timed sync passes (a new service, or a long-lived one as `serve` runs it),
and the seeded full rebuild of sizes above --real-sync-max."""

from __future__ import annotations

import cProfile
import datetime as dt
import time
from pathlib import Path

from common import Server, summary
from data import Dataset

from feed.servers import put_event


def sync_pass(ds: Dataset, url: str, profile: Path | None = None) -> dict[str, object]:
    """One ``SyncService.run_once()`` (a new service each time, like ``kalender sync
    --once``), timed; with ``profile``, under cProfile (stats dumped there)."""
    from kalender.deployment import Deployment
    from kalender_sync.service import SyncService

    service = SyncService(Deployment(Path(ds.root)), url)
    prof = cProfile.Profile() if profile else None
    try:
        began = time.perf_counter()
        if prof:
            prof.enable()
        report = service.run_once()
        if prof:
            prof.disable()
        seconds = time.perf_counter() - began
    finally:
        service.close()
    if prof and profile:
        prof.dump_stats(str(profile))
    if report.failed:
        raise RuntimeError(f"sync failed: {report.failed[:5]}")
    return {"seconds": seconds, "actions": len(report.actions), "skipped": len(report.skipped),
            "feeds": report.feeds}


def serve_style_passes(ds: Dataset, kal: Server, reps: int, first_day: int
                       ) -> dict[str, object]:
    """Item 4 as the sync thread of ``kalender serve`` runs it: one long-lived service (its
    first pass, untimed, renders every feed and checks the venue/person calendars), then
    per repetition one PUT and one pass over the changed OPD calendar only (``only=``, when
    this version of ``run_once`` has it)."""
    import inspect

    from kalender.deployment import Deployment
    from kalender_sync.service import SyncService

    service = SyncService(Deployment(Path(ds.root)), kal.url)
    has_only = "only" in inspect.signature(service.run_once).parameters
    today = dt.date.fromisoformat(ds.today)
    secs, actions = [], []
    try:
        service.run_once()
        for i in range(reps):
            put_event(kal, f"/opd/{ds.target}/", today + dt.timedelta(days=first_day + i),
                      f"Bench Layan {i}")
            began = time.perf_counter()
            report = (service.run_once(only={ds.target}) if has_only  # type: ignore[call-arg]
                      else service.run_once())
            secs.append(time.perf_counter() - began)
            actions.append(len(report.actions))
    finally:
        service.close()
    return summary(secs) | {"actions": actions, "only_changed": has_only}


# -- seeding (sizes above --real-sync-max) ----------------------------------------------
def seed_sync(ds: Dataset, url: str) -> dict[str, object]:
    """The state of a full rebuild without its N x ~3 HTTP round trips: the real
    ``SyncService.run_once`` (plan, transform, the copies' transactions, feeds) with only
    its reading replaced: sources read from the item files instead of caldav
    sync-collection (sqlite ``synchronous = OFF``). The caller then reindexes, and
    ``finish_seed`` takes real sync tokens of the OPD calendars."""

    from kalender.deployment import Deployment
    from kalender_sync.plan import Change
    from kalender_sync.service import SyncService
    from kalender_sync.source import _uid
    from kalender_sync.transform import Source

    root = Path(ds.root) / "collections/collection-root"
    service = SyncService(Deployment(Path(ds.root)), url)
    service.state.db.execute("PRAGMA synchronous = OFF")

    def changes(opd: str, opd_name: str, token: str | None, known: object
                ) -> tuple[list[Change], str | None, bool]:
        out = []
        for path in sorted((root / "opd" / opd).glob("*.ics")):
            with path.open(encoding="utf-8", newline="") as f:
                text = f.read()
            out.append(Change(opd, path.name, Source(opd, opd_name, path.name,
                                                     _uid(text, path.name), text)))
        return out, None, True

    service.reader.changes = changes  # type: ignore[method-assign]
    try:
        began = time.perf_counter()
        report = service.run_once()
        seconds = time.perf_counter() - began
    finally:
        service.close()
    return {"seconds": seconds, "actions": len(report.actions), "skipped": len(report.skipped)}


def finish_seed(ds: Dataset, url: str) -> float:
    """Real sync tokens for the OPD calendars (one sync-collection REPORT each)."""
    import warnings

    from kalender.deployment import Deployment
    from kalender_sync.service import SyncService

    began = time.perf_counter()
    service = SyncService(Deployment(Path(ds.root)), url)
    client = service.reader.client
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            for opd in service.dep.opds():
                cal = client.calendar(url=f"{service.url}/opd/{opd.id}/")
                result = cal.get_objects_by_sync_token(sync_token=None, load_objects=False,
                                                       disable_fallback=True)
                service.state.save_token(opd.id, result.sync_token)
    finally:
        service.close()
    return time.perf_counter() - began
