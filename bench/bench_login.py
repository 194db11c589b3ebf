"""Failed-login throttling under ``kalender serve`` (issue 7, item 7), timed.

    /work/main/.venv/bin/python bench/bench_login.py [--guessers 16] [--guesses 20]

A deployment with the shipped config (``[auth] delay = 1``, which
``kalender serve`` no longer sleeps on) served by a real ``kalender serve``
process on a free loopback port. Prints:

1. a clash refusal (403 to a logged-in PIC) and a rights refusal: median / max
   of 10 each (targets: well under Radicale's 1 s delay);
2. the anonymous public feed's GET latency idle, then while ``--guessers``
   threads each send ``--guesses`` wrong passwords for one login (median /
   p95 / max), with the count of each status (401, 429, 503) and the flood's duration;
3. a login of another account with the right password during the flood.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.conftest import PASSWORD, ServeProcess, event_ics, make_deployment


def _ms(values: list[float]) -> str:
    """median / p95 / max in milliseconds."""
    ordered = sorted(values)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
    return (f"{statistics.median(ordered) * 1000:.0f} / {p95 * 1000:.0f} / "
            f"{ordered[-1] * 1000:.0f} ms")


def _timed(fn: object, *args: object, **kw: object) -> tuple[requests.Response, float]:
    start = time.monotonic()
    r = fn(*args, **kw)  # type: ignore[operator]
    return r, time.monotonic() - start


def main() -> None:
    """Run the three measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--guessers", type=int, default=16)
    parser.add_argument("--guesses", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dep = make_deployment(Path(tmp) / "d", {"pic-x": ("pic", ("dinkes",)),
                                                "pic-y": ("pic", ("dinsos",)),
                                                "pic-z": ("pic", ("diskominfo",))},
                              auth_delay=None)
        server = ServeProcess(dep)
        try:
            run(server.url, args.guessers, args.guesses)
        finally:
            server.stop()


def run(url: str, guessers: int, guesses: int) -> None:
    """The measurements against the server at ``url``."""
    pic_x, pic_y = requests.Session(), requests.Session()
    pic_x.auth, pic_y.auth = ("pic-x", PASSWORD), ("pic-y", PASSWORD)
    day = (dt.date.today() + dt.timedelta(days=60)).strftime("%Y%m%d")
    booked = event_ics(str(uuid.uuid4()), f"{day}T090000", f"{day}T110000",
                       location="Ruang Joyoboyo")
    assert pic_x.put(f"{url}/opd/dinkes/{uuid.uuid4()}.ics", data=booked, timeout=60,
                     headers={"Content-Type": "text/calendar"}).status_code == 201
    clash = event_ics(str(uuid.uuid4()), f"{day}T100000", f"{day}T120000",
                      location="Ruang Joyoboyo")
    for name, path, body in (("clash 403", "/opd/dinsos/", clash),
                             ("rights 403", "/opd/dinkes/", booked)):
        times = []
        for _ in range(10):
            r, t = _timed(pic_y.put, f"{url}{path}{uuid.uuid4()}.ics", data=body, timeout=60,
                          headers={"Content-Type": "text/calendar"})
            assert r.status_code == 403, r.status_code
            times.append(t)
        print(f"{name:<11} median / p95 / max: {_ms(times)}")

    feed = requests.Session()
    idle = [_timed(feed.get, f"{url}/publik/agenda/", timeout=60)[1] for _ in range(50)]
    print(f"feed idle   median / p95 / max: {_ms(idle)}")

    statuses: list[int] = []
    reads: list[float] = []
    stop = threading.Event()
    lock = threading.Lock()

    def guess(n: int) -> None:
        with requests.Session() as s:
            for i in range(guesses):
                r = s.request("PROPFIND", f"{url}/opd/dinkes/", auth=("pic-x", f"x{n}-{i}"),
                              headers={"Depth": "0"}, timeout=120)
                with lock:
                    statuses.append(r.status_code)

    def read() -> None:
        with requests.Session() as s:
            while not stop.is_set():
                _, t = _timed(s.get, f"{url}/publik/agenda/", timeout=120)
                with lock:
                    reads.append(t)

    reader = threading.Thread(target=read)
    reader.start()
    start = time.monotonic()
    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guessers)]
    for th in threads:
        th.start()
    r, other = _timed(requests.request, "PROPFIND", f"{url}/opd/diskominfo/",
                      auth=("pic-z", PASSWORD), headers={"Depth": "0"}, timeout=120)
    for th in threads:
        th.join()
    flood = time.monotonic() - start
    stop.set()
    reader.join()
    counts = ", ".join(f"{statuses.count(c)} x {c}" for c in sorted(set(statuses)))
    print(f"flood       {len(statuses)} guesses in {flood:.2f} s: {counts}")
    print(f"feed flood  median / p95 / max: {_ms(reads)} ({len(reads)} GETs)")
    print(f"pic-z login during the flood: {r.status_code} in {other * 1000:.0f} ms")


if __name__ == "__main__":
    main()
