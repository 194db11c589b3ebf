"""Benchmark data: a Kalender OPD deployment with N events and a vanilla Radicale 3.9 copy.

``make_dataset(workdir, name, n, target_count)``:

1. ``kalender init`` + 7 x ``kalender opd add`` (40 OPD calendars) + one PIC account
   for the target OPD (``kalender user add ... --password-stdin``);
2. N events written directly as ``<uid>.ics`` files into the OPD collection folders
   (``target_count`` of them in the target calendar, the rest spread over the other 39);
3. ``vanilla_copy()`` (called by run.py after ``kalender reindex``) copies
   ``collections/collection-root`` into a vanilla Radicale folder with a minimal config
   (htpasswd plain, ``[rights] type = authenticated``, multifilesystem,
   ``use_mtime_and_size_for_item_cache = True``) and the same login.

Events: Kediri activities of 1-3 h on random days in the next 2 years (day 1..729),
starting 07:00-17:00 WIB and ending by 20:00 WIB, LOCATION a registered venue name or
alias (a venue picked uniformly, then one of its spellings; about 15% free text),
DESCRIPTION with a labelled key person about 30% of the time (same uniform pick),
about 10% weekly recurring with COUNT. The evening (21:00-22:00 WIB) is therefore
always free for the measured PUTs.

Run alone: ``python bench/data.py --n 1000 --workdir /tmp/kalender-bench``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
KALENDER = str(VENV_BIN / "kalender")
LOGIN = "pic-bench"
PASSWORD = "rahasia-kediri-1"
TARGET = "dinkes"
WIB = dt.timezone(dt.timedelta(hours=7))
EXTRA_OPDS = [
    ("bag-hukum", "Bagian Hukum Sekretariat Daerah Kota Kediri"),
    ("bag-umum", "Bagian Umum Sekretariat Daerah Kota Kediri"),
    ("bag-kesra", "Bagian Kesejahteraan Rakyat Sekretariat Daerah Kota Kediri"),
    ("bag-organisasi", "Bagian Organisasi Sekretariat Daerah Kota Kediri"),
    ("bag-pbj", "Bagian Pengadaan Barang dan Jasa Sekretariat Daerah Kota Kediri"),
    ("bag-adpem", "Bagian Administrasi Pembangunan Sekretariat Daerah Kota Kediri"),
    ("upt-pkb", "UPT Pengujian Kendaraan Bermotor Dinas Perhubungan Kota Kediri"),
]

ACTIVITIES = [
    "Rapat Koordinasi Percepatan Penurunan Stunting", "Musrenbang Kelurahan",
    "Sosialisasi Program Prodamas Plus", "Rapat Evaluasi Kinerja Triwulan",
    "Apel Pagi Gabungan", "Posyandu Lansia", "Pelatihan UMKM Tenun Ikat Bandar Kidul",
    "Festival Kuliner Tahu Kuning", "Lomba Kampung Tangguh", "Senam Sehat Bersama",
    "Vaksinasi Anak Sekolah", "Bimbingan Teknis Penyusunan RKA", "Rapat Paripurna DPRD",
    "Audiensi Forum Anak Kota Kediri", "Pasar Murah Ramadhan", "Car Free Day",
    "Pelayanan Adminduk Keliling", "Sosialisasi Bahaya Narkoba", "Donor Darah PMI",
    "Rapat Tim Pengendali Inflasi Daerah", "Peresmian Taman Kelurahan",
    "Kediri Fashion Week Persiapan", "Gebyar PAUD", "Pelatihan Kader Jumantik",
    "Monitoring Proyek Jalan Lingkar", "Dialog Interaktif Radio Andika", "Khitanan Massal",
    "Pengajian Akbar", "Jalan Sehat HUT Kota Kediri", "Upacara Hari Kesadaran Nasional",
    "Rakor Forkopimda", "Bazar UMKM Dekranasda", "Seleksi Duta Wisata Kota Kediri",
]
FREE_TEXT = [
    "Kantor Kelurahan Bandar Lor", "Aula Kecamatan Mojoroto", "SDN Banjaran 3",
    "Puskesmas Sukorame", "Balai RW 05 Kelurahan Semampir", "Lapangan Kelurahan Pakunden",
    "Hotel Grand Surya Kediri", "Pendopo Kelurahan Dandangan", "Zoom Meeting",
    "Gedung Serbaguna Kelurahan Tosaren",
]
LABELS = ["Narasumber", "Dihadiri oleh", "Pimpinan upacara", "Hadir"]
VTIMEZONE = ["BEGIN:VTIMEZONE", "TZID:Asia/Jakarta", "BEGIN:STANDARD",
             "TZOFFSETFROM:+0700", "TZOFFSETTO:+0700", "TZNAME:WIB",
             "DTSTART:19700101T000000", "END:STANDARD", "END:VTIMEZONE"]


@dataclass
class Dataset:
    """Where one generated deployment lives and what it holds."""

    name: str
    root: str          # the Kalender OPD deployment (kalender init DIR)
    vanilla: str       # the vanilla Radicale folder (config, htpasswd, collections/)
    n: int             # events in total
    target: str        # target OPD id
    target_count: int  # events in the target calendar
    recurring: int     # events with a weekly RRULE;COUNT
    login: str = LOGIN
    password: str = PASSWORD
    today: str = ""    # WIB date the data was generated for (measured slots use it)

    @property
    def target_dir(self) -> Path:
        return Path(self.root) / "collections/collection-root/opd" / self.target


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def fold(line: str) -> str:
    """RFC 5545 §3.1 folding at 75 octets (all text here is ASCII)."""
    if len(line) <= 75:
        return line
    parts = [line[:75]]
    rest = line[75:]
    while rest:
        parts.append(" " + rest[:74])
        rest = rest[74:]
    return "\r\n".join(parts)


def ics(lines: list[str]) -> str:
    """A VCALENDAR with the Asia/Jakarta VTIMEZONE around VEVENT ``lines``."""
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pemkot Kediri//Kalender OPD//ID",
            "CALSCALE:GREGORIAN", *VTIMEZONE, "BEGIN:VEVENT", *lines, "END:VEVENT",
            "END:VCALENDAR"]
    return "\r\n".join(fold(x) for x in body) + "\r\n"


def _stamp(t: dt.datetime) -> str:
    return t.strftime("%Y%m%dT%H%M%S")


def event_ics(uid: str, start: dt.datetime, end: dt.datetime, summary: str,
              location: str | None = None, description: str | None = None,
              rrule: str | None = None, organizer: str | None = None) -> str:
    """One VEVENT in Asia/Jakarta (start/end are WIB wall-clock datetimes)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [f"UID:{uid}", f"DTSTAMP:{now}", f"CREATED:{now}", f"LAST-MODIFIED:{now}",
             f"DTSTART;TZID=Asia/Jakarta:{_stamp(start)}",
             f"DTEND;TZID=Asia/Jakarta:{_stamp(end)}", f"SUMMARY:{_escape(summary)}"]
    if location:
        lines.append(f"LOCATION:{_escape(location)}")
    if description:
        lines.append(f"DESCRIPTION:{_escape(description)}")
    if organizer:
        lines.append(f"ORGANIZER;CN={_escape(organizer)}:mailto:{uid.split('-')[0]}"
                     "@kedirikota.go.id")
    if rrule:
        lines.append(f"RRULE:{rrule}")
    lines += ["STATUS:CONFIRMED", "SEQUENCE:0", "TRANSP:OPAQUE"]
    return ics(lines)


def _spellings(path: Path, name: str) -> list[list[str]]:
    """Per registry row: its name and aliases (a venue/person is picked uniformly first,
    then one of its spellings, so rows with many aliases are not over-represented)."""
    with path.open(encoding="utf-8") as f:
        return [[row[name], *(a for a in row["aliases"].split(";") if a)]
                for row in csv.DictReader(f)]


def _run(args: list[str], stdin: str | None = None) -> None:
    proc = subprocess.run(args, input=stdin, text=True, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed: {proc.stderr[-2000:]}")


def make_deployment(root: Path, sync: bool = False) -> list[str]:
    """kalender init + 7 OPD + the PIC account; returns the 40 OPD ids.

    Without ``sync``, DIR/sync.secret is removed so ``kalender serve`` runs without its
    sync service (see README: the write path is compared like for like with vanilla).
    """
    if root.exists():
        shutil.rmtree(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    _run([KALENDER, "init", str(root)])
    for opd, name in EXTRA_OPDS:
        _run([KALENDER, "opd", "add", opd, name, "--dir", str(root)])
    _run([KALENDER, "user", "add", LOGIN, "--role", "pic", "--opd", TARGET, "--dir", str(root),
          "--password-stdin"], stdin=PASSWORD + "\n")
    if not sync:
        # kalender serve starts its sync service (merged calendars) only when this file
        # exists; vanilla has no such service, and its first pass over N events would
        # compete with the measured requests for the lock and the 2 cores.
        (root / "sync.secret").unlink(missing_ok=True)
    with (root / "opd.csv").open(encoding="utf-8") as f:
        opds = [row["id"] for row in csv.DictReader(f)]
    assert len(opds) == 40, opds
    return opds


def write_events(root: Path, opds: list[str], n: int, target_count: int, seed: int,
                 today: dt.date) -> int:
    """Write N .ics files; returns how many are recurring."""
    rng = random.Random(seed)
    venues = _spellings(root / "venues.csv", "name")
    persons = _spellings(root / "persons.csv", "title")
    others = [o for o in opds if o != TARGET]
    base = root / "collections/collection-root/opd"
    target_count = min(target_count, n)
    recurring = 0
    for i in range(n):
        opd = TARGET if i < target_count else others[rng.randrange(len(others))]
        day = today + dt.timedelta(days=rng.randint(1, 729))
        hours = rng.choice((1, 1, 1.5, 2, 2, 2.5, 3))
        latest = 20 * 60 - int(hours * 60)  # end by 20:00
        minute = rng.randrange(7 * 60, min(latest, 17 * 60) + 1, 30)
        start = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
        end = start + dt.timedelta(minutes=int(hours * 60))
        location = (rng.choice(FREE_TEXT) if rng.random() < 0.15
                    else rng.choice(rng.choice(venues)))
        description = None
        if rng.random() < 0.3:
            description = (f"{rng.choice(LABELS)}: {rng.choice(rng.choice(persons))}\n"
                           "Peserta: perwakilan OPD dan kelurahan se-Kota Kediri")
        elif rng.random() < 0.5:
            description = "Kegiatan rutin. Mohon hadir 15 menit sebelum acara dimulai."
        rrule = None
        if rng.random() < 0.10:
            rrule = f"FREQ=WEEKLY;COUNT={rng.randint(4, 26)}"
            recurring += 1
        uid = f"{opd}-{i:06d}-{rng.getrandbits(48):012x}"
        text = event_ics(uid, start, end, f"{rng.choice(ACTIVITIES)}", location, description,
                         rrule, organizer=opd.upper())
        (base / opd / f"{uid}.ics").write_text(text, encoding="utf-8", newline="")
    return recurring


VANILLA_CONFIG = """[server]
hosts = 127.0.0.1:5232
max_content_length = 20000000
timeout = 30

[auth]
type = htpasswd
htpasswd_filename = {dir}/users.htpasswd
htpasswd_encryption = plain
delay = 1

[rights]
type = authenticated

[storage]
type = multifilesystem
filesystem_folder = {dir}/collections
use_mtime_and_size_for_item_cache = True

[web]
type = none

[logging]
level = info
mask_passwords = True
"""


def vanilla_copy(ds: Dataset) -> None:
    """Copy the collection-root (item files and props, mtimes kept) for vanilla."""
    vdir = Path(ds.vanilla)
    if vdir.exists():
        shutil.rmtree(vdir)
    (vdir / "collections").mkdir(parents=True)
    shutil.copytree(Path(ds.root) / "collections/collection-root",
                    vdir / "collections/collection-root", copy_function=shutil.copy2)
    (vdir / "config").write_text(VANILLA_CONFIG.format(dir=vdir), encoding="utf-8")
    (vdir / "users.htpasswd").write_text(f"{ds.login}:{ds.password}\n", encoding="utf-8")


def make_dataset(workdir: Path, name: str, n: int, target_count: int = 1000,
                 seed: int = 20240817, sync: bool = False) -> Dataset:
    """Generate deployment + events (no reindex, no vanilla copy yet)."""
    root = workdir / name / "kalender"
    today = dt.datetime.now(WIB).date()
    opds = make_deployment(root, sync)
    recurring = write_events(root, opds, n, target_count, seed, today)
    ds = Dataset(name, str(root), str(workdir / name / "vanilla"), n, TARGET,
                 min(target_count, n), recurring, today=today.isoformat())
    (workdir / name / "dataset.json").write_text(json.dumps(asdict(ds), indent=1))
    return ds


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--target-count", type=int, default=1000)
    p.add_argument("--name")
    p.add_argument("--workdir", default="/tmp/kalender-bench")
    p.add_argument("--vanilla", action="store_true", help="also make the vanilla copy now")
    args = p.parse_args()
    began = time.perf_counter()
    ds = make_dataset(Path(args.workdir), args.name or f"n{args.n}", args.n, args.target_count)
    if args.vanilla:
        vanilla_copy(ds)
    print(f"{ds.name}: {ds.n} events ({ds.recurring} recurring), {ds.target_count} in "
          f"/opd/{ds.target}/, {time.perf_counter() - began:.1f} s -> {ds.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
