"""Item 5: PIC writes under 20 reader threads (in a separate process), and idle."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import threading
import time
import uuid
from pathlib import Path

import requests
from common import Server, summary
from data import Dataset

from feed.profiling import start_spy, stop_spy
from feed.servers import IDENTITY, LEADERS, PIMPINAN, PUBLIC, log, put_event


def _reader(url: str, auth: tuple[str, str] | None, stop_: threading.Event,
            deadline: float, stats: dict[str, list[float]], errors: list[str],
            conditional: bool = False) -> None:
    """Loop GETs of ``url``; ``conditional``: with If-None-Match, as a subscriber's app polls."""
    s = requests.Session()
    if auth:
        s.auth = auth
    etag = ""
    try:
        while not stop_.is_set() and time.monotonic() < deadline:
            began = time.perf_counter()
            headers = {**IDENTITY, "If-None-Match": etag} if conditional and etag else IDENTITY
            try:
                r = s.get(url, headers=headers, timeout=120)
                _ = r.content
                if conditional and r.status_code == 304:
                    stats.setdefault(url + " 304", []).append(time.perf_counter() - began)
                    continue
                etag = r.headers.get("ETag", "")
                if r.status_code != 200:
                    errors.append(f"{url}: {r.status_code}")
                    time.sleep(0.1)
                    continue
            except requests.RequestException as e:
                errors.append(f"{url}: {type(e).__name__}")
                time.sleep(0.1)
                continue
            stats.setdefault(url, []).append(time.perf_counter() - began)
    finally:
        s.close()


def reader_process(plan: list[tuple[str, tuple[str, str] | None]], stop_ev: object,
                   ready: object, queue: object, max_seconds: float,
                   conditional: bool = False) -> None:
    """20 reader threads in one process until ``stop_ev``; puts their stats on ``queue``."""
    local_stop = threading.Event()
    stats: dict[str, list[float]] = {}
    errors: list[str] = []
    deadline = time.monotonic() + max_seconds
    threads = [threading.Thread(target=_reader, args=(url, auth, local_stop, deadline, stats,
                                                      errors, conditional), daemon=True)
               for url, auth in plan]
    for t in threads:
        t.start()
    ready.set()  # type: ignore[attr-defined]
    stop_ev.wait(max_seconds)  # type: ignore[attr-defined]
    local_stop.set()
    for t in threads:
        t.join(timeout=150)
    queue.put({"stats": {u: summary(v) | {"count": len(v)} for u, v in stats.items() if v},  # type: ignore[attr-defined]
               "errors": errors[:20], "error_count": len(errors)})


def put_series(server: Server, ds: Dataset, reps: int, first_day: int, timeout: float,
               gap: float = 0.5, give_up_after: int = 0) -> dict[str, object]:
    """``reps`` timed PUTs ``gap`` s apart after one untimed one; with ``give_up_after``,
    stop after that many consecutive timeouts (a starved writer: the rest not attempted)."""
    today = dt.date.fromisoformat(ds.today)
    collection = f"/opd/{ds.target}/"
    put_event(server, collection, today + dt.timedelta(days=first_day + reps), "Bench Awal",
              timeout)  # untimed: first write of the series
    times, timeouts, streak = [], 0, 0
    for i in range(reps):
        t, late = put_event(server, collection, today + dt.timedelta(days=first_day + i),
                            f"Bench Tulis {i} {uuid.uuid4().hex[:8]}", timeout)
        times.append(t)
        timeouts += late
        streak = streak + 1 if late else 0
        if give_up_after and streak >= give_up_after:
            break
        time.sleep(gap)
    return summary(times) | {"timeouts": timeouts, "attempted": len(times), "planned": reps,
                             "samples": [round(x, 4) for x in times]}


def under_load(server: Server, ds: Dataset, plan: list[tuple[str, tuple[str, str] | None]],
               reps: int, first_day: int, timeout: float, give_up_after: int = 0,
               spy: str | None = None, spy_out: Path | None = None,
               conditional: bool = False) -> dict[str, object]:
    ctx = mp.get_context("spawn")
    stop_ev, ready, queue = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=reader_process, args=(plan, stop_ev, ready, queue,
                                                    reps * (timeout + 1) + 120, conditional))
    proc.start()
    try:
        ready.wait(60)
        time.sleep(3)  # readers in full swing
        recorder = start_spy(spy, server, spy_out) if spy and spy_out else None
        began = time.perf_counter()
        try:
            puts = put_series(server, ds, reps, first_day, timeout, give_up_after=give_up_after)
        finally:
            window = time.perf_counter() - began
            if recorder:
                stop_spy(recorder)
    finally:
        stop_ev.set()
    readers = queue.get(timeout=300)
    proc.join(timeout=60)
    if proc.is_alive():
        proc.kill()
    readers["gets_per_s"] = round(sum(v["count"] for v in readers["stats"].values())
                                  / (window + 3), 1)
    return {"put": puts, "readers": readers}


def largest_venues(ds: Dataset, k: int = 3) -> list[str]:
    folder = Path(ds.root) / "feeds"
    metas = []
    for meta in folder.glob("ruang-*.json"):
        metas.append((json.loads(meta.read_text())["length"], meta.stem[len("ruang-"):]))
    return [v for _, v in sorted(metas, reverse=True)[:k]]


def reader_plans(kal: Server, van: Server, ds: Dataset
                 ) -> tuple[list[tuple[str, tuple[str, str] | None]],
                            list[tuple[str, tuple[str, str] | None]]]:
    """20 readers: Kalender (10 public anonymous, 5 leaders, 5 venues) and vanilla."""
    venues = largest_venues(ds)
    kplan: list[tuple[str, tuple[str, str] | None]] = [(kal.url + PUBLIC, None)] * 10
    kplan += [(kal.url + LEADERS, PIMPINAN)] * 5
    kplan += [(f"{kal.url}/ruang/{venues[i % len(venues)]}/", PIMPINAN) for i in range(5)]
    vplan: list[tuple[str, tuple[str, str] | None]] = [
        (van.url + PUBLIC, (ds.login, ds.password))] * 20
    return kplan, vplan


def bench_load(kal: Server, van: Server, ds: Dataset, args: argparse.Namespace,
               first_day: int, spy_dir: Path) -> dict[str, object]:
    reps, timeout = args.reps, args.put_timeout
    kplan, vplan = reader_plans(kal, van, ds)
    out: dict[str, object] = {"venues": largest_venues(ds)}
    log("  5: kalender PUTs without readers")
    out["kal_idle"] = put_series(kal, ds, reps, first_day, timeout)
    time.sleep(2)
    log("  5: kalender PUTs under 20 readers")
    out["kal_load"] = under_load(kal, ds, kplan, reps, first_day + reps + 1, timeout,
                                 spy=args.spy, spy_out=spy_dir / f"load-{ds.n}.txt")
    time.sleep(2)
    log("  5: kalender PUTs under 20 readers polling with If-None-Match")
    out["kal_load_conditional"] = under_load(kal, ds, kplan, reps, first_day + 2 * reps + 2,
                                             timeout, conditional=True)
    time.sleep(2)
    vreps = min(reps, args.van_load_reps)
    log("  5: vanilla PUTs without readers")
    out["van_idle"] = put_series(van, ds, reps, first_day, timeout)
    log(f"  5: vanilla PUTs under 20 readers (up to {vreps}, {timeout:.0f} s cap)")
    out["van_load"] = under_load(van, ds, vplan, vreps, first_day + reps + 1, timeout,
                                 give_up_after=3)
    k0, k1 = out["kal_idle"]["p95"], out["kal_load"]["put"]["p95"]  # type: ignore[index]
    out["kal_load_ratio_p95"] = k1 / k0
    out["kal_load_conditional_ratio_p95"] = (
        out["kal_load_conditional"]["put"]["p95"] / k0)  # type: ignore[index]
    return out
