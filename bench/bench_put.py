"""Benchmarks 1-3: PUT of a new event, Kalender OPD against vanilla Radicale 3.9.

Each repetition PUTs one new event (If-None-Match: *) with a registered venue
(``Ruang Joyoboyo``, no setup/teardown buffer) and a registered person
(``Narasumber: Wali Kota Kediri``) into the target calendar, at 21:00-22:00 WIB on a
distinct day (data events end by 20:00, so the slot is free), checks 201, then DELETEs
it (not timed). Kinds:

* ``single``: one event;
* ``weekly``: ``RRULE:FREQ=WEEKLY`` without COUNT (Kalender OPD expands it to its
  2-year horizon, ~100 occurrences, and checks every one).

Servers are measured interleaved (order alternates per repetition) so drift hits both.
Before timing: PROPFIND Depth 1 of the target calendar on both servers at once (fills
Radicale's item cache, cold after data.py) and one untimed PUT/DELETE each (auth cache,
imports).

Run alone against an existing dataset: ``python bench/bench_put.py WORKDIR/n1000``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import uuid
from pathlib import Path

from common import Server, servers, summary, warm_both
from data import Dataset, event_ics

KINDS = ("single", "weekly")


def measured_event(uid: str, day: dt.date, kind: str) -> str:
    start = dt.datetime.combine(day, dt.time(21, 0))
    return event_ics(uid, start, start + dt.timedelta(hours=1),
                     "Rapat Evaluasi Malam Bersama Wali Kota", "Ruang Joyoboyo",
                     "Narasumber: Wali Kota Kediri\nPeserta: Kepala OPD",
                     "FREQ=WEEKLY" if kind == "weekly" else None, organizer="DINKES")


def put_once(server: Server, collection: str, day: dt.date, kind: str) -> float:
    """Timed PUT of a new event, untimed DELETE; returns the PUT's seconds."""
    uid = f"bench-{kind}-{uuid.uuid4().hex[:12]}"
    path = f"{collection}{uid}.ics"
    body = measured_event(uid, day, kind).encode()
    headers = {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"}
    began = time.perf_counter()
    r = server.request("PUT", path, data=body, headers=headers)
    elapsed = time.perf_counter() - began
    if r.status_code != 201:
        raise RuntimeError(f"{server.name}: PUT {path} -> {r.status_code} {r.reason}: "
                           f"{r.text[:500]}")
    d = server.request("DELETE", path)
    if d.status_code not in (200, 204):
        raise RuntimeError(f"{server.name}: DELETE {path} -> {d.status_code}")
    return elapsed


def bench(ds: Dataset, kinds: tuple[str, ...], reps: int, logdir: Path,
          first_day_offset: int = 30) -> dict[str, object]:
    """Run ``reps`` measured PUTs of each kind on both servers; results by kind."""
    collection = f"/opd/{ds.target}/"
    today = dt.date.fromisoformat(ds.today)
    out: dict[str, object] = {"dataset": ds.name, "n": ds.n, "target_count": ds.target_count}
    with servers(ds, logdir) as (kal, van):
        out["warm_seconds"] = warm_both((kal, van), collection)
        for kind in kinds:
            for s in (kal, van):  # untimed first write of each kind
                put_once(s, collection, today + dt.timedelta(days=first_day_offset - 1), kind)
            times: dict[str, list[float]] = {"kalender": [], "vanilla": []}
            for i in range(reps):
                day = today + dt.timedelta(days=first_day_offset + i)
                order = (kal, van) if i % 2 == 0 else (van, kal)
                for s in order:
                    times[s.name].append(put_once(s, collection, day, kind))
            k, v = summary(times["kalender"]), summary(times["vanilla"])
            out[kind] = {"kalender": k, "vanilla": v,
                         "ratio_median": k["median"] / v["median"],
                         "ratio_p95": k["p95"] / v["p95"],
                         "samples": {n: [round(x, 4) for x in t] for n, t in times.items()}}
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", help="folder made by data.py (holds dataset.json)")
    p.add_argument("--reps", type=int, default=15)
    p.add_argument("--kinds", default=",".join(KINDS))
    args = p.parse_args()
    folder = Path(args.dataset)
    ds = Dataset(**json.loads((folder / "dataset.json").read_text()))
    if not Path(ds.vanilla).exists():
        sys.exit("no vanilla copy: run data.py --vanilla (or run.py)")
    result = bench(ds, tuple(args.kinds.split(",")), args.reps, folder / "logs")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
