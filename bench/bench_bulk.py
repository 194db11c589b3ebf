"""Issue 12 items 1-2: the first full sync, one HTTP PUT per copy vs bulk writes.

``python bench/bench_bulk.py --sizes 1000 5000`` generates each size twice (same seed,
``bench/data.py``), reindexes, starts ``kalender serve`` without its sync thread, and
runs ``SyncService.run_once`` on a fresh ``sync.db``:

- ``http``: as shipped, every copy one CalDAV PUT (``SyncService._apply``);
- ``bulk``: the same pass with the writes made by ``kalender_sync.bulk.write`` through a
  storage plugin opened in this process (Radicale's lock is a file lock, so it is the
  same lock the server takes), under one lock per pass.

Also: one ``icalendar`` parse of the same sources (``bench/parse_baseline.py``), the
denominator of the issue's target (full rebuild <= 2x one parse). Then the bulk outputs
are checked against the HTTP ones (same hrefs and bytes per calendar). No assertions on
time; writes ``bench/results/bulk-latest.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bulk_writer  # noqa: E402
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


def full_sync(ds: Dataset, url: str, bulk: bool, cache: bool = True) -> dict[str, float]:
    from kalender.admin.provision import load_configuration
    from kalender.dav.storage import Storage
    from kalender.deployment import Deployment
    from kalender_sync.service import Report, SyncService
    from kalender_sync.state import Output

    dep = Deployment(Path(ds.root))
    service = SyncService(dep, url)
    spent = {"apply": 0.0}
    if bulk:
        storage = Storage(load_configuration(dep))

        def apply(actions: list[Output], report: Report) -> set[str]:
            began = time.perf_counter()
            db = service.state.db
            db.execute("BEGIN")
            for a in actions:
                service.state.intend(a)
            db.execute("COMMIT")
            done = bulk_writer.write(storage, service.login, actions, cache)
            db.execute("BEGIN")
            for a in done:
                service.state.done(a)
            db.execute("COMMIT")
            spent["apply"] += time.perf_counter() - began
            return {a.calendar for a in done}

        service._apply = apply  # type: ignore[method-assign]
    else:
        original = service._apply

        def timed(actions: list[Output], report: Report) -> set[str]:
            began = time.perf_counter()
            try:
                return original(actions, report)
            finally:
                spent["apply"] += time.perf_counter() - began

        service._apply = timed  # type: ignore[method-assign]
    began = time.perf_counter()
    report = service.run_once()
    total = time.perf_counter() - began
    service.close()
    return {"seconds": round(total, 2), "apply": round(spent["apply"], 2),
            "writes": len(report.actions), "failed": len(report.failed)}


def outputs(ds: Dataset) -> dict[str, dict[str, str]]:
    root = Path(ds.root) / "collections/collection-root"
    found: dict[str, dict[str, str]] = {}
    for kind in ("publik", "pimpinan", "ruang", "orang"):
        for f in sorted((root / kind).glob("*/*.ics")):
            found.setdefault(f"{kind}/{f.parent.name}", {})[f.name] = f.read_text("utf-8")
    return found


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    p.add_argument("--workdir", default="/tmp/kalender-bulk")
    p.add_argument("--skip-http-above", type=int, default=10**9)
    p.add_argument("--modes", nargs="+", default=["bulk", "http"])
    p.add_argument("--lazy-cache", action="store_true",
                   help="bulk: leave the item cache to Radicale's first read")
    p.add_argument("--profile", help="cProfile the bulk pass into this file")
    args = p.parse_args()
    workdir = Path(args.workdir)
    results = []
    for n in args.sizes:
        row: dict[str, object] = {"n": n}
        kept: dict[str, dict[str, dict[str, str]]] = {}
        for mode in args.modes:
            if mode == "http" and n > args.skip_http_above:
                continue
            ds = make_dataset(workdir, f"{mode}{n}", n, sync=True)
            reindex(ds)
            if mode == "bulk":
                row["parse_files"], row["parse_seconds"] = parse_seconds(ds)
            server = start_kalender(ds, workdir)
            try:
                if args.profile and mode == "bulk":
                    import cProfile
                    with cProfile.Profile() as prof:
                        row[mode] = full_sync(ds, server.url, True, not args.lazy_cache)
                    prof.dump_stats(args.profile)
                else:
                    row[mode] = full_sync(ds, server.url, mode == "bulk", not args.lazy_cache)
            finally:
                close(server)
            kept[mode] = outputs(ds)
            print(n, mode, row[mode], flush=True)
        if len(kept) == 2:
            same = kept["http"].keys() == kept["bulk"].keys() and all(
                kept["http"][c].keys() == kept["bulk"][c].keys() for c in kept["http"])
            row["same_hrefs"] = same
        results.append(row)
        print(json.dumps(row), flush=True)
    out = BENCH / "results" / "bulk-latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
