"""Shared helpers: servers as subprocesses on free loopback ports, HTTP, statistics."""

from __future__ import annotations

import contextlib
import math
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests
from data import KALENDER, Dataset

BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
PROPFIND_ETAGS = (b'<?xml version="1.0" encoding="utf-8"?>'
                  b'<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """One running server: its base URL and an authenticated keep-alive session."""

    name: str  # "kalender" | "vanilla"
    url: str
    proc: subprocess.Popen[bytes]
    session: requests.Session

    def request(self, method: str, path: str, **kw: object) -> requests.Response:
        return self.session.request(method, self.url + path, timeout=600, **kw)  # type: ignore[arg-type]


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}); see {log}")
        try:
            requests.options(url + "/", timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} not ready after {limit} s; see {log}")


def _start(name: str, args: list[str], ds: Dataset, log: Path, port: int) -> Server:
    with log.open("ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log)
    except BaseException:
        stop(proc)
        raise
    session = requests.Session()
    session.auth = (ds.login, ds.password)
    return Server(name, url, proc, session)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server we started (by pid), SIGKILL after 10 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextlib.contextmanager
def servers(ds: Dataset, logdir: Path) -> Iterator[tuple[Server, Server]]:
    """(kalender, vanilla) for ``ds``, both stopped on exit."""
    logdir.mkdir(parents=True, exist_ok=True)
    started: list[Server] = []
    try:
        port = free_port()
        started.append(_start("kalender", [KALENDER, "serve", ds.root, "--port", str(port)],
                              ds, logdir / f"{ds.name}-kalender.log", port))
        port = free_port()
        started.append(_start("vanilla", [PYTHON, str(BENCH / "vanilla_server.py"),
                                          str(Path(ds.vanilla) / "config"), str(port)],
                              ds, logdir / f"{ds.name}-vanilla.log", port))
        yield started[0], started[1]
    finally:
        for s in started:
            s.session.close()
            stop(s.proc)


def warm(server: Server, collection: str) -> float:
    """PROPFIND Depth 1 of the calendar (loads every item into Radicale's item cache)."""
    began = time.perf_counter()
    r = server.request("PROPFIND", collection, data=PROPFIND_ETAGS,
                       headers={"Depth": "1", "Content-Type": "application/xml"})
    if r.status_code != 207:
        raise RuntimeError(f"{server.name}: PROPFIND {collection} -> {r.status_code}")
    return time.perf_counter() - began


def warm_both(servers_: Sequence[Server], collection: str) -> dict[str, float]:
    """warm() on every server at once (one thread each: a cold 10k calendar takes ~30 s)."""
    with ThreadPoolExecutor(len(servers_)) as pool:
        seconds = list(pool.map(lambda s: warm(s, collection), servers_))
    return {s.name: round(t, 3) for s, t in zip(servers_, seconds, strict=True)}


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p95 of 15 samples = the 15th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "p95": percentile(values, 95),
            "min": min(values), "max": max(values), "n": len(values)}
