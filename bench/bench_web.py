"""Issue 9 benchmark: the public web pages and the JSON against vanilla Radicale 3.9's GET.

    /work/venv/bin/python bench/bench_web.py [--sizes 1000,10000,50000] [--reps 15]
    /work/venv/bin/python bench/bench_web.py --sizes 1000 --reps 5        # smoke run, ~2 min

Per size N (40 OPD calendars holding N events in total, ``bench/data.py``):

1. **data**: the sync service's state for those events, made by ``bench_feed.seed_sync``
   (the real ``SyncService.run_once`` - plan, transform, journal, feeds and the web index
   ``kalender_sync.webindex`` - with only its CalDAV reads and writes replaced by file
   access, so 50,000 events take minutes, not an hour), then ``kalender reindex``;
2. **servers**: ``kalender serve`` without its sync thread (nothing changes while measuring)
   and ``vanilla_server.py`` on a copy of the merged public collection
   (``bench_feed.vanilla_feed_copy``: the same public events, files, props and item cache);
3. **GETs**, keep-alive ``http.client``, bodies read completely, the cases interleaved
   rep by rep (each rep runs every case once, in a rotating order):
   - Kalender OPD, anonymous: ``GET /`` as a browser (``Accept: text/html``; the agenda
     list, today and 14 days), its ``304`` to ``If-None-Match``, the month view and a
     search (``?q=``, every date); ``GET /publik/agenda.json`` (the feed window: 7 days
     back, 60 ahead), its ``304``, the same built anew each time (``?dari=`` a day that
     changes every rep, so the cache of recent answers misses), one week of it
     (``?dari=&sampai=``); ``/layar/data.json`` (today is empty in data.py's events: its
     cost is tomorrow's running line) and ``/cetak/?tanggal=`` tomorrow (info);
   - vanilla, with a login: ``GET /publik/agenda/``, the whole merged collection as one
     iCalendar text - what a client of vanilla Radicale must fetch to show the same
     agenda. Its first GET (item cache cold) is reported apart and not counted.

Ratios are vanilla's median divided by Kalender's (how many times faster), all from the
same run; no timed assertion anywhere. Writes ``bench/results/web-latest.json`` (every
sample), prints a Markdown table and, unless ``--no-doc``, puts it into ``bench/WEB.md``
between its ``results`` markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

from bench_feed import (
    IDENTITY,
    Client,
    close,
    log,
    machine,
    run,
    seed_sync,
    start_kalender,
    start_vanilla,
    timed_get,
    vanilla_feed_copy,
)
from common import BENCH, summary
from data import KALENDER, WIB, make_dataset

HTML = {**IDENTITY, "Accept": "text/html,application/xhtml+xml"}
JSON = {**IDENTITY, "Accept": "application/json"}
DAY = dt.timedelta(days=1)
DOC = BENCH / "WEB.md"


def cases(today: dt.date) -> dict[str, tuple[str, str, dict[str, str], int]]:
    """name -> (server, path, headers, status); ``{etag:...}`` is filled in after a first
    GET, ``{dari}`` with a day that differs every rep (a body the JSON's cache of recent
    answers does not hold: what the first reader after a sync pass waits for)."""
    week = today + 7 * DAY
    return {
        "page": ("kal", "/", HTML, 200),
        "page_304": ("kal", "/", {**HTML, "If-None-Match": "{etag:page}"}, 304),
        "month": ("kal", "/?tampilan=bulan", HTML, 200),
        "search": ("kal", "/?q=rapat+koordinasi", HTML, 200),
        "json": ("kal", "/publik/agenda.json", JSON, 200),
        "json_304": ("kal", "/publik/agenda.json", {**JSON, "If-None-Match": "{etag:json}"},
                     304),
        "json_build": ("kal", "/publik/agenda.json?dari={dari}", JSON, 200),
        "json_week": ("kal", f"/publik/agenda.json?dari={week}&sampai={week + 6 * DAY}",
                      JSON, 200),
        "lobby": ("kal", "/layar/data.json", JSON, 200),
        # data.py's events start tomorrow: the sheet of a full day, not of an empty today
        "print": ("kal", f"/cetak/?tanggal={today + DAY}", HTML, 200),
        "vanilla": ("van", "/publik/agenda/", IDENTITY, 200),
    }


def bench_gets(kal: Client, van: Client, today: dt.date, reps: int, van_reps: int
               ) -> dict[str, object]:
    """Every case ``reps`` times (vanilla ``van_reps`` times), interleaved."""
    plan = cases(today)
    clients = {"kal": kal, "van": van}
    out: dict[str, object] = {}
    etags: dict[str, str] = {}
    sizes: dict[str, int] = {}
    began = time.perf_counter()
    _, _, body, hdrs = timed_get(van, "/publik/agenda/", IDENTITY)  # item cache cold
    out["vanilla_first_s"] = time.perf_counter() - began
    out["vanilla_events"] = body.count(b"BEGIN:VEVENT")
    for name, (server, path, headers, status) in plan.items():  # untimed warm-up
        if status == 304:
            continue
        _, size, body, hdrs = timed_get(clients[server], path.format(dari=today), headers,
                                        status)
        sizes[name] = size
        if name in ("page", "json"):
            etags[name] = hdrs["etag"]
        if name in ("json", "json_week"):
            out[f"{name}_events"] = json.loads(body)["count"]
        if name == "print":
            out["print_rows"] = body.count(b"<tr class=")
        if name == "lobby":
            out["lobby_today"] = len(json.loads(body)["today"])
    out["bytes"] = sizes
    times: dict[str, list[float]] = {name: [] for name in plan}
    names = list(plan)
    for rep in range(reps):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            server, path, headers, status = plan[name]
            if server == "van" and rep >= van_reps:
                continue
            filled = {k: re.sub(r"\{etag:(\w+)\}", lambda m: etags[m.group(1)], v)
                      for k, v in headers.items()}
            dari = today - (80 - rep % 80) * DAY  # inside the window (90 days back)
            times[name].append(timed_get(clients[server], path.format(dari=dari), filled,
                                         status)[0])
    stats = {name: summary(v) for name, v in times.items() if v}
    out["times"] = stats
    vanilla = stats["vanilla"]["median"]
    out["ratio"] = {name: vanilla / s["median"] for name, s in stats.items() if name != "vanilla"}
    out["ratio_p95"] = {name: stats["vanilla"]["p95"] / s["p95"] for name, s in stats.items()
                        if name != "vanilla"}
    return out


def bench_size(n: int, args: argparse.Namespace) -> dict[str, object]:
    """Build the data for N events, start both servers, measure."""
    workdir = Path(args.workdir)
    logdir = workdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    res: dict[str, object] = {"n": n}
    phases: dict[str, float] = {}
    t = time.perf_counter()
    log(f"n={n}: generating")
    ds = make_dataset(workdir, f"web{n}", n, 1000, sync=True)
    res["recurring"] = ds.recurring
    phases["generate"] = time.perf_counter() - t
    kal = start_kalender(ds, logdir, with_sync=False)
    try:
        log(f"n={n}: seeding the sync service's state and the web index")
        seed = seed_sync(ds, kal.url)
        phases["seed"] = float(seed["seconds"])  # type: ignore[arg-type]
        res["seed"] = seed
    finally:
        close(kal)
    phases["reindex"] = run([KALENDER, "reindex", "--dir", ds.root])
    vanilla_feed_copy(ds)
    kal = start_kalender(ds, logdir, with_sync=False)
    van = start_vanilla(ds, logdir)
    kc, vc = Client(kal.url), Client(van.url, (ds.login, ds.password))
    try:
        log(f"n={n}: GETs x {args.reps} (vanilla x {args.van_reps})")
        t = time.perf_counter()
        res["get"] = bench_gets(kc, vc, dt.datetime.now(WIB).date(), args.reps,
                                args.van_reps)
        phases["gets"] = time.perf_counter() - t
        ratio = res["get"]["ratio"]  # type: ignore[index]
        log(f"n={n}: / {ratio['page']:.0f}x, json {ratio['json']:.0f}x faster than vanilla")
    finally:
        kc.close()
        vc.close()
        close(kal)
        close(van)
    res["phases"] = phases
    if not args.keep:
        shutil.rmtree(workdir / f"web{n}", ignore_errors=True)
    return res


LABELS = [
    ("page", "`GET /` (browser: today + 14 days)"),
    ("page_304", "`GET /` 304 (If-None-Match)"),
    ("month", "`GET /?tampilan=bulan`"),
    ("search", "`GET /?q=rapat+koordinasi` (every date)"),
    ("json", "`GET /publik/agenda.json` (feed window)"),
    ("json_304", "`GET /publik/agenda.json` 304"),
    ("json_build", "`GET /publik/agenda.json?dari=` (not kept: built anew)"),
    ("json_week", "`GET /publik/agenda.json?dari=&sampai=` (one week)"),
    ("lobby", "`GET /layar/data.json`"),
    ("print", "`GET /cetak/?tanggal=` (tomorrow)"),
]


def _ms(x: float) -> str:
    return f"{x * 1e3:.1f}" if x < 10 else f"{x * 1e3:.0f}"


def table(res: dict) -> str:  # type: ignore[type-arg]
    """The Markdown table of a run."""
    m, sizes = res["machine"], res["sizes"]
    lines = [f"Machine: {m['nproc']} CPU ({m['cpu']}), Python {m['python']}, "
             f"Radicale {m['radicale']}, waitress {m['waitress']}, Linux {m['kernel']}; "
             f"code {m['commit']}; run {m['date']}, {res['reps']} reps (vanilla "
             f"{res['van_reps']}), total {res['total_seconds'] / 60:.1f} min.", "",
             "Each cell: median / p95 (ms), then vanilla's median ÷ this median.", "",
             "| request | " + " | ".join(f"N = {s['n']:,}" for s in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    for key, label in LABELS:
        cells = []
        for s in sizes:
            t, r = s["get"]["times"][key], s["get"]["ratio"][key]
            cells.append(f"{_ms(t['median'])} / {_ms(t['p95'])}, **{r:,.0f}x**")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    cells = [f"{_ms(s['get']['times']['vanilla']['median'])} / "
             f"{_ms(s['get']['times']['vanilla']['p95'])}" for s in sizes]
    lines.append("| vanilla `GET /publik/agenda/` (merged collection, with login) | "
                 + " | ".join(cells) + " |")
    lines.append("| vanilla first GET, item cache cold (s) | "
                 + " | ".join(f"{s['get']['vanilla_first_s']:.1f}" for s in sizes) + " |")
    lines.append("| events: JSON window / JSON one week / vanilla collection | "
                 + " | ".join(f"{s['get']['json_events']:,} / {s['get']['json_week_events']:,}"
                              f" / {s['get']['vanilla_events']:,}" for s in sizes) + " |")
    lines.append("| activities on the print sheet (tomorrow) | "
                 + " | ".join(f"{s['get']['print_rows']:,}" for s in sizes) + " |")
    lines.append("| bytes: `/` / JSON / vanilla (KiB) | "
                 + " | ".join(f"{s['get']['bytes']['page'] / 1024:,.0f} / "
                              f"{s['get']['bytes']['json'] / 1024:,.0f} / "
                              f"{s['get']['bytes']['vanilla'] / 1024:,.0f}" for s in sizes)
                 + " |")
    lines.append("| set-up: generate / seed / reindex (s) | "
                 + " | ".join(f"{s['phases']['generate']:.0f} / {s['phases']['seed']:.0f} / "
                              f"{s['phases']['reindex']:.0f}" for s in sizes) + " |")
    return "\n".join(lines)


def write_doc(text: str) -> None:
    """Replace the table between WEB.md's ``results`` markers."""
    doc = DOC.read_text("utf-8")
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    head, _, rest = doc.partition(begin)
    _, _, tail = rest.partition(end)
    DOC.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")


def main() -> int:
    """Run every size, write the JSON, print the table."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000,50000")
    p.add_argument("--reps", type=int, default=15, help="GETs of every Kalender case")
    p.add_argument("--van-reps", type=int, default=5, help="vanilla GETs of the collection")
    p.add_argument("--workdir", default="/tmp/kalender-web")
    p.add_argument("--keep", action="store_true", help="keep the generated datasets")
    p.add_argument("--no-doc", action="store_true", help="do not update bench/WEB.md")
    p.add_argument("--out", default=str(BENCH / "results" / "web-latest.json"))
    args = p.parse_args()
    began = time.perf_counter()
    res: dict[str, object] = {"machine": machine(), "reps": args.reps,
                              "van_reps": min(args.van_reps, args.reps), "sizes": [],
                              "args": vars(args)}
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    for n in (int(s) for s in args.sizes.split(",") if s):
        res["sizes"].append(bench_size(n, args))  # type: ignore[attr-defined]
        res["total_seconds"] = time.perf_counter() - began
        out.write_text(json.dumps(res, indent=1), encoding="utf-8")  # partial results
    res["total_seconds"] = time.perf_counter() - began
    out.write_text(json.dumps(res, indent=1), encoding="utf-8")
    text = table(res)
    print(text)
    if not args.no_doc:
        write_doc(text)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
