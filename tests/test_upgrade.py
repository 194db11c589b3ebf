"""Deployments upgrade in place: a folder made by an earlier main keeps working.

``tests/fixtures/deployments/main-24ffd88.tar.gz`` is a ``kalender init --demo``
deployment made by main at commit 24ffd88 (before the package was grouped by
concept), served once so that its sync state and feeds exist.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import pytest
import requests

from kalender import database, upgrade
from kalender.admin import cli
from kalender.deployment import Deployment
from tests.conftest import KALENDER, ServeProcess, event_ics, make_deployment, serve_in_thread

FIXTURES = Path(__file__).parent / "fixtures" / "deployments"
OLD_ROOT = "/tmp/prevmain/deploy"


def unpack(name: str, target: Path) -> Deployment:
    """Unpack a deployment made by an earlier main at ``target``."""
    with tarfile.open(FIXTURES / name) as tar:
        tar.extractall(target, filter="data")
    root = target / "deploy"
    config = root / "config"
    config.write_text(config.read_text("utf-8").replace(OLD_ROOT, str(root)), "utf-8")
    return Deployment(root)


def stored_events(dep: Deployment) -> list[tuple[str, str]]:
    """(calendar, file) of every stored event of the OPD calendars."""
    opd = dep.collections / "collection-root" / "opd"
    return sorted((p.parent.name, p.read_text("utf-8")) for p in opd.glob("*/*.ics"))


@pytest.fixture
def old(tmp_path: Path) -> Deployment:
    """The deployment of main 24ffd88."""
    return unpack("main-24ffd88.tar.gz", tmp_path)


def test_upgrade_is_idempotent(old: Deployment) -> None:
    assert "type = kalender.storage" in old.config.read_text("utf-8")
    done = upgrade.upgrade(old)
    assert done
    text = old.config.read_text("utf-8")
    assert "type = kalender.dav.storage" in text and "type = kalender.storage" not in text
    assert upgrade.upgrade(old) == []


def test_old_deployment_serves_after_upgrade(old: Deployment) -> None:
    events_before = stored_events(old)
    assert events_before
    server = ServeProcess(old)
    try:
        r = requests.get(server.url + "/publik/agenda/", timeout=10)
        assert r.status_code == 200 and "BEGIN:VEVENT" in r.text
        r = requests.request("PROPFIND", server.url + "/opd/dinkes/", headers={"Depth": "1"},
                             auth=("kalender-sync", (old.root / "sync.secret").read_text()
                                   .strip().split(":", 1)[1]), timeout=10)
        assert r.status_code == 207 and r.text.count("<D:href>") > 1
    finally:
        server.stop()
    assert cli.main(["verify", "--dir", str(old.root)]) == 0
    events_after = stored_events(old)
    assert events_after == events_before


def test_private_flags_follow_the_visibility_rule(tmp_path: Path) -> None:
    """An index written before the one visibility rule no longer names private titles.

    Until 0.3 the index kept CLASS:X-RAHASIA (unknown: PRIVATE per RFC 5545
    §3.8.1.3) as public; the upgrade re-indexes such items once.
    """
    dep = make_deployment(tmp_path / "kediri")
    servers = serve_in_thread(dep)
    srv = next(servers)
    try:
        body = event_ics("rahasia@test", location="Ruang Kilisuci", summary="Operasi Senyap",
                         extra="CLASS:X-RAHASIA\nCATEGORIES:Rapat")
        r = srv.request("pic-x", "PUT", "/opd/dinkes/rahasia.ics", data=body.encode(),
                        headers={"Content-Type": "text/calendar"})
        assert r.status_code == 201, r.text
    finally:
        servers.close()
    db = database.connect(dep.database)
    with db:  # the index as the code before the rule wrote it
        db.execute("UPDATE slots SET private = 0")
        db.execute("DELETE FROM meta WHERE key = 'visibility_rule'")
    assert upgrade.upgrade(dep) == ["indeks: 1 jadwal kini dirahasiakan dalam jawaban bentrok"]
    assert db.execute("SELECT private FROM slots").fetchall() == [(1,)]
    assert upgrade.upgrade(dep) == []


def test_venue_coordinates_column_added(old: Deployment) -> None:
    """venues.csv gains the empty ``coordinates`` column; its rows stay byte for byte."""
    before = old.venues_csv.read_text("utf-8")
    header, rows = before.split("\n", 1)
    assert "coordinates" not in header
    assert all(v.coordinates is None for v in old.venues())  # the old file reads as it is
    done = upgrade.upgrade(old)
    assert any("kolom coordinates" in line for line in done), done
    fixed = rows
    for row, new in upgrade.SHIPPED_VENUE_FIXES.items():  # the 0.3 step's own change
        fixed = fixed.replace(row + "\n", new + "\n")
    assert old.venues_csv.read_text("utf-8") == header + ",coordinates\n" + fixed
    assert upgrade.upgrade(old) == []
    assert cli.main(["venue", "set", "ruang-joyoboyo", "--koordinat", "-7.8166,112.0119",
                     "--dir", str(old.root)]) == 0
    assert {v.id: v.coordinates for v in old.venues()}["ruang-joyoboyo"] == (-7.8166, 112.0119)
    assert upgrade.upgrade(old) == []


def test_venue_coordinates_header_keeps_crlf(old: Deployment) -> None:
    """A venues.csv saved by a spreadsheet (CRLF) keeps its line ends."""
    upgrade.upgrade(old)  # the 0.3 step first: it rewrites with LF
    text = old.venues_csv.read_text("utf-8").replace(",coordinates\n", "\n", 1)
    text = text.replace("\n", "\r\n")
    old.venues_csv.write_bytes(text.encode("utf-8"))
    upgrade.upgrade(old)
    after = old.venues_csv.read_bytes().decode("utf-8")
    assert after.split("\r\n", 1)[0].endswith(",parent,coordinates")
    assert after.count("\r\n") == text.count("\r\n") and "\r\r" not in after
    assert len(old.venues()) == text.count("\r\n") - 1


def test_outputs_move_into_sync_db(tmp_path: Path) -> None:
    """main 7a54394 wrote the output calendars as files; now sync.db serves the same copies.

    ``main-7a54394.tar.gz`` is ``kalender init --demo`` made by that main and served once
    (its sync wrote 273 copies by CalDAV PUT).
    """
    dep = unpack("main-7a54394.tar.gz", tmp_path)
    root = dep.collections / "collection-root"
    before = {c: sorted(p.name for p in (root / c).glob("*.ics"))
              for c in ("publik/agenda", "pimpinan/agenda", "ruang/ruang-kilisuci")}
    assert all(before.values())
    events_before = stored_events(dep)
    done = upgrade.upgrade(dep)
    assert any("dilayani dari sync.db" in line for line in done), done
    assert upgrade.upgrade(dep) == []
    assert not list(root.glob("publik/agenda/*.ics")) + list(root.glob("ruang/*/*.ics"))
    assert (root / "pimpinan" / "agenda" / ".Radicale.props").is_file()
    login, password = (dep.root / "sync.secret").read_text().strip().split(":", 1)
    secret = dep.root / "sync.secret"
    secret.rename(dep.root / "sync.secret.hidden")  # a server without its sync thread
    try:
        server = ServeProcess(dep)
    finally:
        (dep.root / "sync.secret.hidden").rename(secret)
    try:
        for calendar, names in before.items():
            r = requests.request("PROPFIND", f"{server.url}/{calendar}/",
                                 headers={"Depth": "1"}, auth=(login, password), timeout=30)
            assert r.status_code == 207
            served = sorted(set(re.findall(r"/([0-9a-f]+\.ics)</D:href>", r.text)))
            assert served == names, calendar
            r = requests.get(f"{server.url}/{calendar}/{names[0]}", auth=(login, password),
                             timeout=30)
            assert r.status_code == 200 and "BEGIN:VEVENT" in r.text
        # every source planned again finds every copy as it is: no phantom update
        db = sqlite3.connect(dep.root / "sync.db")
        db.execute("DELETE FROM tokens")
        db.commit()
        db.close()
        result = subprocess.run([*KALENDER, "sync", "--once", "--dry-run", "--dir",
                                 str(dep.root), "--url", server.url],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "\n0 perubahan" in "\n" + result.stdout.splitlines()[-1], result.stdout[-2000:]
    finally:
        server.stop()
    assert stored_events(dep) == events_before
    assert cli.main(["verify", "--dir", str(dep.root)]) == 0
