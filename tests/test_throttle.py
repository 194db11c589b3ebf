"""Failed logins are throttled without holding a worker (issue 7, item 7).

The throttle itself is tested with plain numbers for the clock; the server
tests run a real deployment whose ``[auth] delay`` is Radicale's 1 s (or more),
so a worker that still slept would show as a timeout, never as a timing
assertion (timings are printed; bench/ measures them).
"""

from __future__ import annotations

import datetime as dt
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import requests

from kalender.dav.throttle import Admission, Limits, Throttle, address_key
from tests.conftest import PASSWORD, LiveServer, event_ics, make_deployment, serve_in_thread

K = "{urn:x-kalender-opd:}"


# -- the throttle, with numbers --------------------------------------------------
def test_login_blocked_after_limit_then_window_slides() -> None:
    """The limit-th failure blocks; Retry-After counts to when the oldest leaves the window."""
    t = Throttle(Limits(per_login=3, per_address=0, window=100))
    for now in (0, 10, 20):
        assert t.retry_after("10.0.0.1", "pic-x", now) == 0
        t.failed("10.0.0.1", "pic-x", now)
    assert t.retry_after("10.0.0.9", "pic-x", 21) == 79  # any address: the login is blocked
    assert t.retry_after("10.0.0.1", "pic-y", 21) == 0   # another login is not
    assert t.retry_after("10.0.0.1", "PIC-X", 21) == 79  # logins are case-insensitive
    assert t.retry_after("10.0.0.1", "pic-x", 99.5) == 1
    assert t.retry_after("10.0.0.1", "pic-x", 100) == 0  # the failure at 0 left the window
    t.failed("10.0.0.1", "pic-x", 100)  # 10, 20, 100: three in the window again
    assert t.retry_after("10.0.0.1", "pic-x", 101) == 9


def test_running_checks_count_toward_the_limit() -> None:
    """Checks still running count: 3 guesses in flight fill a limit of 3 at once."""
    t = Throttle(Limits(per_login=3, per_address=0, window=100, max_checks=0))
    assert all(t.begin("10.0.0.1", "pic-x", 0).allowed for _ in range(3))
    assert t.begin("10.0.0.2", "pic-x", 0) == Admission(False, 1)
    t.end("10.0.0.1", "pic-x", True, 5)
    assert t.begin("10.0.0.2", "pic-x", 6) == Admission(False, 1)  # 1 failed + 2 running
    t.end("10.0.0.1", "pic-x", False, 7)  # the right password: not a failure
    t.end("10.0.0.1", "pic-x", True, 8)
    assert t.begin("10.0.0.2", "pic-x", 9).allowed  # failures at 5 and 8: one free
    assert t.begin("10.0.0.2", "pic-x", 9) == Admission(False, 1)  # ... now running
    t.end("10.0.0.2", "pic-x", True, 10)
    assert t.begin("10.0.0.2", "pic-x", 10) == Admission(False, 95)  # 5 + 100 - 10


def test_checks_at_once_capped_after_a_failure() -> None:
    """A clean address runs any number of checks at once; after a failure, max_checks."""
    t = Throttle(Limits(per_login=0, per_address=30, window=100, max_checks=2))
    assert all(t.begin("10.0.0.1", f"user{i}", 0).allowed for i in range(6))  # an office
    for i in range(6):
        t.end("10.0.0.1", f"user{i}", i == 0, 1)  # one of them mistyped
    assert t.begin("10.0.0.1", "a", 2).allowed and t.begin("10.0.0.1", "b", 2).allowed
    assert t.begin("10.0.0.1", "c", 2) == Admission(False, 1)
    assert t.begin("10.0.0.2", "c", 2).allowed  # another address is not concerned
    t.end("10.0.0.1", "a", False, 3)
    assert t.begin("10.0.0.1", "c", 3).allowed


def test_checks_at_once_capped_per_login() -> None:
    """One login gets max_checks checks at once, failed before or not."""
    t = Throttle(Limits(per_login=10, per_address=0, window=100, max_checks=2))
    assert t.begin("a", "pic-x", 0).allowed and t.begin("b", "pic-x", 0).allowed
    assert t.begin("c", "pic-x", 0) == Admission(False, 1)
    assert t.begin("c", "pic-y", 0).allowed


def test_address_blocked_for_every_login() -> None:
    """Many logins guessed from one address block that address, not others."""
    t = Throttle(Limits(per_login=0, per_address=4, window=60))
    for i in range(4):
        t.failed("192.0.2.7", f"user{i}", float(i))
    assert t.retry_after("192.0.2.7", "someone-else", 5) == 60 - 5
    assert t.retry_after("192.0.2.8", "someone-else", 5) == 0


def test_ipv6_counts_by_64_network() -> None:
    """Rotating addresses inside one /64 does not escape the address count."""
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    t = Throttle(Limits(per_login=0, per_address=2, window=60))
    t.failed("2001:db8:1:2::1", "a", 0)
    t.failed("2001:db8:1:2::abcd", "b", 1)
    assert t.retry_after("2001:db8:1:2:dead::beef", "c", 2) == 58


def test_zero_disables_a_count() -> None:
    """A limit of 0 never blocks and keeps nothing."""
    t = Throttle(Limits(per_login=0, per_address=0, window=60))
    for i in range(100):
        t.failed("10.0.0.1", "pic-x", float(i))
    assert t.retry_after("10.0.0.1", "pic-x", 100) == 0
    assert t.sizes() == (0, 0)


def test_memory_is_bounded() -> None:
    """Keys are capped (oldest activity dropped first); expired keys are dropped on the way."""
    t = Throttle(Limits(per_login=3, per_address=3, window=60, max_keys=50))
    for i in range(10_000):
        t.failed(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", f"login-{i}", i / 1000)
    assert t.sizes() == (50, 50)
    t.failed("10.255.0.1", "late", 1000.0)  # everything else expired long ago
    assert t.sizes() == (1, 1)
    # a login under attack keeps its block while many others come and go
    t = Throttle(Limits(per_login=2, per_address=0, window=60, max_keys=10))
    t.failed("a", "victim", 0)
    t.failed("a", "victim", 1)
    for i in range(100):
        assert t.retry_after("a", "victim", 2 + i / 10) > 0
        t.failed("b", f"other-{i}", 2 + i / 10)
    assert t.retry_after("a", "victim", 15) > 0


def test_counts_are_exact_under_threads() -> None:
    """16 threads failing at once: every failure is counted exactly once."""
    t = Throttle(Limits(per_login=10_000, per_address=0, window=1e9))

    def fail() -> None:
        for _ in range(500):
            t.failed("10.0.0.1", "pic-x", 1.0)

    threads = [threading.Thread(target=fail) for _ in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert t.retry_after("10.0.0.1", "pic-x", 2.0) == 0  # 8000 < 10000
    for _ in range(2000):
        t.failed("10.0.0.1", "pic-x", 1.0)
    assert t.retry_after("10.0.0.1", "pic-x", 2.0) > 0


# -- the server ---------------------------------------------------------------------
ACCOUNTS = {"pic-x": ("pic", ("dinkes",)), "pic-y": ("pic", ("dinsos",)),
            "pic-z": ("pic", ("diskominfo",))}


@pytest.fixture
def slow_auth(tmp_path: Path) -> Iterator[LiveServer]:
    """A deployment with Radicale's own 1 s ``[auth] delay`` (the shipped default)."""
    dep = make_deployment(tmp_path / "d", ACCOUNTS, auth_delay=None)
    yield from serve_in_thread(dep)


def _is_throttle_answer(r: requests.Response) -> bool:
    """A 429 with Retry-After and the DAV:error of kalender.dav.answers."""
    if r.status_code != 429:
        return False
    root = ET.fromstring(r.content)
    message = root.find(f"{K}message")
    return (int(r.headers["Retry-After"]) > 0 and root.tag == "{DAV:}error"
            and root.find(f"{K}login-throttled") is not None and message is not None
            and "tunggu" in (message.text or ""))


def test_password_flood_gets_429_and_spares_others(slow_auth: LiveServer) -> None:
    """16 threads guessing pic-x's password: 429s; the public feed and pic-y keep working."""
    srv = slow_auth
    url = srv.url
    # pic-z logged in before the flood: its remembered credentials keep working
    assert srv.request("pic-z", "PROPFIND", "/opd/diskominfo/", headers={"Depth": "0"}
                       ).status_code == 207
    stop = threading.Event()
    guesses: list[requests.Response] = []
    reads: list[tuple[int, float]] = []
    lock = threading.Lock()

    def guess(n: int) -> None:
        with requests.Session() as s:
            for i in range(6):
                r = s.request("PROPFIND", url + "/opd/dinkes/", auth=("pic-x", f"salah-{n}-{i}"),
                              headers={"Depth": "0"}, timeout=60)
                with lock:
                    guesses.append(r)

    def read() -> None:
        with requests.Session() as s:
            while not stop.is_set():
                start = time.monotonic()
                r = s.get(url + "/publik/agenda/", timeout=60)
                with lock:
                    reads.append((r.status_code, time.monotonic() - start))

    reader = threading.Thread(target=read)
    reader.start()
    started = time.monotonic()
    guessers = [threading.Thread(target=guess, args=(n,)) for n in range(16)]
    for th in guessers:
        th.start()
    for th in guessers:
        th.join()
    flood = time.monotonic() - started
    stop.set()
    reader.join()
    statuses = [r.status_code for r in guesses]
    times = [t for _, t in reads]
    print(f"\nflood of {len(guesses)} guesses took {flood:.2f} s: "
          f"{statuses.count(401)} x 401, {statuses.count(429)} x 429; anonymous feed "
          f"{len(reads)} reads, median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms")
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) <= 10  # the limit counts the checks in flight
    assert all(_is_throttle_answer(r) for r in guesses if r.status_code == 429)
    assert reads and {s for s, _ in reads} == {200}
    # pic-x itself is blocked for new logins, even with the right password...
    assert _is_throttle_answer(srv.request("pic-x", "PROPFIND", "/opd/dinkes/",
                                           headers={"Depth": "0"}))
    # ... another login is not, nor a device whose credentials already succeeded
    assert srv.request("pic-y", "PROPFIND", "/opd/dinsos/", headers={"Depth": "0"}
                       ).status_code == 207
    assert srv.request("pic-z", "PROPFIND", "/opd/diskominfo/", headers={"Depth": "0"}
                       ).status_code == 207


@pytest.fixture
def very_slow_auth(tmp_path: Path) -> Iterator[LiveServer]:
    """``[auth] delay = 30``: a refusal that still slept would outlast the client's timeout."""
    dep = make_deployment(tmp_path / "d", ACCOUNTS, auth_delay=30)
    yield from serve_in_thread(dep)


def test_refusals_are_not_delayed(very_slow_auth: LiveServer) -> None:
    """A clash 403 to a logged-in PIC, a rights 403 and a wrong password answer at once."""
    srv = very_slow_auth
    day = (dt.date.today() + dt.timedelta(days=60)).strftime("%Y%m%d")
    booked = event_ics(str(uuid.uuid4()), f"{day}T090000", f"{day}T110000",
                       location="Ruang Joyoboyo")
    r = srv.request("pic-x", "PUT", f"/opd/dinkes/{uuid.uuid4()}.ics", data=booked,
                    headers={"Content-Type": "text/calendar"})
    assert r.status_code == 201, r.text
    clash = event_ics(str(uuid.uuid4()), f"{day}T100000", f"{day}T120000",
                      location="Ruang Joyoboyo")
    timings = []
    for login, path, body, status in (
            ("pic-y", f"/opd/dinsos/{uuid.uuid4()}.ics", clash, 403),   # clash
            ("pic-y", f"/opd/dinkes/{uuid.uuid4()}.ics", booked, 403),  # not its OPD
    ):
        start = time.monotonic()
        r = requests.put(srv.url + path, data=body, auth=(login, PASSWORD), timeout=10,
                         headers={"Content-Type": "text/calendar"})
        timings.append(time.monotonic() - start)
        assert r.status_code == status
        assert ET.fromstring(r.content).find(f"{K}message") is not None
    start = time.monotonic()
    r = requests.request("PROPFIND", srv.url + "/opd/dinkes/", auth=("pic-x", "salah"),
                         headers={"Depth": "0"}, timeout=10)
    timings.append(time.monotonic() - start)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    print("\nclash 403, rights 403, wrong password 401: "
          + ", ".join(f"{t * 1000:.0f} ms" for t in timings))
