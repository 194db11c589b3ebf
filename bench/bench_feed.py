"""Issue 4 benchmarks: the sync service and the rendered feeds, against vanilla Radicale 3.9.

    /work/venv/bin/python bench/bench_feed.py [--sizes 1000,10000,50000] [--reps 15]

Per size N (40 OPD calendars holding N events in total, ``bench/data.py``, then
``kalender reindex``):

1. **full rebuild**: ``SyncService.run_once()`` (what ``kalender sync --once`` runs),
   in this process, against a running ``kalender serve`` started *without* its own sync
   thread (``DIR/sync.secret`` hidden while it starts), on a fresh ``sync.db``;
2. **feed GET**: anonymous ``GET /publik/agenda/`` (windowed feed), ``?penuh=1`` (whole
   history), the ``304`` answer to ``If-None-Match`` and the gzip answer, against vanilla's
   ``GET`` of ONE collection holding the same merged events (the files of
   ``collection-root/publik/agenda`` after the sync, copied with their props and item
   cache into a vanilla folder; ``[rights] type = authenticated``, GET with a login);
3. **PUT -> visible**: a new public event PUT into ``/opd/dinkes/`` (as the PIC) on a
   ``kalender serve`` *with* its sync thread, then ``GET /publik/agenda/`` every 20 ms
   (``If-None-Match`` with the last ETag, as a subscriber would) until its SUMMARY appears;
4. **re-sync after one change**: ``run_once()`` of a new service after one PUT (what
   ``kalender sync --once`` does), against item 1; and (4b) the pass of a long-lived
   service over the changed OPD only, as ``kalender serve``'s sync thread runs it;
5. **writes under read load**: 20 reader threads (in a separate process, so the writer's
   timings do not share the GIL) looping full GETs of the public feed (anonymous, 10
   threads), the leaders' agenda (as a ``pimpinan`` account, 5 threads) and the 3 largest
   venue calendars (5 threads); meanwhile PUTs of new events into ``/opd/dinkes/``, 0.5 s
   apart, at 21:00 WIB on distinct days. Same pattern against vanilla: the readers GET the
   one merged collection, the writer PUTs into vanilla's copy of ``/opd/dinkes/``; each PUT
   capped at ``--put-timeout`` seconds (a timeout counts as that many seconds). Then the same
   with the readers polling as subscribers' apps do: with ``If-None-Match`` (a ``304`` until
   the feed changes), back to back.

Each result is a ratio against vanilla (or against item 1) from the same run, never a timed
assertion. Writes ``bench/results/feed-latest.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

from common import BENCH, summary
from data import KALENDER, make_dataset
from feed.feed_gets import Client, bench_get, bench_visible, timed_get
from feed.profiling import spy_summary, start_spy, stop_spy, top_functions
from feed.report import extrapolate, machine, table
from feed.servers import (
    IDENTITY,
    PIMPINAN,
    close,
    log,
    public_event,
    put_event,
    run,
    start_kalender,
    start_vanilla,
    vanilla_feed_copy,
)
from feed.sync_passes import finish_seed, seed_sync, serve_style_passes, sync_pass
from feed.under_load import bench_load, reader_plans, under_load

# bench_web.py and bench_city.py import these from here
__all__ = ["IDENTITY", "Client", "close", "finish_seed", "log", "machine", "public_event",
           "put_event", "run", "seed_sync", "start_kalender", "start_vanilla", "timed_get",
           "vanilla_feed_copy"]


# -- one size ---------------------------------------------------------------------------
def bench_size(n: int, args: argparse.Namespace) -> dict[str, object]:
    workdir = Path(args.workdir)
    logdir = workdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    prof_dir = workdir / "profiles"
    prof_dir.mkdir(exist_ok=True)
    res: dict[str, object] = {"n": n}
    phases: dict[str, float] = {}
    t = time.perf_counter()
    log(f"n={n}: generating")
    ds = make_dataset(workdir, f"feed{n}", n, 1000, sync=True)
    phases["generate"] = time.perf_counter() - t
    res["recurring"] = ds.recurring
    phases["reindex"] = run([KALENDER, "reindex", "--dir", ds.root])
    run([KALENDER, "user", "add", PIMPINAN[0], "--role", "pimpinan", "--dir", ds.root,
         "--password-stdin"], stdin=PIMPINAN[1] + "\n")
    seeded = n > args.real_sync_max
    res["seeded"] = seeded

    # 1: full rebuild, on a server without its own sync thread (or seeded, see seed_sync)
    kal = start_kalender(ds, logdir, with_sync=False)
    try:
        if seeded:
            log(f"n={n}: 1 seeding the full rebuild's state (not timed as a rebuild)")
            res["seed"] = seed_sync(ds, kal.url)
            close(kal)
            res["seed"]["reindex_s"] = run([KALENDER, "reindex", "--dir", ds.root])  # type: ignore[index]
            kal = start_kalender(ds, logdir, with_sync=False)
            res["seed"]["finish_s"] = finish_seed(ds, kal.url)  # type: ignore[index]
            log(f"n={n}: seeded: {res['seed']}")
        else:
            log(f"n={n}: 1 full rebuild")
            recorder = (start_spy(args.spy, kal, prof_dir / f"full-{n}-server.txt")
                        if args.spy else None)
            prof = prof_dir / f"full-{n}.prof" if args.profile else None
            try:
                full = sync_pass(ds, kal.url, prof)
            finally:
                if recorder:
                    stop_spy(recorder)
            res["full"] = full
            if prof:
                res["full_profile"] = top_functions(prof)
            if recorder:
                res["full_server_profile"] = spy_summary(prof_dir / f"full-{n}-server.txt")
            log(f"n={n}: full rebuild {full['seconds']:.1f} s, {full['actions']} writes")
        settle = sync_pass(ds, kal.url)  # should be a no-op
        res["settle_actions"] = settle["actions"]

        # 4: one PUT, then one pass
        log(f"n={n}: 4 re-sync after one PUT x {args.resync_reps}")
        today = dt.date.fromisoformat(ds.today)
        incr = []
        for i in range(args.resync_reps):
            put_event(kal, f"/opd/{ds.target}/", today + dt.timedelta(days=20 + i),
                      f"Bench Ulang {i}")
            prof = prof_dir / f"incr-{n}.prof" if args.profile and i == 0 else None
            incr.append(sync_pass(ds, kal.url, prof))
            if prof:
                res["incr_profile"] = top_functions(prof)
        secs = [x["seconds"] for x in incr]
        res["resync"] = summary(secs) | {"actions": [x["actions"] for x in incr],
                                         "feeds": incr[0]["feeds"]}
        log(f"n={n}: 4b re-sync as `kalender serve` does it x {args.resync_reps}")
        res["resync_serve"] = serve_style_passes(ds, kal, args.resync_reps, first_day=30)

        # 5 (diagnostic): the same readers and writer, this server has no sync thread
        log(f"n={n}: 5 (diagnostic) PUTs under 20 readers, no sync thread")
        kplan, _ = reader_plans(kal, kal, ds)
        res["load_nosync"] = under_load(kal, ds, kplan, args.reps, 200, args.put_timeout)
    finally:
        close(kal)
    res["feed_files"] = {p.name: p.stat().st_size for p in (Path(ds.root) / "feeds").glob("*.ics")
                         if not p.name.startswith(("ruang-", "orang-"))}

    vanilla_feed_copy(ds)
    kal = start_kalender(ds, logdir, with_sync=True)
    van = start_vanilla(ds, logdir)
    kal.session.auth = (ds.login, ds.password)
    try:
        time.sleep(2)  # the server's own first (incremental, empty) pass
        log(f"n={n}: 2 feed GET")
        res["get"] = bench_get(kal, van, ds, args.reps, args.van_reps)
        log(f"n={n}: GET ratio {res['get']['ratio_feed']:.0f}x, 304 "  # type: ignore[index]
            f"{res['get']['ratio_304']:.0f}x")
        log(f"n={n}: 3 PUT -> visible x {args.reps}")
        # days 2.. : inside the default feed window (sync/kalender_sync/publish.py:window)
        res["visible"] = bench_visible(kal, ds, args.reps, first_day=2)
        log(f"n={n}: visible p95 {res['visible']['visible']['p95']:.2f} s")  # type: ignore[index]
        log(f"n={n}: 5 writes under read load")
        res["load"] = bench_load(kal, van, ds, args, first_day=120, spy_dir=prof_dir)
        if args.spy:
            res["load_server_profile"] = {
                "put": spy_summary(prof_dir / f"load-{n}.txt", only="do_PUT"),
                "busy": spy_summary(prof_dir / f"load-{n}.txt")}
    finally:
        close(kal)
        close(van)
    res["phases"] = phases
    if not args.keep:
        shutil.rmtree(workdir / f"feed{n}", ignore_errors=True)
    return res



def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000,50000")
    p.add_argument("--reps", type=int, default=15, help="GETs, PUT->visible and PUTs per size")
    p.add_argument("--van-reps", type=int, default=5, help="vanilla GETs of the collection")
    p.add_argument("--resync-reps", type=int, default=3, help="re-sync passes after one PUT")
    p.add_argument("--put-timeout", type=float, default=30.0)
    p.add_argument("--workdir", default="/tmp/kalender-feed")
    p.add_argument("--keep", action="store_true", help="keep the generated datasets")
    p.add_argument("--profile", action="store_true",
                   help="cProfile the full and one incremental sync pass (top functions in JSON)")
    p.add_argument("--real-sync-max", type=int, default=10000,
                   help="larger sizes are seeded (see seed_sync); their rebuild is extrapolated")
    p.add_argument("--van-load-reps", type=int, default=5,
                   help="vanilla PUTs under readers (each capped at --put-timeout)")
    p.add_argument("--spy", help="py-spy binary: sample the server (full sync, loaded PUTs)")
    p.add_argument("--out", default=str(BENCH / "results" / "feed-latest.json"))
    args = p.parse_args()
    began = time.perf_counter()
    res: dict[str, object] = {"machine": machine(), "reps": args.reps, "sizes": [],
                              "args": vars(args)}
    for n in (int(s) for s in args.sizes.split(",") if s):
        res["sizes"].append(bench_size(n, args))  # type: ignore[attr-defined]
        extrapolate(res["sizes"])  # type: ignore[arg-type]
        res["total_seconds"] = time.perf_counter() - began
        Path(args.out).parent.mkdir(exist_ok=True)
        Path(args.out).write_text(json.dumps(res, indent=1), encoding="utf-8")  # partial
    res["total_seconds"] = time.perf_counter() - began
    Path(args.out).write_text(json.dumps(res, indent=1), encoding="utf-8")
    print(table(res))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
