"""Run every benchmark, write bench/results/latest.json, print (and README) a Markdown table.

    /work/venv/bin/python bench/run.py [--sizes 1000,10000,50000] [--reps 15]

Per size N: generate the deployment (data.py), ``kalender reindex`` it (timed:
benchmark 4) and the icalendar baseline, copy it for vanilla, serve both, then
benchmarks 1 (single PUT) and 2 (weekly PUT). Then benchmark 3 on a separate
dataset with ``--big-target`` events all in the target calendar. Every result is a
ratio Kalender OPD / vanilla Radicale 3.9 (or / icalendar parse) from the same run.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import bench_put
import bench_reindex
from common import BENCH
from data import make_dataset, vanilla_copy

TARGETS = {"single": 1.1, "weekly": 1.1, "big": 0.2, "reindex": 1.5}
README_BEGIN = "<!-- results:begin -->"
README_END = "<!-- results:end -->"


def machine() -> dict[str, object]:
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu": model, "commit": code_version(),
            "python": platform.python_version(),
            "radicale": md.version("radicale"), "icalendar": md.version("icalendar"),
            "waitress": md.version("waitress"), "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%d %H:%M %Z")}


def code_version() -> str:
    """HEAD commit, '+dirty' when plugins/, sync/ or radicale_config/ have local changes
    (read-only git commands; other engineers commit while benchmarks run)."""
    def git(*a: str) -> str:
        return subprocess.run(["git", "-C", str(BENCH.parent), *a], capture_output=True,
                              text=True, check=False).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "plugins", "sync", "radicale_config")
    return head + ("+dirty" if dirty else "")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _ok(ratio: float, target: float) -> str:
    return "yes" if ratio <= target else "**no**"


def table(res: dict) -> str:  # type: ignore[type-arg]
    m = res["machine"]
    lines = [f"Machine: {m['nproc']} CPU ({m['cpu']}), Python {m['python']}, "
             f"Radicale {m['radicale']}, icalendar {m['icalendar']}, waitress {m['waitress']}, "
             f"Linux {m['kernel']}; code {m['commit']}; run {m['date']}, {res['reps']} reps, "
             f"total {res['total_seconds'] / 60:.1f} min.", "",
             "| # | benchmark | N total | events in target | Kalender median / p95 (ms) "
             "| vanilla median / p95 (ms) | ratio median (p95) | target | met |",
             "|---|---|---|---|---|---|---|---|---|"]
    rows = []
    for size in res["put"]:
        for kind, num, label in (("single", 1, "PUT single event"),
                                 ("weekly", 2, "PUT weekly RRULE (no COUNT)")):
            rows.append((num, label, size, kind, TARGETS[kind]))
    rows.sort(key=lambda r: r[0])
    for num, label, size, kind, target in rows:
        r, k, v = size[kind], size[kind]["kalender"], size[kind]["vanilla"]
        lines.append(f"| {num} | {label} | {size['n']:,} | {size['target_count']:,} "
                     f"| {k['median'] * 1e3:.1f} / {k['p95'] * 1e3:.1f} "
                     f"| {v['median'] * 1e3:.1f} / {v['p95'] * 1e3:.1f} "
                     f"| {r['ratio_median']:.2f}x ({r['ratio_p95']:.2f}x) "
                     f"| <= {target}x | {_ok(r['ratio_median'], target)} |")
    if res.get("big"):
        b = res["big"]
        r, k, v = b["single"], b["single"]["kalender"], b["single"]["vanilla"]
        lines.append(f"| 3 | PUT single into big calendar | {b['n']:,} | {b['target_count']:,} "
                     f"| {k['median'] * 1e3:.1f} / {k['p95'] * 1e3:.1f} "
                     f"| {v['median'] * 1e3:.1f} / {v['p95'] * 1e3:.1f} "
                     f"| {r['ratio_median']:.2f}x ({r['ratio_p95']:.2f}x) "
                     f"| <= {TARGETS['big']}x | {_ok(r['ratio_median'], TARGETS['big'])} |")
    lines += ["", "| # | N (item files) | `kalender reindex` (s) | items processed "
              "| peak RSS (MiB) | icalendar parse, same files (s) | peak RSS (MiB) "
              "| ratio | target | met | reindex again (s) |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["reindex"]:
        c, p, again = r["reindex"], r["icalendar_parse"], r.get("reindex_again")
        target = (f"<= {TARGETS['reindex']}x" if r["dataset"] == f"n{max(res['sizes'])}"
                  else "(info)")
        met = _ok(r["ratio"], TARGETS["reindex"]) if target != "(info)" else "-"
        label = f"{r['n']:,}" + (f" ({r['dataset']})" if r["dataset"].startswith("t") else "")
        lines.append(
            f"| 4 | {label} | {c['seconds']:.1f} | {c['items_processed']:,} "
            f"| {c['peak_rss_mib']:.0f} | {p['seconds']:.1f} | {p['peak_rss_mib']:.0f} "
            f"| {r['ratio']:.2f}x | {target} | {met} "
            f"| {again['seconds']:.1f} |" if again else
            f"| 4 | {label} | {c['seconds']:.1f} | {c['items_processed']:,} "
            f"| {c['peak_rss_mib']:.0f} | {p['seconds']:.1f} | {p['peak_rss_mib']:.0f} "
            f"| {r['ratio']:.2f}x | {target} | {met} | - |")
    return "\n".join(lines)


def update_readme(text: str) -> None:
    readme = BENCH / "README.md"
    if not readme.exists():
        return
    body = readme.read_text(encoding="utf-8")
    if README_BEGIN in body and README_END in body:
        head, rest = body.split(README_BEGIN, 1)
        _, tail = rest.split(README_END, 1)
        readme.write_text(f"{head}{README_BEGIN}\n{text}\n{README_END}{tail}", encoding="utf-8")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000,50000")
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--big-target", type=int, default=10000,
                   help="events in the target calendar for benchmark 3 (0 = skip)")
    p.add_argument("--workdir", default="/tmp/kalender-bench")
    p.add_argument("--reindex-twice", action="store_true",
                   help="run kalender reindex a second time (benchmark 4)")
    p.add_argument("--keep", action="store_true", help="keep the generated datasets")
    p.add_argument("--no-readme", action="store_true")
    args = p.parse_args()
    began = time.perf_counter()
    workdir = Path(args.workdir)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    res: dict[str, object] = {"machine": machine(), "reps": args.reps, "sizes": sizes,
                              "put": [], "reindex": [], "big": None, "phases": {}}
    phases: dict[str, float] = res["phases"]  # type: ignore[assignment]
    jobs = [(f"n{n}", n, 1000, ("single", "weekly")) for n in sizes]
    if args.big_target:
        jobs.append((f"t{args.big_target}", args.big_target, args.big_target, ("single",)))
    for name, n, target_count, kinds in jobs:
        t0 = time.perf_counter()
        log(f"{name}: generating {n} events ({min(n, target_count)} in the target)")
        ds = make_dataset(workdir, name, n, target_count)
        t1 = time.perf_counter()
        log(f"{name}: reindex, icalendar baseline" + (", reindex again" if args.reindex_twice
                                                      else ""))
        rx = bench_reindex.bench(ds, again=args.reindex_twice)
        res["reindex"].append(rx)  # type: ignore[attr-defined]
        log(f"{name}: reindex {rx['reindex']['seconds']:.1f} s, icalendar "
            f"{rx['icalendar_parse']['seconds']:.1f} s")
        t2 = time.perf_counter()
        vanilla_copy(ds)
        t3 = time.perf_counter()
        log(f"{name}: PUT benchmarks {kinds} x {args.reps}")
        put = bench_put.bench(ds, kinds, args.reps, workdir / "logs")
        if name.startswith("t"):
            res["big"] = put
        else:
            res["put"].append(put)  # type: ignore[attr-defined]
        t4 = time.perf_counter()
        phases[name] = {"generate": t1 - t0, "reindex_bench": t2 - t1, "vanilla_copy": t3 - t2,
                        "put_bench": t4 - t3}  # type: ignore[assignment]
        for kind in kinds:
            log(f"{name}: {kind} ratio {put[kind]['ratio_median']:.2f}x")  # type: ignore[index]
        if not args.keep:
            shutil.rmtree(workdir / name, ignore_errors=True)
    res["total_seconds"] = time.perf_counter() - began
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(res, indent=1), encoding="utf-8")
    text = table(res)
    (out / "latest.md").write_text(text + "\n", encoding="utf-8")
    if not args.no_readme:
        update_readme(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
