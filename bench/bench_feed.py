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
   capped at ``--put-timeout`` seconds (a timeout counts as that many seconds).

Each result is a ratio against vanilla (or against item 1) from the same run, never a timed
assertion. Writes ``bench/results/feed-latest.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import datetime as dt
import gzip
import http.client
import json
import multiprocessing as mp
import os
import pickle
import pstats
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import requests
from common import BENCH, PYTHON, Server, _start, free_port, stop, summary
from data import KALENDER, VANILLA_CONFIG, Dataset, event_ics, make_dataset

SECRET = "sync.secret"
PIMPINAN = ("pimpinan-bench", "rahasia-pimpinan-1")
PUBLIC = "/publik/agenda/"
LEADERS = "/pimpinan/agenda/"
TARGETS = {"get_ratio": 50.0, "get304_ratio": 500.0, "visible_p95_s": 2.0,
           "resync_fraction": 0.05, "put_p95_s": 1.0, "put_load_ratio": 2.0}
IDENTITY = {"Accept-Encoding": "identity"}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(args: list[str], stdin: str | None = None) -> float:
    began = time.perf_counter()
    proc = subprocess.run(args, input=stdin, text=True, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - began


# -- servers -----------------------------------------------------------------------------
def start_kalender(ds: Dataset, logdir: Path, with_sync: bool) -> Server:
    """``kalender serve`` on a free port; without its sync thread when ``with_sync`` is False
    (the secret is hidden only while the server starts: it is read once, at start)."""
    secret = Path(ds.root) / SECRET
    hidden = secret.with_name(SECRET + ".bench-hidden")
    port = free_port()
    if not with_sync:
        secret.rename(hidden)
    try:
        return _start("kalender", [KALENDER, "serve", ds.root, "--port", str(port)], ds,
                      logdir / f"{ds.name}-kalender.log", port)
    finally:
        if not with_sync:
            hidden.rename(secret)


def start_vanilla(ds: Dataset, logdir: Path) -> Server:
    port = free_port()
    return _start("vanilla", [PYTHON, str(BENCH / "vanilla_server.py"),
                              str(Path(ds.vanilla) / "config"), str(port)],
                  ds, logdir / f"{ds.name}-vanilla.log", port)


def close(server: Server) -> None:
    server.session.close()
    stop(server.proc)


def vanilla_feed_copy(ds: Dataset) -> None:
    """Vanilla folder with the merged public collection and the target OPD calendar
    (files, props and item cache copied with their mtimes)."""
    vdir = Path(ds.vanilla)
    if vdir.exists():
        shutil.rmtree(vdir)
    src = Path(ds.root) / "collections/collection-root"
    dst = vdir / "collections/collection-root"
    for rel in ("publik/agenda", f"opd/{ds.target}"):
        shutil.copytree(src / rel, dst / rel, copy_function=shutil.copy2)
    for rel in ("publik", "opd"):  # parent collections' props, if any
        props = src / rel / ".Radicale.props"
        if props.exists():
            shutil.copy2(props, dst / rel / ".Radicale.props")
    (vdir / "config").write_text(VANILLA_CONFIG.format(dir=vdir), encoding="utf-8")
    (vdir / "users.htpasswd").write_text(f"{ds.login}:{ds.password}\n", encoding="utf-8")


# -- events -------------------------------------------------------------------------------
def public_event(uid: str, day: dt.date, summary_: str) -> bytes:
    """A public one-hour event at 21:00 WIB (data events end by 20:00; no venue/person, so
    the guard finds no clash and the copy goes to /publik and /pimpinan only)."""
    start = dt.datetime.combine(day, dt.time(21, 0))
    return event_ics(uid, start, start + dt.timedelta(hours=1), summary_, None,
                     "Kegiatan terbuka untuk umum", organizer="DINKES").encode()


def put_event(server: Server, collection: str, day: dt.date, summary_: str,
              timeout: float = 600) -> tuple[float, bool]:
    """Timed PUT (If-None-Match: *) of a new event; (seconds, timed_out)."""
    uid = f"bench-feed-{uuid.uuid4().hex[:12]}"
    headers = {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"}
    began = time.perf_counter()
    try:
        r = server.session.put(f"{server.url}{collection}{uid}.ics",
                               data=public_event(uid, day, summary_), headers=headers,
                               timeout=timeout)
    except requests.Timeout:
        return timeout, True
    elapsed = time.perf_counter() - began
    if r.status_code != 201:
        raise RuntimeError(f"{server.name}: PUT -> {r.status_code} {r.reason}: {r.text[:300]}")
    return elapsed, False


# -- 1 and 4: sync passes ------------------------------------------------------------------
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


def top_functions(profile: Path, n: int = 12) -> list[dict[str, object]]:
    """The ``n`` functions with the largest cumulative time (file:function, seconds)."""
    st = pstats.Stats(str(profile))
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        rows.append({"where": f"{_short(file)}:{line}:{func}", "calls": nc,
                     "tottime": round(tt, 3), "cumtime": round(ct, 3)})
    by_cum = sorted(rows, key=lambda r: -r["cumtime"])[:n]  # type: ignore[operator]
    by_tot = sorted(rows, key=lambda r: -r["tottime"])[:n]  # type: ignore[operator]
    return [{"by": "cumtime", **r} for r in by_cum] + [{"by": "tottime", **r} for r in by_tot]


def _short(file: str) -> str:
    for marker in ("site-packages/", "/work/main/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


# -- 2: feed GETs ------------------------------------------------------------------------
class Client:
    """A keep-alive http.client connection (less client overhead than requests: the
    304 answer takes about a millisecond, so the client's own cost matters)."""

    def __init__(self, base: str, auth: tuple[str, str] | None = None) -> None:
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
        self.auth = {}
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            self.auth = {"Authorization": f"Basic {token}"}

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.conn.request("GET", path, headers={**self.auth, **headers})
        r = self.conn.getresponse()
        body = r.read()
        if r.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body

    def close(self) -> None:
        self.conn.close()


def timed_get(client: Client, path: str, headers: dict[str, str],
              expect: int = 200) -> tuple[float, int, bytes, dict[str, str]]:
    """(seconds, bytes on the wire, body, headers) of one GET, body read completely."""
    began = time.perf_counter()
    status, hdrs, body = client.get(path, headers)
    elapsed = time.perf_counter() - began
    if status != expect:
        raise RuntimeError(f"GET {path} -> {status}, expected {expect}")
    return elapsed, len(body), body, hdrs


def bench_get(kal: Server, van: Server, ds: Dataset, reps: int, van_reps: int
              ) -> dict[str, object]:
    anon = Client(kal.url)
    vc = Client(van.url, (ds.login, ds.password))
    out: dict[str, object] = {}
    try:
        _, _, feed, hdrs = timed_get(anon, PUBLIC, IDENTITY)
        etag = hdrs["etag"]
        _, _, full, _ = timed_get(anon, PUBLIC + "?penuh=1", IDENTITY)
        out["feed_bytes"] = len(feed)
        out["feed_gzip_bytes"] = len(gzip.compress(feed, 6))
        out["feed_events"] = feed.count(b"BEGIN:VEVENT")
        out["full_bytes"] = len(full)
        out["full_gzip_bytes"] = len(gzip.compress(full, 6))
        out["full_events"] = full.count(b"BEGIN:VEVENT")
        cases = {
            "kal_feed": (PUBLIC, IDENTITY, 200),
            "kal_full": (PUBLIC + "?penuh=1", IDENTITY, 200),
            "kal_304": (PUBLIC, {**IDENTITY, "If-None-Match": etag}, 304),
            "kal_gzip": (PUBLIC, {"Accept-Encoding": "gzip"}, 200),
        }
        times: dict[str, list[float]] = {k: [] for k in cases}
        wire: dict[str, int] = {}
        for name, (path, h, code) in cases.items():
            timed_get(anon, path, h, code)  # untimed warm-up
            for _ in range(reps):
                t, size, _, _ = timed_get(anon, path, h, code)
                times[name].append(t)
                wire[name] = size
        # vanilla: one GET fills its item cache (untimed, reported), then measured
        first, _, body, _ = timed_get(vc, PUBLIC, IDENTITY)
        out["van_first_get_s"] = first
        out["van_bytes"] = len(body)
        out["van_events"] = body.count(b"BEGIN:VEVENT")
        times["van_get"] = [timed_get(vc, PUBLIC, IDENTITY)[0] for _ in range(van_reps)]
        times["van_gzip"] = []
        for _ in range(max(1, van_reps // 2)):
            t, size, _, _ = timed_get(vc, PUBLIC, {"Accept-Encoding": "gzip"})
            times["van_gzip"].append(t)
            wire["van_gzip"] = size
        out["wire_bytes"] = wire
        t = {k: summary(v) for k, v in times.items()}
        out["times"] = t
        v = t["van_get"]["median"]
        out["ratio_feed"] = v / t["kal_feed"]["median"]
        out["ratio_full"] = v / t["kal_full"]["median"]
        out["ratio_304"] = v / t["kal_304"]["median"]
        out["ratio_gzip"] = t["van_gzip"]["median"] / t["kal_gzip"]["median"]
    finally:
        anon.close()
        vc.close()
    return out


# -- 3: PUT -> visible ------------------------------------------------------------------
def bench_visible(kal: Server, ds: Dataset, reps: int, first_day: int,
                  limit: float = 120) -> dict[str, object]:
    anon = requests.Session()
    today = dt.date.fromisoformat(ds.today)
    collection = f"/opd/{ds.target}/"
    samples, puts, polls = [], [], []
    try:
        etag = anon.get(kal.url + PUBLIC, headers=IDENTITY, timeout=60).headers.get("ETag", "")
        for i in range(reps):
            marker = f"Bench Publik {i} {uuid.uuid4().hex[:8]}"
            put_s, _ = put_event(kal, collection, today + dt.timedelta(days=first_day + i), marker)
            accepted = time.perf_counter()
            needle = marker.encode()
            n = 0
            while True:
                n += 1
                tick = time.perf_counter()
                r = anon.get(kal.url + PUBLIC, headers={**IDENTITY, "If-None-Match": etag},
                             timeout=60)
                if r.status_code == 200:
                    etag = r.headers.get("ETag", etag)
                    if needle in r.content:
                        break
                if tick - accepted > limit:
                    raise RuntimeError(f"event not visible after {limit} s")
                time.sleep(max(0.0, 0.02 - (time.perf_counter() - tick)))
            samples.append(time.perf_counter() - accepted)
            puts.append(put_s)
            polls.append(n)
            time.sleep(1.0)  # let the pass finish its remaining feeds
    finally:
        anon.close()
    return {"visible": summary(samples), "put": summary(puts), "polls_median":
            statistics.median(polls), "samples": [round(x, 3) for x in samples]}


# -- 5: writes under read load ------------------------------------------------------------
def _reader(url: str, auth: tuple[str, str] | None, stop_: threading.Event,
            deadline: float, stats: dict[str, list[float]], errors: list[str]) -> None:
    s = requests.Session()
    if auth:
        s.auth = auth
    try:
        while not stop_.is_set() and time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                r = s.get(url, headers=IDENTITY, timeout=120)
                _ = r.content
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
                   ready: object, queue: object, max_seconds: float) -> None:
    """20 reader threads in one process until ``stop_ev``; puts their stats on ``queue``."""
    local_stop = threading.Event()
    stats: dict[str, list[float]] = {}
    errors: list[str] = []
    deadline = time.monotonic() + max_seconds
    threads = [threading.Thread(target=_reader, args=(url, auth, local_stop, deadline, stats,
                                                      errors), daemon=True)
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
               spy: str | None = None, spy_out: Path | None = None) -> dict[str, object]:
    ctx = mp.get_context("spawn")
    stop_ev, ready, queue = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=reader_process, args=(plan, stop_ev, ready, queue,
                                                    reps * (timeout + 1) + 120))
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
    vreps = min(reps, args.van_load_reps)
    log("  5: vanilla PUTs without readers")
    out["van_idle"] = put_series(van, ds, reps, first_day, timeout)
    log(f"  5: vanilla PUTs under 20 readers (up to {vreps}, {timeout:.0f} s cap)")
    out["van_load"] = under_load(van, ds, vplan, vreps, first_day + reps + 1, timeout,
                                 give_up_after=3)
    k0, k1 = out["kal_idle"]["p95"], out["kal_load"]["put"]["p95"]  # type: ignore[index]
    out["kal_load_ratio_p95"] = k1 / k0
    return out


# -- profiling the server (optional: py-spy, a sampling profiler, outside this venv) -----
def start_spy(spy: str, server: Server, out: Path) -> subprocess.Popen[bytes]:
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([spy, "record", "-p", str(server.proc.pid), "-r", "100", "-f", "raw",
                             "--idle", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    return proc


def stop_spy(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(2)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()


IDLE_LEAVES = ("wait (threading", "select (selectors", "poll (waitress/wasyncore",
               "handler_thread (waitress/task", "_worker", "poll (selectors")


def spy_summary(path: Path, only: str = "", n: int = 25) -> dict[str, object]:
    """Inclusive share of each function (file:function) over the busy samples of py-spy's
    raw output (stacks holding ``only``, if given)."""
    import collections
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    if not path.exists():
        return {}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if only and only not in stack:
            continue
        if not only and any(m in frames[-1] for m in IDLE_LEAVES):
            continue
        total += int(count)
        for key in {f.rsplit(":", 1)[0] for f in frames}:
            incl[key] += int(count)
    # leave out the frames every sample shares (thread start, waitress, the WSGI wrappers)
    top = [(k, round(v / total * 100, 1)) for k, v in incl.most_common()
           if v < 0.97 * total][:n] if total else []
    return {"samples": total, "top": top}


# -- seeding (sizes above --real-sync-max) ----------------------------------------------
def seed_sync(ds: Dataset, url: str) -> dict[str, object]:
    """The state of a full rebuild without its N x ~3 HTTP round trips: the real
    ``SyncService.run_once`` (plan, transform, journal, feeds) with only its I/O replaced -
    sources read from the item files instead of caldav GETs, output copies written as item
    files instead of PUTs (sqlite ``synchronous = OFF``). The caller then reindexes, and
    ``finish_seed`` takes real sync tokens of the OPD calendars."""
    from radicale.item import get_etag

    from kalender.deployment import Deployment
    from kalender_sync.plan import Change
    from kalender_sync.service import SyncService
    from kalender_sync.source import _uid
    from kalender_sync.state import Output
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

    def apply(actions: list[Output], report: object) -> set[str]:
        touched = set()
        service.state.db.execute("BEGIN")
        for action in actions:
            service.state.intend(action)
            target = root / action.calendar / action.href
            if action.key is None:
                target.unlink(missing_ok=True)
            else:
                text = action.text or ""
                target.write_text(text, encoding="utf-8", newline="")
                history(target, text)
            service.state.done(action)
            touched.add(action.calendar)
        service.state.db.execute("COMMIT")
        return touched

    def history(target: Path, text: str) -> None:
        """The history entry Radicale's upload writes (radicale/storage/multifilesystem/
        history.py:_update_history_etag): [etag, hash(random + "/" + etag)]. Every later
        PUT into that calendar scans these entries, so they must be there."""
        folder = target.parent / ".Radicale.cache" / "history"
        folder.mkdir(parents=True, exist_ok=True)
        etag = get_etag(text)
        entry = [etag, get_etag(os.urandom(16).hex() + "/" + etag).strip('"')]
        (folder / target.name).write_bytes(pickle.dumps(entry))

    service.reader.changes = changes  # type: ignore[method-assign]
    service._apply = apply  # type: ignore[method-assign]
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
        res["visible"] = bench_visible(kal, ds, args.reps, first_day=60)
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


def extrapolate(sizes: list[dict]) -> None:  # type: ignore[type-arg]
    """Full rebuild time of seeded sizes from the measured ones: t = a*N + b*N^2 (Radicale
    scans the whole history folder of the collection on every PUT), or linear with one."""
    real = [(s["n"], s["full"]["seconds"]) for s in sizes if not s["seeded"]]
    for s in sizes:
        s["resync_fraction"] = None
    if not real:
        return
    if len(real) >= 2:
        (n1, t1), (n2, t2) = real[-2], real[-1]
        b = (t2 / n2 - t1 / n1) / (n2 - n1)
        a = t1 / n1 - b * n1
        if b < 0:
            a, b = t2 / n2, 0.0
    else:
        a, b = real[0][1] / real[0][0], 0.0
    for s in sizes:
        if s["seeded"]:
            n = s["n"]
            s["full"] = {"seconds": a * n + b * n * n,
                         "linear_seconds": real[-1][1] / real[-1][0] * n,
                         "estimated": True, "actions": s["seed"]["actions"],
                         "model": f"{a:.4g}*N + {b:.4g}*N^2"}
    for s in sizes:
        s["resync_fraction"] = s["resync"]["median"] / s["full"]["seconds"]


# -- report -----------------------------------------------------------------------------
def machine() -> dict[str, object]:
    import run as bench_run  # bench/run.py: machine info (read-only git)
    return bench_run.machine()


def _ms(x: float) -> str:
    return f"{x * 1e3:.1f}" if x < 10 else f"{x * 1e3:.0f}"


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def table(res: dict) -> str:  # type: ignore[type-arg]
    m = res["machine"]
    lines = [f"Machine: {m['nproc']} CPU ({m['cpu']}), Python {m['python']}, "
             f"Radicale {m['radicale']}, waitress {m['waitress']}, Linux {m['kernel']}; "
             f"code {m['commit']}; run {m['date']}, {res['reps']} reps, "
             f"total {res['total_seconds'] / 60:.1f} min.", "",
             "| # | measure | " + " | ".join(f"N = {s['n']:,}" for s in res["sizes"])
             + " | target |",
             "|---|---|" + "---|" * len(res["sizes"]) + "---|"]

    def row(num: str, label: str, fn, target: str = "") -> None:  # type: ignore[no-untyped-def]
        lines.append(f"| {num} | {label} | " + " | ".join(fn(s) for s in res["sizes"])
                     + f" | {target} |")

    T = TARGETS  # noqa: N806
    row("1", "full rebuild, `run_once` (s) [writes]",
        lambda s: "-" if "full" not in s else (
            f"~{s['full']['seconds'] / 60:.0f} min est. (linear: "
            f"{s['full']['linear_seconds'] / 60:.0f} min) [{s['full']['actions']:,}]"
                   if s["full"].get("estimated") else
                   f"{s['full']['seconds']:.1f} [{s['full']['actions']:,}]"), "(info)")
    row("2", "feed size: windowed / whole (KiB)",
        lambda s: f"{s['get']['feed_bytes'] / 1024:,.0f} / {s['get']['full_bytes'] / 1024:,.0f}",
        "windowed < 1 MiB")
    row("2", "feed gzip: windowed / whole (KiB)",
        lambda s: f"{s['get']['feed_gzip_bytes'] / 1024:,.0f} / "
                  f"{s['get']['full_gzip_bytes'] / 1024:,.0f}", "(info)")
    row("2", "events: windowed / whole / vanilla coll.",
        lambda s: f"{s['get']['feed_events']:,} / {s['get']['full_events']:,} / "
                  f"{s['get']['van_events']:,}", "(info)")
    row("2", "vanilla GET merged collection, median (ms)",
        lambda s: _ms(s["get"]["times"]["van_get"]["median"]), "")
    row("2", "GET /publik/agenda/ median (ms), vanilla ÷ it",
        lambda s: f"{_ms(s['get']['times']['kal_feed']['median'])}, "
                  f"**{s['get']['ratio_feed']:,.0f}x**", f">= {T['get_ratio']:.0f}x")
    row("2", "GET ?penuh=1 (same events) median (ms), ratio",
        lambda s: f"{_ms(s['get']['times']['kal_full']['median'])}, "
                  f"{s['get']['ratio_full']:,.0f}x", f">= {T['get_ratio']:.0f}x")
    row("2", "GET 304 (If-None-Match) median (ms), ratio",
        lambda s: f"{_ms(s['get']['times']['kal_304']['median'])}, "
                  f"**{s['get']['ratio_304']:,.0f}x**", f">= {T['get304_ratio']:.0f}x")
    row("2", "GET gzip median (ms): Kalender / vanilla, ratio",
        lambda s: f"{_ms(s['get']['times']['kal_gzip']['median'])} / "
                  f"{_ms(s['get']['times']['van_gzip']['median'])}, "
                  f"{s['get']['ratio_gzip']:,.0f}x", "(info)")
    row("3", "PUT -> visible in feed, median / p95 (s)",
        lambda s: f"{s['visible']['visible']['median']:.2f} / "
                  f"**{s['visible']['visible']['p95']:.2f}**", f"p95 <= {T['visible_p95_s']} s")
    row("4", "re-sync after 1 PUT, median (s), ÷ full",
        lambda s: f"{s['resync']['median']:.2f}, **{s['resync_fraction'] * 100:.1f}%**"
        if s["resync_fraction"] is not None else f"{s['resync']['median']:.2f}, -",
        f"<= {T['resync_fraction'] * 100:.0f}%")
    row("4", "re-sync as `serve` runs it (changed OPD only), median (s), ÷ full",
        lambda s: "-" if "resync_serve" not in s else (
            f"{s['resync_serve']['median']:.2f}"
            + (f", {s['resync_serve']['median'] / s['full']['seconds'] * 100:.2f}%"
               if s.get("full") else "")), "(info)")
    row("5", "Kalender PUT p95 (ms): idle / 20 readers",
        lambda s: f"{_ms(s['load']['kal_idle']['p95'])} / "
                  f"**{_ms(s['load']['kal_load']['put']['p95'])}**", "loaded <= 1000")
    row("5", "diag.: PUT p95 (ms) 20 readers, no sync thread",
        lambda s: _ms(s["load_nosync"]["put"]["p95"]), "(info)")
    row("5", "Kalender PUT p95 loaded ÷ idle",
        lambda s: f"**{s['load']['kal_load_ratio_p95']:.2f}x**", f"<= {T['put_load_ratio']}x")
    row("5", "Kalender readers: GETs/s [errors]",
        lambda s: f"{s['load']['kal_load']['readers']['gets_per_s']} "
                  f"[{s['load']['kal_load']['readers']['error_count']}]", "(info)")
    row("5", "vanilla PUT p95 (ms): idle / 20 readers [timeouts]",
        lambda s: f"{_ms(s['load']['van_idle']['p95'])} / "
                  f"{_ms(s['load']['van_load']['put']['p95'])} "
                  f"[{s['load']['van_load']['put']['timeouts']}/{s['load']['van_load']['put']['n']}]",
        "(info)")
    row("5", "vanilla readers: GETs/s [errors]",
        lambda s: f"{s['load']['van_load']['readers']['gets_per_s']} "
                  f"[{s['load']['van_load']['readers']['error_count']}]", "(info)")
    lines.append("")
    met = []
    for s in res["sizes"]:
        g, v, ld = s["get"], s["visible"], s["load"]
        checks = {"GET >= 50x": g["ratio_feed"] >= T["get_ratio"],
                  "304 >= 500x": g["ratio_304"] >= T["get304_ratio"],
                  "feed < 1 MiB": g["feed_bytes"] < 1024 * 1024,
                  "visible p95 <= 2 s": v["visible"]["p95"] <= T["visible_p95_s"],
                  "re-sync <= 5%": (s["resync_fraction"] or 1) <= T["resync_fraction"],
                  "PUT p95 <= 1 s": ld["kal_load"]["put"]["p95"] <= T["put_p95_s"],
                  "PUT p95 <= 2x idle": ld["kal_load_ratio_p95"] <= T["put_load_ratio"]}
        met.append(f"N = {s['n']:,}: " + ", ".join(f"{k} {_yes(ok)}" for k, ok in checks.items()))
    lines += ["Targets met: " + "; ".join(met) + "."]
    return "\n".join(lines)


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
