#!/usr/bin/env python3
"""CalDAV compatibility check: Kalender OPD against vanilla Radicale 3.9.

Starts two servers on 127.0.0.1 (a throwaway ``kalender init`` deployment
served by ``kalender serve``, and plain ``python -m radicale``), runs
caldav-server-tester against each, and fails when

* a feature that vanilla Radicale supports is worse on Kalender OPD, or
* Kalender OPD's report differs from the committed ``.ci/compat-expected.json``.

caldav-server-tester's JSON/YAML output is compacted (sub-features collapsed
into their parent), so the lossless ``--format hints`` output (a Python dict
literal of every observed feature) is read with ``ast.literal_eval``. Only the
support level is kept: behaviour notes, realms, URLs and timings are dropped.

Usage: python .ci/compat.py [--out DIR] [--update] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import json
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "compat-expected.json"
HOST = "127.0.0.1"
USER = "tester"
#: caldav's support levels grouped by how usable they are (lower is better).
RANK = {"full": 0, "quirk": 1, "fragile": 2}
NOT_SUPPORTED = 3


def tool(name: str) -> str:
    """Path of a console script installed next to this interpreter (else on PATH)."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        sys.exit(f"compat: {name} not found; pip install it into this environment")
    return found


def free_port() -> int:
    """A TCP port on the loopback interface that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float) -> None:
    """Block until the server on ``port`` answers HTTP; fail if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"compat: server exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # 401 and friends: it is up
        except OSError:
            time.sleep(0.2)
    sys.exit(f"compat: server on port {port} not ready after {timeout:.0f}s")


def start(cmd: list[str], port: int, log: Path, procs: list[subprocess.Popen[bytes]]
          ) -> str:
    """Start a server subprocess (registered in ``procs``), wait for it, return its URL."""
    print("$", " ".join(cmd), flush=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
    procs.append(proc)
    wait_ready(proc, port, log, 30)
    return f"http://{HOST}:{port}/"


def start_kalender(work: Path, password: str, procs: list[subprocess.Popen[bytes]]) -> str:
    """``kalender init`` + an admin account + ``kalender serve``; returns the URL."""
    kalender, dep, port = tool("kalender"), work / "kalender", free_port()
    for cmd, stdin in (([kalender, "init", str(dep)], None),
                       ([kalender, "user", "add", USER, "--role", "admin", "--dir", str(dep),
                         "--password-stdin"], password)):
        print("$", " ".join(cmd), flush=True)
        done = subprocess.run(cmd, input=stdin, text=True, capture_output=True, timeout=120)
        if done.returncode != 0:
            sys.exit(f"compat: {cmd[1]} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    cmd = [kalender, "serve", str(dep), "--host", HOST, "--port", str(port)]
    return start(cmd, port, work / "kalender.log", procs)


def start_vanilla(work: Path, password: str, procs: list[subprocess.Popen[bytes]]) -> str:
    """Plain Radicale (htpasswd plain, owner_only, temp storage); returns the URL."""
    root, port = work / "radicale", free_port()
    root.mkdir()
    (root / "users").write_text(f"{USER}:{password}\n")
    (root / "config").write_text(
        f"[server]\nhosts = {HOST}:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {root / 'users'}\n"
        "htpasswd_encryption = plain\n"
        "[rights]\ntype = owner_only\n"
        f"[storage]\nfilesystem_folder = {root / 'collections'}\n"
        "[web]\ntype = none\n[logging]\nlevel = warning\n")
    cmd = [sys.executable, "-m", "radicale", "--config", str(root / "config")]
    return start(cmd, port, work / "radicale.log", procs)


def run_tester(name: str, url: str, password: str, out: Path, work: Path, timeout: float
               ) -> dict[str, str]:
    """Run caldav-server-tester against ``url``; save raw output; return the flat report."""
    cmd = [tool("caldav-server-tester"), "--caldav-url", url, "--caldav-username", USER,
           "--caldav-password", password, "--format", "hints"]
    print("$", " ".join(cmd).replace(password, "***"), flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=work,
                          stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin",
                                                         "HOME": str(work)})
    (out / f"{name}.hints.txt").write_text(done.stdout)
    (out / f"{name}.stderr.txt").write_text(done.stderr)
    if done.returncode != 0:
        sys.exit(f"compat: caldav-server-tester failed on {name} ({done.returncode}):\n"
                 f"{done.stderr[-3000:]}")
    report = normalise(ast.literal_eval(done.stdout.strip()))
    (out / f"{name}.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report


def normalise(raw: dict[str, dict[str, object]]) -> dict[str, str]:
    """feature -> support level; an observation (no level) -> ``value=<value>``."""
    flat: dict[str, str] = {}
    for feature, info in raw.items():
        if "support" in info:
            flat[feature] = str(info["support"])
        elif "value" in info:
            flat[feature] = f"value={info['value']}"
        else:
            flat[feature] = "?"
    return dict(sorted(flat.items()))


def rank(level: str | None) -> int:
    """How usable a support level is (0 = full); anything unsupported ranks last."""
    return RANK.get(level or "", NOT_SUPPORTED)


def compare(vanilla: dict[str, str], ours: dict[str, str]) -> list[str]:
    """Print a table of the features that are not plainly supported; return regressions."""
    regressions: list[str] = []
    print(f"\n{'feature':<52} {'vanilla':<14} {'kalender':<14}")
    for feature in sorted(vanilla.keys() | ours.keys()):
        v, k = vanilla.get(feature, "-"), ours.get(feature, "-")
        worse = not v.startswith("value=") and rank(v) < NOT_SUPPORTED and rank(k) > rank(v)
        if worse:
            regressions.append(f"{feature}: vanilla {v}, Kalender OPD {k}")
        if v != "full" or k != "full":
            mark = "  REGRESSION" if worse else ("  differs" if v != k else "")
            print(f"{feature:<52} {v:<14} {k:<14}{mark}")
    same = sum(vanilla.get(f) == ours.get(f) for f in vanilla.keys() | ours.keys())
    print(f"({len(vanilla)} features on vanilla, {len(ours)} on Kalender OPD, {same} identical; "
          "rows where both are 'full' not shown)")
    return regressions


def expected_diff(ours: dict[str, str]) -> list[str]:
    """Differences between this run and the committed expected report."""
    if not EXPECTED.exists():
        return [f"{EXPECTED} missing: run with --update"]
    data = json.loads(EXPECTED.read_text())
    want: dict[str, str] = data["features"]
    if data.get("caldav-server-tester") != tester_version():
        print(f"note: expected report made with caldav-server-tester "
              f"{data.get('caldav-server-tester')}, running {tester_version()}")
    return [f"{f}: expected {want.get(f, '(absent)')}, got {ours.get(f, '(absent)')}"
            for f in sorted(want.keys() | ours.keys()) if want.get(f) != ours.get(f)]


def tester_version() -> str:
    """Installed caldav-server-tester version."""
    return importlib.metadata.version("caldav-server-tester")


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Terminate every server subprocess, killing those that do not stop in 10s."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def main() -> int:
    """Run both servers and the tester, compare, print the verdict; exit status 0 = green."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="results folder (default: a new temp dir)")
    parser.add_argument("--update", action="store_true",
                        help=f"rewrite {EXPECTED.name} from this run")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds allowed for each caldav-server-tester run")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="compat-results-"))
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="compat-") as tmp:
        work = Path(tmp)
        try:
            password = secrets.token_urlsafe(16)
            urls = {"vanilla": start_vanilla(work, password, procs),
                    "kalender": start_kalender(work, password, procs)}
            reports = {name: run_tester(name, url, password, out, work, args.timeout)
                       for name, url in urls.items()}
        finally:
            stop(procs)
            for log in ("radicale.log", "kalender.log"):
                if (work / log).exists():
                    shutil.copy(work / log, out / log)
    vanilla, ours = reports["vanilla"], reports["kalender"]
    regressions = compare(vanilla, ours)
    if args.update:
        EXPECTED.write_text(json.dumps({"caldav-server-tester": tester_version(),
                                        "features": ours}, indent=2) + "\n")
        print(f"updated {EXPECTED}")
    drift = expected_diff(ours)
    print(f"\nresults in {out}; took {time.monotonic() - started:.1f}s")
    for title, lines in (("WORSE THAN VANILLA RADICALE", regressions),
                         (f"DIFFERS FROM {EXPECTED.name}", drift)):
        if lines:
            print(f"\n{title}:\n  " + "\n  ".join(lines))
    if regressions or drift:
        print("\ncompat: FAILED")
        return 1
    print("compat: OK (no regression against vanilla Radicale, report as expected)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
