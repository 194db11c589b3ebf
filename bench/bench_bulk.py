"""Issue 12 item 1: a full rebuild of the outputs, and one change, against one parse.

``python bench/bench_bulk.py --sizes 1000 5000`` generates each size (``bench/data.py``),
reindexes, starts ``kalender serve`` without its sync thread and runs
``SyncService.run_once`` on a fresh ``sync.db``, as shipped: the sources read by CalDAV
sync-collection, every copy planned, all copies of a step written in one SQLite
transaction (served from there by ``kalender.dav.outputs``), feeds and web index
rendered. The pass is split into its parts (read, plan, write, feeds, web index).

Then one change: a PIC's PUT of one event, and the pass that follows
(``run_once(only={opd})``), the issue's "one change <= 5 % of a full rebuild".

The yardstick is one ``icalendar`` parse of the same sources (``bench/parse_baseline.py``);
the issue's target is a full rebuild <= 2x that. No assertions on time; writes
``bench/results/bulk-latest.json``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from common import PYTHON, Server, _start, free_port, stop  # noqa: E402
from data import KALENDER, Dataset, make_dataset  # noqa: E402

SECRET = "sync.secret"


def start_kalender(ds: Dataset, logdir: Path) -> Server:
    """``kalender serve`` without its sync thread (the secret is hidden while it starts)."""
    secret = Path(ds.root) / SECRET
    hidden = secret.with_name(SECRET + ".bench-hidden")
    port = free_port()
    secret.rename(hidden)
    try:
        return _start("kalender", [KALENDER, "serve", ds.root, "--port", str(port)], ds,
                      logdir / f"{ds.name}-kalender.log", port)
    finally:
        hidden.rename(secret)


def close(server: Server) -> None:
    server.session.close()
    stop(server.proc)


def reindex(ds: Dataset) -> None:
    subprocess.run([KALENDER, "reindex", "--dir", ds.root], check=True, capture_output=True)


def parse_seconds(ds: Dataset) -> tuple[int, float]:
    out = subprocess.run([PYTHON, str(BENCH / "parse_baseline.py"),
                          str(Path(ds.root) / "collections/collection-root/opd")],
                         check=True, capture_output=True, text=True).stdout
    found = json.loads(out)
    return int(found["files"]), float(found["seconds"])


def full_sync(ds: Dataset, url: str) -> dict[str, float]:
    """The first pass on a fresh sync.db, timed by part."""
    import kalender_sync.service as service_module
    from kalender.deployment import Deployment
    from kalender_sync.service import SyncService

    service = SyncService(Deployment(Path(ds.root)), url)
    spent: dict[str, float] = {"read": 0.0, "plan": 0.0, "write": 0.0, "feeds": 0.0,
                               "web": 0.0}

    def timed(part: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*a, **kw):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[part] += time.perf_counter() - began
        return wrapper

    service.reader.changes = timed("read", service.reader.changes)  # type: ignore[method-assign]
    original_plan = service_module.plan
    service_module.plan = timed("plan", original_plan)  # type: ignore[assignment]
    service._apply = timed("write", service._apply)  # type: ignore[method-assign]
    service._publish = timed("feeds", service._publish)  # type: ignore[method-assign]
    service.web.refresh = timed("web", service.web.refresh)  # type: ignore[method-assign]
    try:
        began = time.perf_counter()
        report = service.run_once()
        total = time.perf_counter() - began
        one = one_change(ds, url, service)
    finally:
        service_module.plan = original_plan  # type: ignore[assignment]
        service.close()
    return {"seconds": round(total, 2), **{k: round(v, 2) for k, v in spent.items()},
            "writes": len(report.actions), **one}


def one_change(ds: Dataset, url: str, service: object) -> dict[str, float]:
    """A PIC's PUT of one event, then the pass it wakes (the OPD it changed only)."""
    import requests

    opd = ds.target  # the PIC account's OPD (bench/data.py)
    body = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//ID\r\nBEGIN:VEVENT\r\n"
            "UID:bench-one-change\r\nDTSTAMP:20260101T000000Z\r\n"
            "DTSTART:20331201T010000Z\r\nDTEND:20331201T020000Z\r\n"
            "SUMMARY:Satu perubahan\r\nCLASS:PUBLIC\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    r = requests.put(f"{url}/opd/{opd}/bench-one-change.ics", data=body,
                     auth=(ds.login, ds.password), headers={"Content-Type": "text/calendar"},
                     timeout=60)
    assert r.status_code in (201, 204), r.text
    began = time.perf_counter()
    report = service.run_once(only={opd})  # type: ignore[attr-defined]
    return {"one_change_seconds": round(time.perf_counter() - began, 3),
            "one_change_writes": len(report.actions)}


def outputs(ds: Dataset) -> dict[str, list[str]]:
    """calendar -> hrefs of the copies, as served (from sync.db)."""
    from kalender_sync.served import Served

    served = Served(Path(ds.root) / "sync.db")
    calendars = [c for (c,) in sqlite3.connect(Path(ds.root) / "sync.db").execute(
        "SELECT DISTINCT calendar FROM outputs")]
    return {c: served.hrefs(c) for c in sorted(calendars)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    p.add_argument("--workdir", default="/tmp/kalender-bulk")
    p.add_argument("--profile", help="cProfile the full rebuild into this file")
    args = p.parse_args()
    workdir = Path(args.workdir)
    results = []
    for n in args.sizes:
        row: dict[str, object] = {"n": n}
        ds = make_dataset(workdir, f"rebuild{n}", n, sync=True)
        reindex(ds)
        row["parse_files"], row["parse_seconds"] = parse_seconds(ds)
        server = start_kalender(ds, workdir)
        try:
            if args.profile:
                import cProfile
                with cProfile.Profile() as prof:
                    row["rebuild"] = full_sync(ds, server.url)
                prof.dump_stats(args.profile)
            else:
                row["rebuild"] = full_sync(ds, server.url)
        finally:
            close(server)
        rebuild = row["rebuild"]
        assert isinstance(rebuild, dict)
        row["ratio_to_parse"] = round(rebuild["seconds"] / float(row["parse_seconds"]), 1)
        row["one_change_share"] = round(rebuild["one_change_seconds"] / rebuild["seconds"], 4)
        row["outputs"] = {k: len(v) for k, v in outputs(ds).items()}
        results.append(row)
        print(json.dumps(row), flush=True)
    out = BENCH / "results" / "bulk-latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
