"""Issue 12 item 3: the public feed's size for one, two and five years of a city.

    .venv/bin/python bench/bench_feedsize.py [--per-day 20] [--years 1,2,5] [--ahead 365]

A city with ``--per-day`` public activities every day (weekends too: the worst case),
from ``years`` ago to ``--ahead`` days ahead (fully booked a year ahead, also the worst
case). About 10 % of the activities (``--series``) are occurrences of weekly series
(``RRULE:FREQ=WEEKLY;COUNT=4..26``), the rest one-off. Titles, locations and
descriptions are the demo's (``bench/data.py``: its activities, venues and labelled
key persons), organised by 33 OPD with their real-length names.

How it is built: no server. Each source goes through the sync's own code,
``kalender_sync.transform.public_copy`` + ``stamped`` (the public copy as the sync
writes it) and ``plan.span``, into a real ``sync.db`` (``State.intend`` + ``done``);
then ``kalender_sync.publish.publish`` renders the feed files exactly as the sync
service does after a pass, and ``publish.render_range`` renders the on-request views
(``?kategori=``, ``?dari=&sampai=``) as ``kalender.dav.feeds`` does. The state grows
backwards in one run: the first measurement holds one year of history, then two, then
five. Sizes are the bodies as served (uncompressed, what Google Calendar's 1 MB limit
counts) and gzipped (what travels to a client sending ``Accept-Encoding: gzip``).
Writes ``bench/results/feedsize-latest.json`` and the table into ``bench/FEEDSIZE.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from data import ACTIVITIES, FREE_TEXT, LABELS, event_ics  # noqa: E402

from kalender_sync import publish  # noqa: E402
from kalender_sync.plan import span  # noqa: E402
from kalender_sync.state import Output, State  # noqa: E402
from kalender_sync.transform import Source, output_href, parse, public_copy, stamped  # noqa: E402

DOC = BENCH / "FEEDSIZE.md"
LIMIT = 1_000_000  # Google Calendar's limit on a subscribed feed (about 1 MB)
OPD_KINDS = ["Dinas Kesehatan", "Dinas Sosial", "Dinas Pendidikan", "Dinas Perhubungan",
             "Dinas Komunikasi dan Informatika", "Dinas Pekerjaan Umum dan Penataan Ruang",
             "Dinas Kependudukan dan Pencatatan Sipil", "Dinas Lingkungan Hidup",
             "Dinas Koperasi Usaha Mikro dan Tenaga Kerja", "Dinas Perdagangan dan Perindustrian",
             "Dinas Kebudayaan Pariwisata Kepemudaan dan Olahraga", "Dinas Ketahanan Pangan",
             "Dinas Perumahan dan Kawasan Permukiman", "Dinas Penanaman Modal dan PTSP",
             "Dinas Perpustakaan dan Kearsipan", "Dinas Pemberdayaan Perempuan dan KB",
             "Badan Perencanaan Pembangunan Daerah", "Badan Pengelola Keuangan dan Aset Daerah",
             "Badan Pendapatan Daerah", "Badan Kepegawaian dan Pengembangan SDM",
             "Badan Kesatuan Bangsa dan Politik", "Badan Penanggulangan Bencana Daerah",
             "Satuan Polisi Pamong Praja", "Inspektorat", "Sekretariat Daerah",
             "Sekretariat DPRD", "RSUD Gambiran", "Kecamatan Mojoroto", "Kecamatan Kota",
             "Kecamatan Pesantren", "Bagian Protokol dan Komunikasi Pimpinan",
             "Bagian Kesejahteraan Rakyat", "Bagian Perekonomian"]
OPDS = [(f"opd-{i:02d}", f"{kind} Kota Kediri") for i, kind in enumerate(OPD_KINDS)]
VENUES = ["Ruang Joyoboyo Balai Kota Kediri", "Ruang Rapat Kilisuci Balai Kota",
          "GOR Jayabaya", "Stadion Brawijaya", "Taman Sekartaji", "Aula Bappeda Kota Kediri",
          "Pendopo Rumah Dinas Wali Kota", "Gedung Nasional Indonesia (GNI)",
          "Convention Hall Hotel Lotus", "Alun-Alun Kota Kediri", *FREE_TEXT]
PERSONS = ["Wali Kota Kediri", "Wakil Wali Kota Kediri", "Sekretaris Daerah Kota Kediri",
           "Kepala Dinas Kesehatan", "Ketua TP PKK Kota Kediri", "Asisten Pemerintahan"]


def day_sources(rng: random.Random, day: dt.date, per_day: int, series: float
                ) -> list[tuple[str, str, str]]:
    """(OPD, OPD name, iCalendar text) of the sources starting on ``day``.

    Weekly series start at the rate that makes ``series`` of each day's activities
    their occurrences (a series of COUNT occurrences counts COUNT times).
    """
    out = []
    n_single = round(per_day * (1 - series))
    n_series = rng.random() < per_day * series / 15  # COUNT 4..26: 15 on average
    for i in range(n_single + n_series):
        opd, name = rng.choice(OPDS)
        hours = rng.choice((1, 1, 1.5, 2, 2, 2.5, 3))
        minute = rng.randrange(7 * 60, 17 * 60 + 1, 30)
        start = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
        end = start + dt.timedelta(minutes=int(hours * 60))
        description = None
        if rng.random() < 0.3:
            description = (f"{rng.choice(LABELS)}: {rng.choice(PERSONS)}\n"
                           "Peserta: perwakilan OPD dan kelurahan se-Kota Kediri")
        elif rng.random() < 0.5:
            description = "Kegiatan rutin. Mohon hadir 15 menit sebelum acara dimulai."
        rrule = f"FREQ=WEEKLY;COUNT={rng.randint(4, 26)}" if i >= n_single else None
        uid = f"{opd}-{day:%Y%m%d}-{i:02d}-{rng.getrandbits(32):08x}"
        out.append((opd, name, event_ics(uid, start, end, rng.choice(ACTIVITIES),
                                         rng.choice(VENUES), description, rrule)))
    return out


def add_days(state: State, rng: random.Random, days: list[dt.date], per_day: int,
             series: float, stamp: str) -> int:
    """Write the public copies of ``days``' sources into ``state``; how many."""
    count = 0
    outs = []
    for day in days:
        for opd, name, text in day_sources(rng, day, per_day, series):
            uid = text.split("UID:", 1)[1].split("\r\n", 1)[0]
            src = Source(opd, name, f"{uid}.ics", uid, text)
            cal = parse(src)
            copy = public_copy(src, cal)
            assert copy is not None
            out = Output(publish.PUBLIC, output_href(opd, uid), opd, src.href, "k", 0, stamp,
                         stamped(copy, stamp, 0), *span(cal), False)
            outs.append(out)
            count += 1
    state.apply(outs, 0)
    return count


def measure(state: State, folder: Path, now: int, years: int, copies: int) -> dict[str, object]:
    """Render the feeds as a sync pass does and the on-request views; their sizes."""
    began = time.perf_counter()
    publish.publish(state, folder, [publish.PUBLIC], {}, now, [o for o, _ in OPDS])
    render_s = time.perf_counter() - began
    files = {name: (folder / f"{name}.ics").read_bytes()
             for name in ("publik-agenda", "publik-agenda-penuh", "publik-agenda-opd-opd-00")}
    began = time.perf_counter()
    files["kategori"] = publish.render_range(state, now, publish.window(now), "x",
                                             category=OPDS[1][1])
    category_s = time.perf_counter() - began
    today = publish.midnight(now)
    began = time.perf_counter()
    files["range-3y"] = publish.render_range(state, now, (today - 3 * 366 * publish.DAY,
                                                          today), "x")
    range_s = time.perf_counter() - began
    default = files["publik-agenda"]
    return {"years": years, "copies": copies,
            "default_events": default.count(b"BEGIN:VEVENT"),
            "sizes": {k: len(v) for k, v in files.items()},
            "gzip": {k: len(gzip.compress(v)) for k, v in files.items()},
            "publish_s": round(render_s, 2), "kategori_s": round(category_s, 2),
            "range_3y_s": round(range_s, 2)}


def kb(n: object) -> str:
    """Bytes as kB (1 kB = 1000 bytes), Indonesian-neutral."""
    return f"{int(n) / 1000:,.0f} kB"  # type: ignore[call-overload]


def table(res: dict) -> str:  # type: ignore[type-arg]
    """The Markdown table of a run."""
    lines = [f"{res['per_day']} public activities a day, {res['ahead']} days ahead booked, "
             f"window {publish.WINDOW_PAST_DAYS} days back / {publish.WINDOW_FUTURE_DAYS} "
             f"ahead; run {res['date']}, {res['total_s']:.0f} s.", "",
             "| history | copies in sync.db | default feed (VEVENTs) | gzip | per OPD | "
             "?kategori= (window) | ?dari=&sampai= 3 years | ?penuh=1 | gzip |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in res["runs"]:
        s, g = r["sizes"], r["gzip"]
        lines.append(
            f"| {r['years']} y | {r['copies']:,} | {kb(s['publik-agenda'])} "
            f"({r['default_events']:,}) | {kb(g['publik-agenda'])} | "
            f"{kb(s['publik-agenda-opd-opd-00'])} | {kb(s['kategori'])} | "
            f"{kb(s['range-3y'])} | {kb(s['publik-agenda-penuh'])} | "
            f"{kb(g['publik-agenda-penuh'])} |")
    last = res["runs"][-1]
    lines += ["", f"Bytes per VEVENT in the default feed: {res['per_event']:.0f}. Render of "
              f"every public feed after a pass (5 y): {last['publish_s']} s; a ?kategori= view "
              f"on request: {last['kategori_s']} s; a 3-year ?dari=&sampai=: "
              f"{last['range_3y_s']} s (each once per change of the agenda, then cached)."]
    return "\n".join(lines)


def main() -> int:
    """Build the city's state, measure at each history length, write the doc."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--per-day", type=int, default=20)
    p.add_argument("--years", default="1,2,5")
    p.add_argument("--ahead", type=int, default=365, help="days ahead booked")
    p.add_argument("--series", type=float, default=0.10)
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--no-doc", action="store_true")
    p.add_argument("--out", default=str(BENCH / "results" / "feedsize-latest.json"))
    args = p.parse_args()
    rng = random.Random(args.seed)
    began = time.perf_counter()
    now = int(time.time())
    today = dt.datetime.fromtimestamp(now + publish.WIB_OFFSET, dt.UTC).date()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    res: dict[str, object] = {"per_day": args.per_day, "ahead": args.ahead,
                              "series": args.series, "date": str(today), "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        state = State(Path(tmp) / "sync.db")
        copies, done_back = 0, 0
        copies += add_days(state, rng, [today + dt.timedelta(days=d) for d in
                                        range(args.ahead + 1)], args.per_day, args.series, stamp)
        for years in sorted(int(y) for y in args.years.split(",")):
            back = years * 365
            copies += add_days(state, rng, [today - dt.timedelta(days=d) for d in
                                            range(done_back + 1, back + 1)],
                               args.per_day, args.series, stamp)
            done_back = back
            run = measure(state, Path(tmp) / "feeds", now, years, copies)
            res["runs"].append(run)  # type: ignore[attr-defined]
            print(json.dumps(run), flush=True)
        state.close()
    runs = res["runs"]
    assert isinstance(runs, list)
    res["per_event"] = runs[-1]["sizes"]["publik-agenda"] / runs[-1]["default_events"]
    res["total_s"] = time.perf_counter() - began
    out = Path(args.out)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1), encoding="utf-8")
    text = table(res)
    print(text)
    if not args.no_doc and DOC.exists():
        doc = DOC.read_text("utf-8")
        begin, end = "<!-- results:begin -->", "<!-- results:end -->"
        head, _, rest = doc.partition(begin)
        _, _, tail = rest.partition(end)
        DOC.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
