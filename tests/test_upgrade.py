"""Deployments upgrade in place: a folder made by an earlier main keeps working.

``tests/fixtures/deployments/main-24ffd88.tar.gz`` is a ``kalender init --demo``
deployment made by main at commit 24ffd88 (before the package was grouped by
concept), served once so that its sync state and feeds exist.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import requests

from kalender import upgrade
from kalender.admin import cli
from kalender.deployment import Deployment
from tests.conftest import ServeProcess

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
