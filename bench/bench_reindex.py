"""Benchmark 4: ``kalender reindex`` against parsing the same item files once with icalendar.

Both run as fresh subprocesses (interpreter start-up included in both wall times):

* ``kalender reindex --dir DIR`` right after data.py wrote the files (the state after a
  restore or bulk import) - the headline number;
* ``python bench/parse_baseline.py DIR/collections/collection-root``: read every item
  file, ``icalendar.Calendar.from_ical`` on its text;
* optionally a second ``kalender reindex`` (OS page cache warm; reindex reads the item
  files itself, Radicale's item cache plays no part).

Peak memory = "Maximum resident set size" of ``/usr/bin/time -v`` (falls back to
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, a high-water mark over all children).

Run alone: ``python bench/bench_reindex.py WORKDIR/n50000`` (on a freshly generated set).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BENCH, PYTHON
from data import KALENDER, Dataset

TIME = shutil.which("time", path="/usr/bin:/bin")


def measured(args: list[str]) -> tuple[float, int, str]:
    """(wall seconds, peak RSS KiB, stdout) of one subprocess."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        prefix = [TIME, "-v", "-o", tf.name] if TIME else []
        began = time.perf_counter()
        proc = subprocess.run(prefix + args, capture_output=True, text=True)
        wall = time.perf_counter() - began
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", tf.read())
    rss = int(found[1]) if found else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, rss, proc.stdout


def reindex(ds: Dataset) -> dict[str, object]:
    wall, rss, out = measured([KALENDER, "reindex", "--dir", ds.root])
    found = re.search(r"(\d+) item, (\d+) pemakaian", out)
    return {"seconds": wall, "peak_rss_mib": rss / 1024,
            "items_processed": int(found[1]) if found else None,
            "bookings": int(found[2]) if found else None}


def bench(ds: Dataset, again: bool = False) -> dict[str, object]:
    """Reindex, icalendar baseline, then (optionally) reindex again."""
    cold = reindex(ds)
    wall, rss, out = measured([PYTHON, str(BENCH / "parse_baseline.py"),
                               str(Path(ds.root) / "collections/collection-root")])
    inner = json.loads(out.strip().splitlines()[-1])
    result: dict[str, object] = {
        "dataset": ds.name, "n": ds.n, "reindex": cold,
        "icalendar_parse": {"seconds": wall, "loop_seconds": inner["seconds"],
                            "files": inner["files"], "peak_rss_mib": rss / 1024},
        "ratio": cold["seconds"] / wall,  # type: ignore[operator]
    }
    if again:
        second = reindex(ds)
        result["reindex_again"] = second
        result["ratio_again"] = second["seconds"] / wall  # type: ignore[operator]
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", help="folder made by data.py (holds dataset.json)")
    p.add_argument("--again", action="store_true", help="run the reindex a second time")
    args = p.parse_args()
    ds = Dataset(**json.loads((Path(args.dataset) / "dataset.json").read_text()))
    print(json.dumps(bench(ds, args.again), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
