"""Servers, constants and the measured PUT shared by the feed benchmarks."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests
from common import BENCH, PYTHON, Server, _start, free_port, stop
from data import KALENDER, VANILLA_CONFIG, Dataset, event_ics

SECRET = "sync.secret"
PIMPINAN = ("pimpinan-bench", "rahasia-pimpinan-1")
PUBLIC = "/publik/agenda/"
LEADERS = "/pimpinan/agenda/"
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
    from kalender_sync.served import Served

    src = Path(ds.root) / "collections/collection-root"
    dst = vdir / "collections/collection-root"
    shutil.copytree(src / f"opd/{ds.target}", dst / f"opd/{ds.target}",
                    copy_function=shutil.copy2)
    # the merged public collection: its props, and its copies as item files (Kalender OPD
    # serves them from sync.db, kalender.dav.outputs)
    (dst / "publik/agenda").mkdir(parents=True)
    shutil.copy2(src / "publik/agenda/.Radicale.props", dst / "publik/agenda/.Radicale.props")
    for copy in Served(Path(ds.root) / "sync.db").copies("publik/agenda"):
        (dst / "publik/agenda" / copy.href).write_text(copy.text, encoding="utf-8",
                                                        newline="")
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
