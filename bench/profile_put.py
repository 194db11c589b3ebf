"""Where a PUT's time goes: cProfile of Kalender OPD's WSGI app in-process (no HTTP).

    python bench/profile_put.py WORKDIR/n50000 [--kind weekly] [--reps 10] [--top 35]

Uses a dataset made by data.py and already reindexed (run.py --keep, or data.py +
``kalender reindex``). Builds the app like ``kalender serve`` (kalender.admin.serve.make_app),
warms it (PROPFIND Depth 1 + one PUT/DELETE), then profiles ``reps`` PUTs (the DELETEs
after each are not profiled). Prints the cumulative-time table and the per-PUT share of
the guard's steps; writes the raw profile next to the dataset (put-<kind>.prof).
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import datetime as dt
import io
import json
import pstats
import sys
import uuid
from pathlib import Path
from wsgiref.util import setup_testing_defaults

from bench_put import measured_event
from common import PROPFIND_ETAGS
from data import Dataset


def call(app, ds: Dataset, method: str, path: str, body: bytes = b"",  # type: ignore[no-untyped-def]
         headers: dict[str, str] | None = None) -> str:
    token = base64.b64encode(f"{ds.login}:{ds.password}".encode()).decode()
    environ: dict[str, object] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "",
        "HTTP_AUTHORIZATION": f"Basic {token}", "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body), "REMOTE_ADDR": "127.0.0.1"}
    for k, v in (headers or {}).items():
        key = "CONTENT_TYPE" if k == "Content-Type" else "HTTP_" + k.upper().replace("-", "_")
        environ[key] = v
    setup_testing_defaults(environ)
    status: list[str] = []
    for _ in app(environ, lambda s, h, e=None: status.append(s)):
        pass
    return status[0]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset")
    p.add_argument("--kind", default="weekly", choices=("single", "weekly"))
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--top", type=int, default=35)
    args = p.parse_args()
    folder = Path(args.dataset)
    ds = Dataset(**json.loads((folder / "dataset.json").read_text()))
    from radicale import log as radicale_log

    from kalender.admin.serve import make_app
    from kalender.deployment import Deployment
    radicale_log.setup()
    radicale_log.set_level("warning", False)
    app = make_app(Deployment(Path(ds.root)))
    col = f"/opd/{ds.target}/"
    assert call(app, ds, "PROPFIND", col, PROPFIND_ETAGS, {"Depth": "1"}).startswith("207")
    today = dt.date.fromisoformat(ds.today)
    prof = cProfile.Profile()
    for i in range(args.reps + 1):
        uid = f"prof-{uuid.uuid4().hex[:12]}"
        body = measured_event(uid, today + dt.timedelta(days=30 + i), args.kind).encode()
        hdr = {"Content-Type": "text/calendar", "If-None-Match": "*"}
        if i:
            prof.enable()
        status = call(app, ds, "PUT", f"{col}{uid}.ics", body, hdr)
        if i:
            prof.disable()
        assert status.startswith("201"), status
        assert call(app, ds, "DELETE", f"{col}{uid}.ics").startswith(("200", "204"))
    prof.dump_stats(str(folder / f"put-{args.kind}.prof"))
    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(args.top)
    total = max(v[3] for v in stats.stats.values())  # type: ignore[attr-defined]
    print(f"per PUT (profiled): {total / args.reps * 1e3:.1f} ms")
    for (file, line, fn), v in sorted(stats.stats.items(), key=lambda kv: -kv[1][3]):  # type: ignore[attr-defined]
        ms = v[3] / args.reps * 1e3
        if ms >= 0.2 and (("kalender" in file and "/bench/" not in file) or "sqlite3" in fn):
            print(f"  {v[3] / args.reps * 1e3:7.2f} ms/PUT  {Path(file).name}:{line}({fn})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
