"""The kalender CLI end to end: init, OPD and users, passwords on a running server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kalender.admin import cli
from kalender.deployment import Deployment
from tests.conftest import KALENDER, PASSWORD, ServeProcess, event_ics, free_port


def run(*args: str, stdin: str = "", env_dir: Path | None = None) -> subprocess.CompletedProcess:
    """Run the kalender command as a user would."""
    env = dict(os.environ)
    if env_dir is not None:
        env["KALENDER_DIR"] = str(env_dir)
    return subprocess.run([*KALENDER, *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120, check=False)


@pytest.fixture
def deployment(tmp_path: Path) -> Deployment:
    """A fresh deployment made by ``kalender init``."""
    result = run("init", str(tmp_path / "kediri"))
    assert result.returncode == 0, result.stderr
    return Deployment(tmp_path / "kediri")


def test_init_creates_opd_calendars(deployment: Deployment) -> None:
    """init: 33 OPD calendars with their official names, and the merged calendars."""
    root = deployment.collections / "collection-root"
    opds = deployment.opds()
    assert len(opds) == 33
    for opd in opds:
        props = (root / "opd" / opd.id / ".Radicale.props").read_text("utf-8")
        assert opd.name in props
    assert (root / "publik" / "agenda").is_dir() and (root / "pimpinan" / "agenda").is_dir()


def test_init_refuses_non_empty_folder(deployment: Deployment) -> None:
    """init on an existing deployment fails with one clear line."""
    result = run("init", str(deployment.root))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "sudah berisi" in result.stderr


def test_every_command_has_help() -> None:
    """Every command and sub-command answers --help."""
    for args in (["--help"], ["init", "--help"], ["serve", "--help"], ["opd", "add", "--help"],
                 ["opd", "list", "--help"], ["opd", "remove", "--help"],
                 ["user", "add", "--help"], ["user", "passwd", "--help"],
                 ["user", "remove", "--help"], ["user", "list", "--help"], ["log", "--help"],
                 ["venue", "add", "--help"], ["person", "add", "--help"], ["sync", "--help"],
                 ["reindex", "--help"], ["verify", "--help"], ["venue", "unknown", "--help"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(args)
        assert exc.value.code == 0, args


def test_user_add_errors(deployment: Deployment) -> None:
    """Unknown OPD, reserved login, unknown role: non-zero exit and one line."""
    d = str(deployment.root)
    bad_opd = run("user", "add", "budi", "--role", "pic", "--opd", "tidak-ada", "--dir", d,
                  "--password-stdin", stdin=PASSWORD + "\n")
    assert bad_opd.returncode == 1 and "tidak-ada" in bad_opd.stderr
    assert bad_opd.stderr.count("\n") == 1
    reserved = run("user", "add", "publik", "--role", "admin", "--dir", d,
                   "--password-stdin", stdin=PASSWORD + "\n")
    assert reserved.returncode == 1 and "dicadangkan" in reserved.stderr
    web = run("user", "add", "layar", "--role", "pimpinan", "--dir", d,
              "--password-stdin", stdin=PASSWORD + "\n")  # /layar/ is the lobby screen
    assert web.returncode == 1 and "halaman web" in web.stderr
    feed = run("user", "add", "langganan", "--role", "pimpinan", "--dir", d,
               "--password-stdin", stdin=PASSWORD + "\n")  # /langganan/<token>/ feeds
    assert feed.returncode == 1 and "halaman web" in feed.stderr
    bad_role = run("user", "add", "budi", "--role", "bos", "--dir", d)
    assert bad_role.returncode == 2 and "bos" in bad_role.stderr
    short = run("user", "add", "budi", "--role", "admin", "--dir", d, "--password-stdin",
                stdin="pendek\n")
    assert short.returncode == 1 and "minimal 8" in short.stderr
    assert run("user", "list", "--dir", d).stdout.split() == ["kalender-sync", "sync"]


def test_opd_add_list_remove(deployment: Deployment) -> None:
    """An empty OPD is removed; one with events is archived, its calendar kept."""
    env = deployment.root
    assert run("opd", "add", "dinas-baru", "Dinas Baru Kota Kediri", env_dir=env).returncode == 0
    assert "dinas-baru" in run("opd", "list", env_dir=env).stdout
    removed = run("opd", "remove", "dinas-baru", env_dir=env)
    assert removed.returncode == 0 and "dihapus" in removed.stdout
    assert "dinas-baru" not in run("opd", "list", env_dir=env).stdout
    assert not (deployment.collections / "collection-root/opd/dinas-baru").exists()

    assert run("opd", "add", "dinas-lama", "Dinas Lama", env_dir=env).returncode == 0
    from kalender.admin import provision
    with provision.storage_locked(deployment) as store:
        provision.upload_event(store, "/opd/dinas-lama/", "a.ics", event_ics("lama-1"))
    archived = run("opd", "remove", "dinas-lama", env_dir=env)
    assert archived.returncode == 0 and "diarsipkan" in archived.stdout
    assert "[diarsipkan]" in run("opd", "list", env_dir=env).stdout
    assert (deployment.collections / "collection-root/opd/dinas-lama/a.ics").exists()
    missing = run("opd", "remove", "tidak-ada", env_dir=env)
    assert missing.returncode == 1 and "tidak terdaftar" in missing.stderr


def test_not_a_deployment(tmp_path: Path) -> None:
    """Commands outside a deployment say so in one line."""
    result = run("opd", "list", "--dir", str(tmp_path))
    assert result.returncode == 1 and "bukan folder deployment" in result.stderr


@pytest.fixture
def running(deployment: Deployment) -> Iterator[tuple[Deployment, str]]:
    """``kalender serve`` as a real process on a free port."""
    server = ServeProcess(deployment, capture=True)
    yield deployment, server.url
    out = server.stop()
    assert server.proc.returncode == 0, out
    assert "berhenti" in out


def test_users_and_passwords_take_effect_without_restart(running: tuple[Deployment, str]) -> None:
    """user add / passwd / remove change what the running server accepts."""
    dep, url = running
    d = str(dep.root)
    added = run("user", "add", "siti", "--role", "pic", "--opd", "dinkes", "--dir", d,
                "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr

    def status(password: str) -> int:
        return requests.request("PROPFIND", url + "/opd/dinkes/", auth=("siti", password),
                                headers={"Depth": "0"}, timeout=10).status_code

    assert status(PASSWORD) == 207
    new = "kata-sandi-baru-2"
    assert run("user", "passwd", "siti", "--dir", d, "--password-stdin",
               stdin=new + "\n").returncode == 0
    assert status(PASSWORD) == 401
    assert status(new) == 207
    assert run("user", "remove", "siti", "--dir", d).returncode == 0
    assert status(new) == 401


def test_malformed_registry_stops_startup(deployment: Deployment) -> None:
    """A bad line in users.csv: serve exits non-zero naming the file and line."""
    with deployment.users_csv.open("a", encoding="utf-8") as f:
        f.write("budi,bos,\n")
    line = len(deployment.users_csv.read_text("utf-8").splitlines())
    result = run("serve", str(deployment.root), "--port", str(free_port()))
    assert result.returncode == 1
    assert f"{deployment.users_csv}:{line}:" in result.stderr and "bos" in result.stderr


def test_malformed_htpasswd_stops_startup(deployment: Deployment) -> None:
    """A bad line in users.htpasswd is reported with its line number."""
    deployment.htpasswd.write_text("siti\n", encoding="utf-8")
    result = run("serve", str(deployment.root), "--port", str(free_port()))
    assert result.returncode == 1 and f"{deployment.htpasswd}:1:" in result.stderr


def test_log_prints_changes(deployment: Deployment) -> None:
    """kalender log shows who changed what, filtered by OPD."""
    from kalender.admin import provision
    with provision.storage_locked(deployment, "admin-x") as store:
        provision.upload_event(store, "/opd/dinkes/", "e.ics",
                               event_ics("log-1", summary="Rapat Gizi"))
    out = run("log", "--opd", "dinkes", "--dir", str(deployment.root)).stdout
    assert "admin-x" in out and "create" in out and "/opd/dinkes/e.ics" in out
    assert "+SUMMARY:Rapat Gizi" in out
    other = run("log", "--opd", "dinsos", "--dir", str(deployment.root)).stdout
    assert "Rapat Gizi" not in other and "create  /opd/dinsos/" in other  # the calendar itself
    assert "Belum ada" in run("log", "--since", "2999-01-01", "--dir", str(deployment.root)).stdout
    bad = run("log", "--since", "kemarin", "--dir", str(deployment.root))
    assert bad.returncode == 1


def test_log_shows_peoples_changes_and_filters(deployment: Deployment) -> None:
    """Sync copies only with --all; --user, --action, --opd (unknown: error), --refused."""
    from kalender import audit
    from kalender.admin import provision
    d = str(deployment.root)
    with provision.storage_locked(deployment, "pic-a") as store:
        provision.upload_event(store, "/opd/dinkes/", "g.ics", event_ics("g", summary="Gizi"))
        provision.upload_event(store, "/opd/dinsos/", "s.ics", event_ics("s", summary="Sosial"))
    with provision.storage_locked(deployment, "kalender-sync") as store:
        # (the sync writes its copies into sync.db, not the storage: an entry as one of
        # its own calendar creations would be, made through the storage here)
        provision.upload_event(store, "/opd/diskominfo/", "g.ics",
                               event_ics("g2", summary="Salinan Gizi"))
    people = run("log", "--dir", d).stdout
    assert "+SUMMARY:Gizi" in people and "+SUMMARY:Sosial" in people
    assert "Salinan Gizi" not in people and "kalender-sync" not in people
    assert "Salinan Gizi" in run("log", "--all", "--dir", d).stdout
    mine = run("log", "--user", "pic-a", "--opd", "dinsos", "--dir", d).stdout
    assert "Sosial" in mine and "Gizi" not in mine
    assert "Belum ada" in run("log", "--action", "delete", "--dir", d).stdout
    for bad in (["--opd", "nosuch"], ["--user", "tidak-ada"]):
        result = run("log", *bad, "--dir", d)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert bad[1] in result.stderr
    assert run("log", "--action", "hapus", "--dir", d).returncode == 2

    assert "Belum ada" in run("log", "--refused", "--dir", d).stdout
    for _ in range(3):
        audit.record_refusal(deployment.database, "pic-a", "/opd/dinkes/", "r-1",
                             "Rapat Bentrok", "Jadwal Bentrok", "Ruang Joyoboyo sudah dipakai")
    audit.record_refusal(deployment.database, "pic-b", "/opd/dinsos/", "r-2", "Lain",
                         "Jadwal Bentrok", "-")
    refused = run("log", "--refused", "--opd", "dinkes", "--dir", d).stdout.splitlines()
    assert len(refused) == 1
    line = refused[0]
    assert "pic-a" in line and "dinkes" in line and "Rapat Bentrok" in line
    assert "Jadwal Bentrok" in line and "3x" in line
    assert "Lain" in run("log", "--refused", "--user", "pic-b", "--dir", d).stdout


def test_config_works_with_radicales_own_server(deployment: Deployment) -> None:
    """python -m radicale --config DIR/config: plugins load, rights and clash rules hold."""
    d = str(deployment.root)
    assert run("user", "add", "siti", "--role", "pic", "--opd", "dinkes", "--dir", d,
               "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config", f"{d}/config",
                             "--server-hosts", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(url + "/publik/agenda/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        auth = ("siti", PASSWORD)
        r = requests.request("PROPFIND", url + "/siti/", auth=auth, headers={"Depth": "1"},
                             timeout=10)
        assert r.status_code == 207 and "/opd/dinkes/" in r.text
        body = event_ics("rad-1", location="Ruang Joyoboyo")
        assert requests.put(url + "/opd/dinkes/a.ics", data=body, auth=auth,
                            timeout=10).status_code == 201
        clash = event_ics("rad-2", location="R. Joyoboyo")
        r = requests.put(url + "/opd/dinkes/b.ics", data=clash, auth=auth, timeout=10)
        assert r.status_code == 400  # refused; Radicale's own app has no 403 answer for it
        assert requests.get(url + "/opd/dinsos/", auth=auth, timeout=10).status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=20)
