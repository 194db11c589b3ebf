"""Profiles: cProfile top functions of the client, py-spy samples of the server."""

from __future__ import annotations

import pstats
import subprocess
import time
from pathlib import Path

from common import Server


def top_functions(profile: Path, n: int = 12) -> list[dict[str, object]]:
    """The ``n`` functions with the largest cumulative time (file:function, seconds)."""
    st = pstats.Stats(str(profile))
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        rows.append({"where": f"{_short(file)}:{line}:{func}", "calls": nc,
                     "tottime": round(tt, 3), "cumtime": round(ct, 3)})
    by_cum = sorted(rows, key=lambda r: -r["cumtime"])[:n]  # type: ignore[operator]
    by_tot = sorted(rows, key=lambda r: -r["tottime"])[:n]  # type: ignore[operator]
    return [{"by": "cumtime", **r} for r in by_cum] + [{"by": "tottime", **r} for r in by_tot]


def _short(file: str) -> str:
    for marker in ("site-packages/", "/work/main/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file

# -- profiling the server (optional: py-spy, a sampling profiler, outside this venv) -----
def start_spy(spy: str, server: Server, out: Path) -> subprocess.Popen[bytes]:
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([spy, "record", "-p", str(server.proc.pid), "-r", "100", "-f", "raw",
                             "--idle", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    return proc


def stop_spy(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(2)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()


IDLE_LEAVES = ("wait (threading", "select (selectors", "poll (waitress/wasyncore",
               "handler_thread (waitress/task", "_worker", "poll (selectors")


def spy_summary(path: Path, only: str = "", n: int = 25) -> dict[str, object]:
    """Inclusive share of each function (file:function) over the busy samples of py-spy's
    raw output (stacks holding ``only``, if given)."""
    import collections
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    if not path.exists():
        return {}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if only and only not in stack:
            continue
        if not only and any(m in frames[-1] for m in IDLE_LEAVES):
            continue
        total += int(count)
        for key in {f.rsplit(":", 1)[0] for f in frames}:
            incl[key] += int(count)
    # leave out the frames every sample shares (thread start, waitress, the WSGI wrappers)
    top = [(k, round(v / total * 100, 1)) for k, v in incl.most_common()
           if v < 0.97 * total][:n] if total else []
    return {"samples": total, "top": top}
