"""Shared fixtures: a real deployment made by the CLI, served by waitress on a free port."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from waitress import wasyncore

from kalender.admin import cli, cmd_accounts
from kalender.admin.serve import make_app, start_notifier
from kalender.dav import gate
from kalender.deployment import Deployment
from kalender.notify.channel import POSTED
from kalender.registry import User
from kalender.web.app import WebApp

PASSWORD = "rahasia-kediri-1"

#: The accounts every server test can use: login -> (role, OPD ids).
ACCOUNTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pic-x": ("pic", ("dinkes",)),
    "pic-y": ("pic", ("dinsos",)),
    "pic-xz": ("pic", ("dinkes", "diskominfo")),
    "pimpinan-a": ("pimpinan", ()),
    "admin-a": ("admin", ()),
    "sync-a": ("sync", ()),
}


@dataclass
class LiveServer:
    """A deployment served over HTTP on 127.0.0.1."""

    dep: Deployment
    url: str

    def request(self, login: str | None, method: str, path: str,
                password: str = PASSWORD, **kw: object) -> requests.Response:
        """One request as ``login`` (anonymous when None)."""
        auth = (login, password) if login is not None else None
        kw.setdefault("timeout", 30)
        return requests.request(method, self.url + path, auth=auth,
                                **kw)  # type: ignore[arg-type]


def make_deployment(root: Path, accounts: dict[str, tuple[str, tuple[str, ...]]] = ACCOUNTS,
                    auth_delay: float | None = 0.02) -> Deployment:
    """``kalender init`` plus the given accounts.

    Radicale delays every 401/403 answer by ``[auth] delay`` (1 s by default);
    the shared test deployment shortens it so the rights matrix runs quickly.
    Tests of the delay itself pass ``auth_delay=None``.
    """
    assert cli.main(["init", str(root)]) == 0
    dep = Deployment(root)
    if auth_delay is not None:
        text = dep.config.read_text("utf-8")
        dep.config.write_text(text.replace("\ndelay = 1\n", f"\ndelay = {auth_delay}\n"),
                              encoding="utf-8")
    for login, (role, opds) in accounts.items():
        cmd_accounts.add_user(dep, User(login, role, opds), PASSWORD)
    return dep


KALENDER = [sys.executable, "-m", "kalender.admin.cli"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """``kalender serve`` as a real process on a free port (waits until it answers)."""

    def __init__(self, dep: Deployment, capture: bool = False) -> None:
        self.dep = dep
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        out = subprocess.PIPE if capture else subprocess.DEVNULL
        self.proc = subprocess.Popen([*KALENDER, "serve", str(dep.root), "--port",
                                      str(self.port)], stdout=out, stderr=subprocess.STDOUT,
                                     text=True)
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.url + "/publik/agenda/", timeout=5)
                return
            except requests.RequestException:  # not listening yet, or slow on a loaded machine
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop(signal.SIGKILL)
                    raise RuntimeError("kalender serve did not start") from None
                time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> str:
        """Stop (or kill) the process; its output when captured."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, _ = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # never leave a server behind; the test fails below
            self.proc.communicate(timeout=30)
            raise
        return out or ""


def serve_in_thread(dep: Deployment) -> Iterator[LiveServer]:
    """Serve ``dep`` with waitress in a thread until the generator is closed."""
    app = make_app(dep)
    server = gate.create_server(WebApp(app), host="127.0.0.1", port=0, threads=8)
    stop = threading.Event()
    notifier = start_notifier(app, stop)  # Bentrok calendars and mail, as under serve

    def run() -> None:
        # the loop sees its sockets closed by server.close() at teardown
        with contextlib.suppress(OSError, ValueError):
            server.run()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield LiveServer(dep, f"http://127.0.0.1:{server.effective_port}")
    finally:
        stop.set()
        POSTED.set()  # the notifier sees the stop now, not at its next pass
        server.close()
        thread.join(timeout=5)
        # waitress's close() leaves the task threads waiting (and their thread-local
        # SQLite connections open): a long session would pile up hundreds of them
        server.task_dispatcher.shutdown(timeout=5)
        wasyncore.close_all(server._map)  # the clients' open keep-alive channels
        if notifier is not None:
            notifier.join(timeout=10)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One deployment with every role, served for the whole test session."""
    dep = make_deployment(tmp_path_factory.mktemp("deploy") / "kediri")
    yield from serve_in_thread(dep)


def event_ics(uid: str, start: str = "20301202T090000", end: str = "20301202T110000",
              summary: str = "Rapat Koordinasi", location: str = "",
              extra: str = "") -> str:
    """A minimal VEVENT in Asia/Jakarta (RFC 5545 §3.6.1)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//tests//ID",
             "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20300101T000000Z",
             f"DTSTART;TZID=Asia/Jakarta:{start}", f"DTEND;TZID=Asia/Jakarta:{end}",
             f"SUMMARY:{summary}"]
    if location:
        lines.append(f"LOCATION:{location}")
    if extra:
        lines.extend(extra.strip().splitlines())
    lines += ["END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)
