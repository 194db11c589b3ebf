"""bench_city.py's compressed hour: subscribers' conditional GETs and the PICs' writes."""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from bench_feed import IDENTITY, public_event
from common import summary
from data import Dataset
from feed.servers import LEADERS, PIMPINAN, PUBLIC
from feed.under_load import largest_venues

Auth = tuple[str, str] | None


def poller_process(polls: list[tuple[float, str, Auth, str]], ready: object,
                   go: object, queue: object) -> None:
    """The subscribers: each (offset s, url, auth, etag) is one conditional GET at that moment."""
    results: list[tuple[int, float, int]] = []
    lock = threading.Lock()

    def one(url: str, auth: Auth, etag: str) -> None:
        began = time.perf_counter()
        try:
            r = requests.get(url, auth=auth, timeout=120,
                             headers={**IDENTITY, **({"If-None-Match": etag} if etag else {})})
            row = (r.status_code, time.perf_counter() - began, len(r.content))
        except requests.RequestException:
            row = (0, time.perf_counter() - began, 0)
        with lock:
            results.append(row)

    ready.set()  # type: ignore[attr-defined]
    go.wait(120)  # type: ignore[attr-defined]
    start = time.monotonic()
    with ThreadPoolExecutor(32) as pool:
        for offset, url, auth, etag in sorted(polls, key=lambda p: p[0]):
            time.sleep(max(0.0, start + offset - time.monotonic()))
            pool.submit(one, url, auth, etag)
    by: dict[str, list[float]] = {}
    for status, secs, _ in results:
        by.setdefault(str(status), []).append(secs)
    queue.put({"count": len(results), "bytes": sum(r[2] for r in results),  # type: ignore[attr-defined]
               "by_status": {k: summary(v) | {"count": len(v)} for k, v in by.items()}})


def pic_writer(url: str, opd: str, auth: tuple[str, str], moments: list[float], start: float,
               days: list[dt.date], out: list[dict[str, float]]) -> None:
    """One PIC: a PUT of a new public event at each moment, then wait until it is public."""
    s, anon = requests.Session(), requests.Session()
    s.auth = auth
    etag = anon.get(url + PUBLIC, headers=IDENTITY, timeout=120).headers.get("ETag", "")
    for moment, day in zip(moments, days, strict=True):
        time.sleep(max(0.0, start + moment - time.monotonic()))
        uid = f"bench-city-{uuid.uuid4().hex[:12]}"
        marker = f"Bench Kota {opd} {uid[-8:]}"
        began = time.perf_counter()
        r = s.put(f"{url}/opd/{opd}/{uid}.ics", data=public_event(uid, day, marker),
                  headers={"Content-Type": "text/calendar; charset=utf-8",
                           "If-None-Match": "*"}, timeout=300)
        put_s = time.perf_counter() - began
        if r.status_code != 201:
            raise RuntimeError(f"{opd}: PUT -> {r.status_code}: {r.text[:300]}")
        accepted, visible = time.perf_counter(), None
        while time.perf_counter() - accepted < 120:
            g = anon.get(url + PUBLIC, headers={**IDENTITY, "If-None-Match": etag}, timeout=120)
            if g.status_code == 200:
                etag = g.headers.get("ETag", etag)
                if marker.encode() in g.content:
                    visible = time.perf_counter() - accepted
                    break
            time.sleep(0.25)
        out.append({"put": put_s, "visible": visible if visible is not None else 120.0})


def city_hour(kal: str, ds: Dataset, pics: dict[str, tuple[str, str]],
              args: argparse.Namespace) -> dict[str, object]:
    """The compressed hour: subscribers' polls (other process) and the PICs' writes."""
    rng = random.Random(7)
    venues = largest_venues(ds)
    urls: list[tuple[str, Auth]] = [(kal + PUBLIC, None), (kal + LEADERS, PIMPINAN)]
    urls += [(f"{kal}/ruang/{v}/", PIMPINAN) for v in venues]
    etags = {u: requests.get(u, auth=a, headers=IDENTITY, timeout=120).headers.get("ETag", "")
             for u, a in urls}
    polls = []
    for i in range(args.subscribers):
        u, a = (urls[0] if i % 5 < 3 else urls[1] if i % 5 == 3
                else urls[2 + i % max(1, len(venues))] if venues else urls[0])
        polls.append((rng.uniform(0, args.hour_seconds), u, a, etags[u]))
    ctx = mp.get_context("spawn")
    ready, go, queue = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=poller_process, args=(polls, ready, go, queue))
    proc.start()
    ready.wait(60)
    today = dt.date.fromisoformat(ds.today)
    rows: list[dict[str, float]] = []
    start = time.monotonic()
    go.set()
    threads = []
    for k, (opd, auth) in enumerate(pics.items()):
        moments = sorted(rng.uniform(0, args.hour_seconds * 0.9) for _ in range(args.puts_per_pic))
        # inside the default public feed window (publish.py: 7 days back, 60 ahead)
        days = [today + dt.timedelta(days=1 + (k * args.puts_per_pic + j) % 50)
                for j in range(args.puts_per_pic)]
        threads.append(threading.Thread(target=pic_writer, args=(kal, opd, auth, moments,
                                                                 start, days, rows)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    polled = queue.get(timeout=args.hour_seconds + 300)
    proc.join(timeout=60)
    return {"window_s": time.monotonic() - start, "polls": polled,
            "put": summary([r["put"] for r in rows]),
            "visible": summary([r["visible"] for r in rows]), "venues": venues}


def rss(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out
