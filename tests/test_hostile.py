"""The hostile corpus (issue 7): every row refused cleanly, nothing written, the server alive.

The rows are ``tests.hostile_cases.CASES``; ``bench/hostile.py`` times the same
rows. Each runs against a real ``kalender serve`` process (a segfault shows as a
dead process, a hang as a request timeout), one process per group of rows,
replaced when a row kills or hangs it. For every row:

* the answer: the row's 4xx, a DAV:error (RFC 4918 §16) with a precondition and a
  ``<K:message xml:lang="id">`` sentence (``tests.hostile_client.problems``);
* nothing written: the files under ``collections/`` and the index rows of
  ``kalender.db`` are unchanged, and ``kalender verify`` passes;
* the server alive, storing another OPD's normal PUT.

No timed assertions: ``TIMEOUT`` only bounds a hang, it measures nothing.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kalender.admin import cli
from kalender.deployment import Deployment
from tests.conftest import ACCOUNTS, PASSWORD, ServeProcess, event_ics, make_deployment
from tests.hostile_cases import ATTACKER, CASES, OTHER, OWN, Case
from tests.hostile_client import problems, send

#: Seconds a row may take before it counts as a hang (generous: the target is 1 s).
TIMEOUT = float(os.environ.get("KALENDER_HOSTILE_TIMEOUT", "20"))
CACHE_PARTS = (".Radicale.cache", ".Radicale.tmp")


class Servers:
    """One ``kalender serve`` per group of rows, replaced when dead or hung."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep
        self.group = ""
        self.server: ServeProcess | None = None

    def get(self, group: str) -> ServeProcess:
        """A live server for ``group`` (a new one for a new group or after a death)."""
        if self.server is not None and (self.group != group or self.server.proc.poll() is not None):
            self.close()
        if self.server is None:
            self.server = ServeProcess(self.dep)
            self.group = group
        return self.server

    def close(self, sig: int = signal.SIGTERM) -> None:
        """Stop the current server (SIGKILL for a hung one)."""
        if self.server is not None:
            self.server.stop(sig)
            self.server = None


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """A deployment with the standard accounts, without the sync service.

    Without DIR/sync.secret no sync pass writes the merged calendars while a row
    compares storage before and after.
    """
    dep = make_deployment(tmp_path_factory.mktemp("hostile") / "kediri")
    (dep.root / "sync.secret").unlink()
    assert ACCOUNTS[ATTACKER][1] == ("dinkes",) and ACCOUNTS[OTHER][1] == ("dinsos",)
    return dep


@pytest.fixture(scope="module")
def servers(dep: Deployment) -> Iterator[Servers]:
    """The server pool; every account logs in once first (Radicale creates its principal)."""
    pool = Servers(dep)
    server = pool.get(CASES[0].group)
    for login in (ATTACKER, OTHER):
        r = requests.request("PROPFIND", server.url + "/", auth=(login, PASSWORD),
                             headers={"Depth": "0"}, timeout=TIMEOUT)
        assert r.status_code == 207, (login, r.status_code)
    yield pool
    pool.close()


def snapshot(dep: Deployment) -> tuple[dict[str, str], list[tuple[object, ...]]]:
    """Stored files (path -> sha256, Radicale's caches left out) and the index rows.

    The Bentrok calendars are left out: telling the PIC of a refusal there is
    the server's answer to it (issue 8), not data the hostile request wrote.
    """
    files = {}
    for path in sorted(dep.collections.rglob("*")):
        rel = path.relative_to(dep.collections)
        if path.is_file() and rel.name != ".Radicale.lock" and "bentrok" not in rel.parts and \
                not any(p.startswith(CACHE_PARTS) for p in rel.parts):
            files[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
    db = sqlite3.connect(f"file:{dep.database}?mode=ro", uri=True, timeout=TIMEOUT)
    try:
        rows = db.execute("SELECT 'item', collection, href, etag FROM items UNION ALL "
                          "SELECT 'slot', collection, href, COUNT(*) FROM slots "
                          "GROUP BY collection, href UNION ALL "
                          "SELECT 'pending', collection, href, '' FROM pending "
                          "ORDER BY 1, 2, 3").fetchall()
        rows = [r for r in rows if not str(r[1]).startswith("bentrok/")]
    finally:
        db.close()
    return files, rows


def written(before: tuple[dict[str, str], list[tuple[object, ...]]],
            after: tuple[dict[str, str], list[tuple[object, ...]]], allowed: str) -> list[str]:
    """What changed between two snapshots, ``allowed`` (a file a row must store) aside."""
    found = []
    for name in sorted(before[0].keys() | after[0].keys()):
        if name != allowed and before[0].get(name) != after[0].get(name):
            found.append(f"storage changed: {name}")
    if allowed and allowed not in after[0]:
        found.append(f"{allowed} not stored (stored: "
                     f"{sorted(after[0].keys() - before[0].keys())})")
    if not allowed and before[1] != after[1]:
        extra = set(after[1]) ^ set(before[1])
        found.append(f"index changed: {sorted(extra, key=str)[:3]}")
    return found


def listed(server: ServeProcess, name: str) -> bool:
    """True when a Depth 1 PROPFIND of the attacker's calendar lists ``name`` (UTF-8 href)."""
    r = requests.request("PROPFIND", server.url + OWN, auth=(ATTACKER, PASSWORD),
                         headers={"Depth": "1"}, timeout=TIMEOUT)
    hrefs = [urllib.parse.unquote(h.split("</", 1)[0])
             for h in r.text.split("href>")[1::2]]
    return OWN + name in hrefs


def other_opd_writes(server: ServeProcess) -> str:
    """A normal PUT by the other OPD's PIC: '' when stored (201), else what happened."""
    uid = f"lain-{uuid.uuid4().hex[:12]}"
    try:
        r = requests.put(f"{server.url}/opd/dinsos/{uid}.ics",
                         data=event_ics(uid, summary="Rapat Dinas Sosial").encode(),
                         auth=(OTHER, PASSWORD), timeout=TIMEOUT,
                         headers={"Content-Type": "text/calendar; charset=utf-8"})
    except requests.RequestException as e:
        return f"other OPD's PUT failed: {type(e).__name__}"
    return "" if r.status_code == 201 else f"other OPD's PUT got {r.status_code}: {r.text[:200]}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_request(case: Case, dep: Deployment, servers: Servers,
                         capsys: pytest.CaptureFixture[str]) -> None:
    """One hostile row: a clean 4xx, nothing written, the server alive and serving others."""
    server = servers.get(case.group)
    before = snapshot(dep)
    answer = send(case, "127.0.0.1", server.port, PASSWORD, TIMEOUT)
    found = problems(case, answer)
    code = server.proc.poll()
    if code is not None:
        found.append(f"server died (exit code {code})")
    elif answer.status == 0:
        servers.close(signal.SIGKILL)  # hung: kill it before comparing storage
    found += written(before, snapshot(dep), case.writes)
    if case.writes and servers.server is server and not listed(server, Path(case.writes).name):
        found.append(f"{Path(case.writes).name} is not listed under its own name")
    if cli.main(["verify", "--dir", str(dep.root)]) != 0:
        found.append("kalender verify: " + " / ".join(capsys.readouterr().out.splitlines()[:3]))
    if servers.server is server:
        found += [p for p in [other_opd_writes(server)] if p]
    assert not found, f"{case.name}: " + "; ".join(found)
