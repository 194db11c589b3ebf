"""What ``kalender serve`` prints: a short summary, one line per change or failure, no secrets."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import requests

from kalender import upgrade
from kalender.deployment import Deployment
from tests.conftest import PASSWORD, ServeProcess, event_ics, make_deployment
from tests.test_upgrade import unpack

WRONG = "salah-sandi-sekali-7"
TOKEN = "Zq8yH3kP0vR7wT1nB5mC9xL2dF6gJ4sA"  # a private-link-like secret (32 characters)
SOON = (dt.date.today() + dt.timedelta(days=3)).strftime("%Y%m%d")  # inside the public feed


def with_options(dep: Deployment, logging_level: str | None = None) -> Deployment:
    """Poll every 0.5 s (many idle sync passes in a short test); optionally a log level."""
    text = dep.config.read_text("utf-8").replace(
        "[storage]\n", "[storage]\nkalender_sync_poll_seconds = 0.5\n")
    if logging_level is not None:
        text = text.replace("\nlevel = warning\n", f"\nlevel = {logging_level}\n")
    dep.config.write_text(text, "utf-8")
    return dep


def put(url: str, login: str, path: str, body: str, password: str = PASSWORD
        ) -> requests.Response:
    return requests.put(url + path, data=body.encode("utf-8"), auth=(login, password),
                        headers={"Content-Type": "text/calendar; charset=utf-8"}, timeout=30)


def wait_for_feed(url: str, title: str) -> None:
    """Until the sync service has copied the event ``title`` into the public agenda."""
    for _ in range(300):
        if f"SUMMARY:{title}" in requests.get(url + "/publik/agenda/", timeout=10).text:
            return
        time.sleep(0.1)
    raise AssertionError(f"{title} never reached the public agenda")


def exercise(server: ServeProcess) -> None:
    """One accepted PUT, one refused, one bad password, a challenge, secrets in URLs."""
    meeting = event_ics("log-a", f"{SOON}T090000", f"{SOON}T110000", location="Ruang Joyoboyo",
                        summary="Rapat Log")
    assert put(server.url, "pic-x", "/opd/dinkes/a.ics", meeting).status_code == 201
    clash = event_ics("log-b", f"{SOON}T100000", f"{SOON}T120000", location="Ruang Joyoboyo",
                      summary="Rapat Bentrok")
    assert put(server.url, "pic-y", "/opd/dinsos/b.ics", clash).status_code == 403
    wait_for_feed(server.url, "Rapat Log")
    assert put(server.url, "pic-x", "/opd/dinkes/c.ics", meeting, WRONG).status_code == 401
    assert requests.request("PROPFIND", server.url + "/opd/dinkes/", timeout=10
                            ).status_code == 401  # the challenge before a client logs in
    assert put(server.url, "pic-x", f"/opd/dinsos/d.ics?token={TOKEN}", meeting
               ).status_code == 403
    assert requests.get(f"{server.url}/publik/agenda/{TOKEN}/x.ics", auth=("pic-x", PASSWORD),
                        timeout=10).status_code >= 400


def test_serve_logs_a_summary_and_one_line_per_change_or_failure(tmp_path: Path) -> None:
    dep = with_options(make_deployment(tmp_path / "kediri"))
    server = ServeProcess(dep, capture=True)
    try:
        time.sleep(3)  # idle: about six sync passes, each reading every OPD calendar
        exercise(server)
    finally:
        out = server.stop()
    lines = out.splitlines()
    ready = next(i for i, line in enumerate(lines) if "melayani" in line)
    startup = "\n".join(lines[:ready])
    assert ready <= 4, startup
    assert f"{len(dep.opds())} OPD" in startup and "7 akun" in startup
    assert "sync aktif" in startup and "level = info" in startup
    assert str(dep.root) in lines[ready] and f":{server.port}/" in lines[ready]
    assert not [line for line in lines if "REPORT" in line or "PROPFIND" in line]
    assert not [line for line in lines if "[INFO]" in line or "Successful login" in line]
    assert not [line for line in lines if "[WARNING]" in line], out  # each said once, below
    for expected in ("PUT /opd/dinkes/a.ics pic-x 127.0.0.1 201 Created ",
                     "PUT /opd/dinsos/b.ics pic-y 127.0.0.1 403 Jadwal Bentrok ",
                     "PUT /opd/dinkes/c.ics pic-x 127.0.0.1 401 ",
                     "PUT /opd/dinsos/d.ics pic-x 127.0.0.1 403 ",  # no query string
                     "GET /publik/agenda/***/x.ics pic-x 127.0.0.1 4"):  # token masked
        assert sum(f" {expected}" in line for line in lines) == 1, (expected, out)
    passes = [line for line in lines if "sync: " in line]
    assert passes and all("salinan ditulis" in line for line in passes), out
    assert len(passes) <= 2, out  # passes that wrote something; idle passes say nothing
    secret = (dep.root / "sync.secret").read_text("utf-8").strip().split(":", 1)[1]
    for hidden in (PASSWORD, WRONG, secret, TOKEN, "token="):
        assert hidden not in out
    assert len(lines) <= 16, out


def test_level_info_brings_radicale_details_back(tmp_path: Path) -> None:
    dep = with_options(make_deployment(tmp_path / "kediri"), logging_level="info")
    server = ServeProcess(dep, capture=True)
    try:
        meeting = event_ics("log-v", location="Ruang Kilisuci")
        assert put(server.url, "pic-x", "/opd/dinkes/v.ics", meeting).status_code == 201
    finally:
        out = server.stop()
    assert "Successful login: 'pic-x'" in out and "storage type is" in out
    assert " PUT /opd/dinkes/v.ics pic-x 127.0.0.1 201 Created " in out
    assert "log rinci Radicale mati" not in out
    assert PASSWORD not in out


def test_upgrade_turns_the_generated_info_level_down_once(tmp_path: Path) -> None:
    old = unpack("main-24ffd88.tar.gz", tmp_path)
    assert "[logging]\nlevel = info\n" in old.config.read_text("utf-8")
    done = upgrade.upgrade(old)
    assert any("[logging]" in line for line in done)
    text = old.config.read_text("utf-8")
    assert "\nlevel = warning\n" in text and "\nlevel = info\n" not in text
    assert "`info` brings back Radicale's detailed log" in text
    # the admin asks for the details again: the next start keeps them
    old.config.write_text(text.replace("\nlevel = warning\n", "\nlevel = info\n"), "utf-8")
    assert upgrade.upgrade(old) == []
    assert "\nlevel = info\n" in old.config.read_text("utf-8")
