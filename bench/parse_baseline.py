"""Reference for benchmark 4: parse every stored item file once with icalendar.

``python bench/parse_baseline.py COLLECTION_ROOT`` reads each ``*.ics`` item file of
every collection folder below COLLECTION_ROOT (Radicale's ``.Radicale.cache`` folders
are skipped) and runs ``icalendar.Calendar.from_ical`` on its text. Run as a fresh
subprocess, like ``kalender reindex``, so both wall times include interpreter start-up.
Prints one JSON line: {"files": n, "seconds": parse-loop seconds}.
"""

from __future__ import annotations

import json
import os
import sys
import time

import icalendar


def main(root: str) -> int:
    began = time.perf_counter()
    files = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".Radicale")]
        for name in names:
            if not name.endswith(".ics"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8", newline="") as f:
                icalendar.Calendar.from_ical(f.read())
            files += 1
    print(json.dumps({"files": files, "seconds": round(time.perf_counter() - began, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
