"""Benchmark: ``kalender import`` of an exported city calendar (issue 12 item 7).

``python bench/bench_import.py [--sizes 1000,10000] [--workdir DIR] [--no-readme]``

Per size N, one run each (this is a first-deployment operation, not a hot path):

* the file: N Google-style events (UTC times, X-WR-TIMEZONE Asia/Jakarta, an HTML
  description), 20 a day from 2027-01-04 at five registered venues, never clashing
  (so every event is planned, checked by the guard and written);
* ``icalendar``: one ``icalendar.Calendar.from_ical`` of the file (the parse baseline);
* ``vanilla``: vanilla Radicale 3.9 (multifilesystem, in-process WSGI, no auth) storing
  the same file as **one PUT of a whole calendar** (what ``curl -T file.ics`` does);
* ``import``: ``kalender import dinkes FILE`` in-process on a fresh ``kalender init``
  deployment: split, plan, then one guarded, journalled, audited write per event;
* ``rerun``: the same command again (everything is already there: skipped).

Wall and CPU seconds are printed, and written to ``bench/IMPORT.md`` unless
``--no-readme``. The machine may be shared: CPU seconds are the steadier figure.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import radicale
import radicale.config

BENCH = Path(__file__).resolve().parent
#: Registered venues without setup or teardown time: the generated events never clash.
VENUES = ("Ruang Joyoboyo", "Ruang Kilisuci", "Ruang Command Center",
          "Ruang Sidang DPRD Kota Kediri", "Mal Pelayanan Publik Kota Kediri")


def city_file(n: int) -> str:
    """N events as Google Calendar exports them."""
    lines = ["BEGIN:VCALENDAR", "PRODID:-//Google Inc//Google Calendar 70.9054//EN",
             "VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:Dinkes",
             "X-WR-TIMEZONE:Asia/Jakarta"]
    first = datetime(2027, 1, 4, 1, 0, tzinfo=UTC)  # 08:00 WIB
    for i in range(n):
        day, slot = divmod(i, 20)
        venue, hour = VENUES[slot % 5], (0, 2, 5, 7)[slot // 5]
        start = first + timedelta(days=day, hours=hour)
        end = start + timedelta(hours=1, minutes=30)
        lines += ["BEGIN:VEVENT", f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
                  f"DTEND:{end:%Y%m%dT%H%M%SZ}", "DTSTAMP:20261201T000000Z",
                  f"UID:impor-{i:06d}@google.com", "CREATED:20261101T000000Z",
                  f"DESCRIPTION:<b>Kegiatan {i}</b><br>Narahubung: Sekretariat",
                  "LAST-MODIFIED:20261101T000000Z", f"LOCATION:{venue}", "SEQUENCE:0",
                  "STATUS:CONFIRMED", f"SUMMARY:Rapat Koordinasi {i}", "TRANSP:OPAQUE",
                  "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


@contextlib.contextmanager
def timed(into: dict[str, tuple[float, float]], name: str) -> Iterator[None]:
    """Wall and CPU seconds of the block into ``into[name]``."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into[name] = (time.perf_counter() - wall, time.process_time() - cpu)


def vanilla_put(root: Path, body: bytes) -> int:
    """One PUT of a whole calendar to vanilla Radicale in-process; its status."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "config"
    config.write_text(f"[auth]\ntype = remote_user\n[rights]\ntype = authenticated\n[storage]\n"
                      f"filesystem_folder = {root / 'collections'}\n[logging]\nlevel = error\n",
                      encoding="utf-8")
    app = radicale.Application(radicale.config.load([(str(config), False)]))
    answer: list[str] = []
    environ = {"REQUEST_METHOD": "PUT", "PATH_INFO": "/bench/kalender/", "SCRIPT_NAME": "",
               "CONTENT_TYPE": "text/calendar", "CONTENT_LENGTH": str(len(body)),
               "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "127.0.0.1", "REMOTE_USER": "bench", "wsgi.input": io.BytesIO(body),
               "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http"}
    b"".join(app(environ, lambda status, headers, exc=None: answer.append(status)))
    return int(answer[0].split()[0])


def run_size(n: int, work: Path) -> dict[str, tuple[float, float]]:
    """Every measurement for N events."""
    from kalender.admin import cli

    work.mkdir(parents=True, exist_ok=True)
    text = city_file(n)
    source = work / f"kota-{n}.ics"
    source.write_text(text, encoding="utf-8", newline="")
    results: dict[str, tuple[float, float]] = {}
    with timed(results, "icalendar"):
        icalendar.Calendar.from_ical(text)
    with timed(results, "vanilla"):
        status = vanilla_put(work / "vanilla", text.encode())
    assert status == 201, status
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["init", str(work / "kediri")]) == 0
    for name in ("import", "rerun"):
        out = io.StringIO()
        with timed(results, name), contextlib.redirect_stdout(out):
            code = cli.main(["import", "--dir", str(work / "kediri"), "dinkes", str(source)])
        assert code == 0, out.getvalue()
        print(f"  {name}: {out.getvalue().strip().splitlines()[-1]}", file=sys.stderr)
    return results


def table(all_results: dict[int, dict[str, tuple[float, float]]]) -> str:
    """The Markdown table of the run: wall seconds (CPU seconds) and ratios of both."""
    rows = ["| events | icalendar parse | vanilla: one PUT of the calendar | kalender import "
            "| per event | import / parse | import / vanilla | re-run (all skipped) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def cell(t: tuple[float, float]) -> str:
        return f"{t[0]:.1f} s (CPU {t[1]:.1f} s)"

    def ratio(a: tuple[float, float], b: tuple[float, float]) -> str:
        return f"{a[0] / b[0]:.1f}x (CPU {a[1] / max(b[1], 1e-6):.1f}x)"

    for n, r in all_results.items():
        parse, vanilla, imp, rerun = (r[k] for k in ("icalendar", "vanilla", "import", "rerun"))
        rows.append(f"| {n:,} | {cell(parse)} | {cell(vanilla)} | {cell(imp)} | "
                    f"{1000 * imp[0] / n:.1f} ms (CPU {1000 * imp[1] / n:.1f} ms) | "
                    f"{ratio(imp, parse)} | {ratio(imp, vanilla)} | {cell(rerun)} |")
    return "\n".join(rows)


def main() -> int:
    """Run the benchmark; print (and write) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--workdir", default="")
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="kalender-import-"))
    results: dict[int, dict[str, tuple[float, float]]] = {}
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            print(f"{n} events ...", file=sys.stderr)
            results[n] = run_size(n, work / str(n))
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    text = table(results)
    print(text)
    if not args.no_readme:
        note = BENCH / "IMPORT.md"
        head = note.read_text("utf-8").split("<!-- table -->")[0] if note.exists() else ""
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        note.write_text(f"{head}<!-- table -->\nRun {stamp}:\n\n{text}\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
