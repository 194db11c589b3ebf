"""A refused CLI change writes nothing; a broken registry does not break the server;
every error is one Indonesian line (issue 7, items 10 and 13)."""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
from pathlib import Path

import pytest
import requests

from kalender.admin import cli
from kalender.deployment import Deployment
from tests.conftest import KALENDER, PASSWORD, ServeProcess, event_ics, free_port, make_deployment

ACCOUNTS = {"pic-x": ("pic", ("dinkes",))}


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """The kalender command as an admin runs it (stdin is not a terminal)."""
    return subprocess.run([*KALENDER, *args], input=stdin, capture_output=True, text=True,
                          timeout=120, check=False, env=dict(os.environ))


def one_line(result: subprocess.CompletedProcess) -> str:
    """The single line of stderr of a failed command (no traceback)."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def snapshot(dep: Deployment) -> dict[str, str]:
    """Digest of every file and folder name of a deployment (the clash index aside)."""
    out: dict[str, str] = {}
    for path in sorted(dep.root.rglob("*")):
        rel = str(path.relative_to(dep.root))
        if rel.startswith(("kalender.db", "collections/.Radicale.lock")) or (
                ".Radicale.cache" in rel):
            continue
        out[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return out


@pytest.fixture
def dep(tmp_path: Path) -> Deployment:
    """A deployment with one PIC."""
    return make_deployment(tmp_path / "kediri", ACCOUNTS)


def test_refused_opd_add_writes_nothing(dep: Deployment) -> None:
    """--color red is refused before opd.csv or the calendar is touched."""
    before = snapshot(dep)
    error = one_line(run("opd", "add", "dinbaru", "Dinas Baru", "--color", "red",
                         "--dir", str(dep.root)))
    assert "'red'" in error and "#rrggbb" in error
    assert snapshot(dep) == before
    assert run("opd", "list", "--dir", str(dep.root)).returncode == 0
    assert run("opd", "add", "dinbaru", "Dinas Baru", "--color", "#aa3300",
               "--dir", str(dep.root)).returncode == 0


@pytest.mark.parametrize("command", [
    ("opd", "add", "dinbaru", "Dinas Baru"),
    ("user", "add", "budi", "--role", "admin", "--password-stdin"),
    ("user", "remove", "pic-x"),
    ("opd", "remove", "dinsos"),
])
def test_change_of_several_files_is_all_or_nothing(dep: Deployment, command: tuple[str, ...]
                                                    ) -> None:
    """The last file of a change cannot be replaced: the files before it get their old text."""
    dep.rights.unlink()
    dep.rights.mkdir()  # a folder in the way of the rename of the rights file
    (dep.rights / "x").write_text("x", encoding="utf-8")
    before = snapshot(dep)
    one_line(run(*command, "--dir", str(dep.root), stdin=PASSWORD + "\n"))
    assert snapshot(dep) == before


def test_server_keeps_last_good_registry(dep: Deployment) -> None:
    """A hand-broken opd.csv and rights file: one error line each, no 500, old rules hold."""
    server = ServeProcess(dep, capture=True)
    auth = ("pic-x", PASSWORD)
    try:
        with dep.opd_csv.open("a", encoding="utf-8") as f:
            f.write("dinbaru,Dinas Baru,,,red,\n")
        for n in range(3):
            r = requests.request("PROPFIND", server.url + "/pic-x/", auth=auth,
                                 headers={"Depth": "1"}, timeout=10)
            assert r.status_code == 207 and "/opd/dinkes/" in r.text
            r = requests.put(f"{server.url}/opd/dinkes/k{n}.ics", auth=auth, timeout=10,
                             data=event_ics(f"k{n}", start=f"2030120{n + 1}T090000",
                                            end=f"2030120{n + 1}T100000"))
            assert r.status_code == 201
        # a section whose user pattern is no regular expression, then no file at all
        for breakage in ("[x]\nuser: (\ncollection: .*\npermissions: RrWw\n", None):
            if breakage is None:
                dep.rights.unlink()
            else:  # by rename: the server must not catch the file empty, half written
                tmp = dep.rights.with_name(".rights.broken")
                tmp.write_text(breakage, encoding="utf-8")
                tmp.replace(dep.rights)
            for _ in range(2):
                r = requests.request("PROPFIND", server.url + "/opd/dinkes/", auth=auth,
                                     headers={"Depth": "0"}, timeout=10)
                assert r.status_code == 207
                r = requests.request("PROPFIND", server.url + "/opd/dinsos/", auth=auth,
                                     headers={"Depth": "0"}, timeout=10)
                assert r.status_code == 403  # the last good rules, not "everything" or a 500
    finally:
        out = server.stop()
    registry_errors = [line for line in out.splitlines() if "Registri tidak dimuat" in line]
    assert len(registry_errors) == 1 and f"{dep.opd_csv}:35:" in registry_errors[0]
    assert sum("Berkas rights tidak dimuat" in line for line in out.splitlines()) == 2
    assert " 500 " not in out


def test_password_without_terminal_or_stdin(dep: Deployment) -> None:
    """user add with nothing on stdin: one line, no EOFError traceback."""
    d = str(dep.root)
    assert "--password-stdin" in one_line(run("user", "add", "budi", "--role", "admin",
                                              "--dir", d))
    assert "stdin" in one_line(run("user", "add", "budi", "--role", "admin", "--dir", d,
                                   "--password-stdin"))
    assert "budi" not in dep.users_csv.read_text("utf-8")


def test_sync_errors_are_one_line(dep: Deployment) -> None:
    """An unreachable server and a server answering 401: one Indonesian line each."""
    d = str(dep.root)
    unreachable = one_line(run("sync", "--dry-run", "--dir", d, "--url",
                               f"http://127.0.0.1:{free_port()}"))
    assert "tidak menjawab" in unreachable and "HTTPConnectionPool" not in unreachable
    server = ServeProcess(dep)  # its own sync keeps the password it read at start
    try:
        (dep.root / "sync.secret").write_text("kalender-sync:kata-sandi-salah\n",
                                              encoding="utf-8")
        refused = one_line(run("sync", "--dry-run", "--dir", d, "--url", server.url))
    finally:
        server.stop()
    assert "menolak akun sync" in refused and "sync.secret" in refused


def test_argparse_speaks_indonesian() -> None:
    """Usage errors of argparse itself: one Indonesian line, exit 2."""
    bad_role = run("user", "add", "budi", "--role", "bos")
    assert bad_role.returncode == 2
    assert "'bos'" in one_line(bad_role) and "tidak dikenal" in bad_role.stderr
    assert "invalid choice" not in bad_role.stderr and "usage" not in bad_role.stderr
    missing = run("opd", "add")
    assert missing.returncode == 2 and "argumen wajib" in one_line(missing)
    number = run("venue", "add", "x", "X", "--capacity", "dua")
    assert "bukan bilangan bulat" in one_line(number)
    unknown = run("frobnicate")
    assert "tidak dikenal" in one_line(unknown)


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` and every sub-command parser below it."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _parsers(sub)
    return found


ENGLISH = ("usage:", "positional arguments", "options:", "show this help", "Create a",
           "Run the", "Print the", "Merge the", "Rebuild", "Compare", "Register", "List")


def test_help_is_indonesian_and_complete() -> None:
    """Every command's help is Indonesian, and every option and argument says what it is."""
    parsers = _parsers(cli.build_parser())
    assert len(parsers) > 20
    for parser in parsers:
        text = parser.format_help()
        assert not [w for w in ENGLISH if w in text], (parser.prog, text)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                assert all(c.help for c in action._choices_actions), parser.prog
            else:
                assert action.help, (parser.prog, action.option_strings or action.dest)
    top = run("--help")
    assert top.returncode == 0 and "buat folder deployment" in top.stdout


def test_unexpected_error_one_line_unless_debug(dep: Deployment) -> None:
    """An error nobody foresaw: one line that points to --debug; --debug shows the traceback."""
    (dep.root / "kalender.db").unlink()
    (dep.root / "kalender.db").mkdir()
    plain = one_line(run("log", "--dir", str(dep.root)))
    assert "--debug" in plain
    debug = run("log", "--dir", str(dep.root), "--debug")
    assert debug.returncode == 1 and "Traceback" in debug.stderr
