"""Faults with real server processes: racing writers across processes, kill -9 mid-write."""

from __future__ import annotations

import datetime as dt
import random
import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from kalender.admin import cli
from kalender.deployment import Deployment
from tests.conftest import PASSWORD, ServeProcess, make_deployment

SLOT = (dt.date.today() + dt.timedelta(days=40)).strftime("%Y%m%d")
OPDS = ("dinkes", "dinsos", "disdik", "dishub", "bappeda", "diskominfo")


def event(uid: str, start: str, end: str, location: str = "Ruang Joyoboyo") -> bytes:
    """One event at ``location`` on SLOT."""
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kalender OPD//tests//ID\r\n"
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n"
            f"DTSTART;TZID=Asia/Jakarta:{SLOT}T{start}\r\nDTEND;TZID=Asia/Jakarta:{SLOT}T{end}\r\n"
            f"SUMMARY:Rapat {uid}\r\nLOCATION:{location}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            ).encode()


@pytest.fixture
def dep(tmp_path: Path) -> Deployment:
    """A deployment with one PIC per OPD in OPDS."""
    return make_deployment(tmp_path / "kediri",
                           {f"pic-{o}": ("pic", (o,)) for o in OPDS})


@pytest.fixture
def servers(dep: Deployment) -> Iterator[list[ServeProcess]]:
    """Three server processes on one deployment (one lock file, one index)."""
    started = [ServeProcess(dep) for _ in range(3)]
    yield started
    for s in started:
        s.stop()


def test_racing_writers_across_processes(dep: Deployment, servers: list[ServeProcess]) -> None:
    """18 clients, 3 processes, one venue slot: exactly one write succeeds."""
    def attempt(n: int) -> int:
        opd = OPDS[n % len(OPDS)]
        url = servers[n % len(servers)].url
        r = requests.put(f"{url}/opd/{opd}/race-{n}.ics", data=event(f"race-{n}", "090000",
                                                                      "110000"),
                         auth=(f"pic-{opd}", PASSWORD), timeout=60,
                         headers={"Content-Type": "text/calendar"})
        return r.status_code

    with ThreadPoolExecutor(max_workers=18) as pool:
        statuses = list(pool.map(attempt, range(18)))
    assert sorted(statuses) == [201] + [403] * 17
    stored = list((dep.collections / "collection-root/opd").glob("*/race-*.ics"))
    assert len(stored) == 1
    assert cli.main(["verify", "--dir", str(dep.root)]) == 0


def test_kill_9_mid_write_loses_no_acknowledged_write(dep: Deployment) -> None:
    """SIGKILL during a stream of writes, restart: acknowledged events kept, verify passes."""
    acked: list[tuple[str, str]] = []
    rng = random.Random(7)
    minute = 0
    for _round in range(3):
        server = ServeProcess(dep)
        stop = threading.Event()

        def writer(srv: ServeProcess = server, stop: threading.Event = stop) -> None:
            nonlocal minute
            while not stop.is_set():
                opd = OPDS[minute % len(OPDS)]
                start = f"{(minute // 60) % 24:02d}{minute % 60:02d}00"
                end = f"{(minute // 60) % 24:02d}{minute % 60:02d}30"
                name = f"k{uuid.uuid4().hex[:10]}"
                minute += 1
                try:
                    r = requests.put(f"{srv.url}/opd/{opd}/{name}.ics",
                                     data=event(name, start, end, "Ruang Kilisuci"),
                                     auth=(f"pic-{opd}", PASSWORD), timeout=10)
                except requests.RequestException:
                    return
                if r.status_code == 201:
                    acked.append((opd, name))

        thread = threading.Thread(target=writer)
        before = len(acked)
        thread.start()
        deadline = time.monotonic() + 30
        while len(acked) < before + 5 and time.monotonic() < deadline:
            time.sleep(0.01)  # let some writes through, however loaded the machine is
        time.sleep(rng.random() * 0.05)  # then kill at a random point of a write
        server.stop(signal.SIGKILL)
        stop.set()
        thread.join(timeout=20)
    assert len(acked) > 5
    server = ServeProcess(dep)  # restart: repairs interrupted writes before serving
    try:
        for opd, name in acked:
            r = requests.get(f"{server.url}/opd/{opd}/{name}.ics",
                             auth=(f"pic-{opd}", PASSWORD), timeout=10)
            assert r.status_code == 200, (opd, name)
        # the index knows every acknowledged booking: the same slot is refused
        opd, name = acked[-1]
        body = (dep.collections / f"collection-root/opd/{opd}/{name}.ics").read_bytes()
        clash = body.replace(name.encode(), b"other-" + name.encode())
        r = requests.put(f"{server.url}/opd/{opd}/other-{name}.ics", data=clash,
                         auth=(f"pic-{opd}", PASSWORD), timeout=10)
        assert r.status_code == 403
    finally:
        server.stop()
    assert cli.main(["verify", "--dir", str(dep.root)]) == 0


def test_interrupted_import_is_repaired_at_start(dep: Deployment) -> None:
    """A whole-calendar write cut short leaves a '*' marker; the next start re-reads it."""
    server = ServeProcess(dep)
    try:
        for n in range(3):
            r = requests.put(f"{server.url}/opd/dinkes/imp-{n}.ics",
                             data=event(f"imp-{n}", f"1{n}0000", f"1{n}3000", "Ruang Kilisuci"),
                             auth=("pic-dinkes", PASSWORD), timeout=10)
            assert r.status_code == 201
    finally:
        server.stop(signal.SIGKILL)
    # what a kill between the storage rename and the index commit leaves behind
    db = sqlite3.connect(dep.database)
    db.execute("DELETE FROM items WHERE collection = 'opd/dinkes'")
    db.execute("DELETE FROM slots WHERE collection = 'opd/dinkes'")
    db.execute("INSERT INTO pending VALUES ('opd/dinkes', '*')")
    db.commit()
    db.close()
    assert cli.main(["verify", "--dir", str(dep.root)]) == 1
    server = ServeProcess(dep)
    try:
        r = requests.put(f"{server.url}/opd/dinsos/imp-x.ics",
                         data=event("imp-x", "100000", "103000", "R. Kilisuci"),
                         auth=("pic-dinsos", PASSWORD), timeout=10)
        assert r.status_code == 403  # the repaired index knows imp-0 again
    finally:
        server.stop()
    assert cli.main(["verify", "--dir", str(dep.root)]) == 0
