"""City-scale scenario (issue 12 item 6): 33 OPD, years of data, 20 PICs writing, 200 subscribers.

    nice .venv/bin/python bench/bench_city.py --years 2 --scale 0.1 --hour-seconds 240

1. **data**: ``data.make_deployment`` (40 OPD calendars; events go into the first 33 of
   them) and ``--per-day`` (20) activities a day x ``--scale`` over ``--years`` (the last
   year ahead of today, the rest behind), 07:00-20:00 WIB, with ``data.py``'s shares:
   ~10% weekly series (COUNT 4-26), registered venues (~85%), key persons (~30%);
   ``kalender reindex``; one PIC account for each of ``--pics`` (20) OPD and a pimpinan;
2. **full rebuild**: the first ``SyncService.run_once()`` on a ``kalender serve`` without
   its sync thread, timed (``bench_feed.sync_pass``); above ``--real-sync-max`` events the
   state is seeded instead (``bench_feed.seed_sync`` / ``finish_seed``) and not timed as a rebuild;
3. ``kalender serve`` *with* its sync thread: feed sizes (``/publik/agenda/``, ``?penuh=1``,
   the leaders' agenda, the largest venue calendar), feed GET / 304 timings, PUT p95 idle
   (``feed.under_load.put_series``) and PUT -> visible (``feed.feed_gets.bench_visible``);
4. **the hour, compressed into ``--hour-seconds``**: ``--subscribers`` (200) conditional
   GETs (each with the ETag of the previous hour) at random moments, 60% the public feed,
   20% the leaders' agenda, 20% one of the 3 largest venue calendars, from a separate
   process; meanwhile each PIC PUTs ``--puts-per-pic`` new public events into its own OPD
   at random moments, then polls the public feed every 250 ms until the event is there
   (PUT -> visible under load); then the server's RSS (VmRSS, VmHWM);
5. **vanilla** (``vanilla_server.py`` on the merged public collection and ``/opd/dinkes/``):
   GET of the collection and idle PUTs, for ratios.

Results go to ``bench/results/city-latest.json`` and a Markdown table on stdout. Never a
timed assertion: figures and ratios only. See CITY.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench_feed import (
    IDENTITY,
    Client,
    close,
    finish_seed,
    log,
    machine,
    run,
    seed_sync,
    start_kalender,
    start_vanilla,
    timed_get,
    vanilla_feed_copy,
)
from city_hour import city_hour, rss
from city_report import sizes_and_gets, table
from common import BENCH, summary
from data import (
    ACTIVITIES,
    FREE_TEXT,
    KALENDER,
    LABELS,
    LOGIN,
    PASSWORD,
    TARGET,
    WIB,
    Dataset,
    _run,
    _spellings,
    event_ics,
    make_deployment,
)
from feed.feed_gets import bench_visible
from feed.servers import PIMPINAN, PUBLIC
from feed.sync_passes import sync_pass
from feed.under_load import put_series

Auth = tuple[str, str] | None


def write_city(root: Path, opds: list[str], n: int, years: float, seed: int,
               today: dt.date) -> int:
    """N events over ``years`` (the last one ahead of today) in ``opds``; returns recurring."""
    rng = random.Random(seed)
    venues = _spellings(root / "venues.csv", "name")
    persons = _spellings(root / "persons.csv", "title")
    base = root / "collections/collection-root/opd"
    span = max(1, round(years * 365))
    first = today + dt.timedelta(days=min(365, span) - span)
    recurring = 0
    for i in range(n):
        opd = opds[i % len(opds)]
        day = first + dt.timedelta(days=rng.randrange(span))
        hours = rng.choice((1, 1, 1.5, 2, 2, 2.5, 3))
        latest = 20 * 60 - int(hours * 60)  # end by 20:00: the 21:00 slot stays free
        minute = rng.randrange(7 * 60, min(latest, 17 * 60) + 1, 30)
        start = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
        location = (rng.choice(FREE_TEXT) if rng.random() < 0.15
                    else rng.choice(rng.choice(venues)))
        description = None
        if rng.random() < 0.3:
            description = f"{rng.choice(LABELS)}: {rng.choice(rng.choice(persons))}"
        rrule = None
        if rng.random() < 0.10:
            rrule = f"FREQ=WEEKLY;COUNT={rng.randint(4, 26)}"
            recurring += 1
        uid = f"{opd}-{i:06d}-{rng.getrandbits(48):012x}"
        text = event_ics(uid, start, start + dt.timedelta(minutes=int(hours * 60)),
                         rng.choice(ACTIVITIES), location, description, rrule,
                         organizer=opd.upper())
        (base / opd / f"{uid}.ics").write_text(text, encoding="utf-8", newline="")
    return recurring


def make_city(args: argparse.Namespace) -> tuple[Dataset, dict[str, tuple[str, str]]]:
    """The deployment, its events, the reindex and the accounts; (dataset, PIC per OPD)."""
    root = Path(args.workdir) / "city" / "kalender"
    today = dt.datetime.now(WIB).date()
    all_opds = make_deployment(root, sync=True)
    opds = [TARGET, *[o for o in all_opds if o != TARGET][:args.opds - 1]]
    n = round(args.per_day * 365 * args.years * args.scale)
    recurring = write_city(root, opds, n, args.years, 20240817, today)
    ds = Dataset("city", str(root), str(Path(args.workdir) / "city" / "vanilla"), n, TARGET,
                 len(list((root / "collections/collection-root/opd" / TARGET).glob("*.ics"))),
                 recurring, today=today.isoformat())
    run([KALENDER, "reindex", "--dir", ds.root])
    pics = {TARGET: (LOGIN, PASSWORD)}
    for opd in opds[1:args.pics]:
        pics[opd] = (f"pic-{opd}", f"rahasia-{opd}-1")
        _run([KALENDER, "user", "add", pics[opd][0], "--role", "pic", "--opd", opd,
              "--dir", ds.root, "--password-stdin"], stdin=pics[opd][1] + "\n")
    _run([KALENDER, "user", "add", PIMPINAN[0], "--role", "pimpinan", "--dir", ds.root,
          "--password-stdin"], stdin=PIMPINAN[1] + "\n")
    return ds, pics


def rebuild(ds: Dataset, args: argparse.Namespace, logdir: Path) -> dict[str, object]:
    """The first sync pass, timed; seeded (untimed as a rebuild) above --real-sync-max."""
    kal = start_kalender(ds, logdir, with_sync=False)
    try:
        if ds.n <= args.real_sync_max:
            return sync_pass(ds, kal.url) | {"seeded": False}
        out = seed_sync(ds, kal.url) | {"seeded": True}
        close(kal)
        out["reindex_s"] = run([KALENDER, "reindex", "--dir", ds.root])
        kal = start_kalender(ds, logdir, with_sync=False)
        out["finish_s"] = finish_seed(ds, kal.url)
        return out
    finally:
        close(kal)


def main() -> int:
    """Run the scenario once and print its table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--years", type=float, default=2.0)
    p.add_argument("--scale", type=float, default=1.0, help="fraction of --per-day")
    p.add_argument("--per-day", type=int, default=20)
    p.add_argument("--opds", type=int, default=33)
    p.add_argument("--pics", type=int, default=20)
    p.add_argument("--subscribers", type=int, default=200)
    p.add_argument("--hour-seconds", type=float, default=240.0)
    p.add_argument("--puts-per-pic", type=int, default=2)
    p.add_argument("--reps", type=int, default=10, help="idle PUTs, PUT->visible, GETs")
    p.add_argument("--real-sync-max", type=int, default=3000)
    p.add_argument("--workdir", default="/tmp/kalender-city")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--out", default=str(BENCH / "results" / "city-latest.json"))
    args = p.parse_args()
    began = time.perf_counter()
    logdir = Path(args.workdir) / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    res: dict[str, object] = {"machine": machine(), "args": vars(args)}
    log("city: data")
    ds, pics = make_city(args)
    res["dataset"] = asdict(ds) | {"pics": len(pics)}
    log(f"city: {ds.n} events ({ds.recurring} weekly series); first sync pass")
    res["rebuild"] = rebuild(ds, args, logdir)
    log(f"city: rebuild { {k: v for k, v in res['rebuild'].items() if k != 'feeds'} }")
    vanilla_feed_copy(ds)
    kal = start_kalender(ds, logdir, with_sync=True)
    try:
        time.sleep(2)
        res["rss_start"] = rss(kal.proc.pid)
        res["feeds"] = sizes_and_gets(kal, ds, args.reps)
        log("city: idle PUTs, PUT -> visible")
        res["put_idle"] = put_series(kal, ds, args.reps, 200, 120.0)
        res["visible_idle"] = bench_visible(kal, ds, args.reps, 2)  # inside the feed window
        log(f"city: the hour in {args.hour_seconds:.0f} s")
        res["hour"] = city_hour(kal.url, ds, pics, args)
        res["rss_end"] = rss(kal.proc.pid)
    finally:
        close(kal)
    log("city: vanilla")
    van = start_vanilla(ds, logdir)
    try:
        vc = Client(van.url, (ds.login, ds.password))
        timed_get(vc, PUBLIC, IDENTITY)  # fills its item cache
        res["van_get"] = summary([timed_get(vc, PUBLIC, IDENTITY)[0] for _ in range(3)])
        vc.close()
        res["van_put_idle"] = put_series(van, ds, args.reps, 200, 120.0)
    finally:
        close(van)
    res["total_seconds"] = time.perf_counter() - began
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=1, default=str), encoding="utf-8")
    print(table(res))
    if not args.keep:
        import shutil
        shutil.rmtree(Path(args.workdir) / "city", ignore_errors=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
