"""Demo content for ``kalender init --demo``: accounts and two weeks of activities.

The activities are realistic cross-department events at Kota Kediri venues.
Each one has a time slot of its own, so the demo never trips the clash rules.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from kalender.registry import User

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")

DEMO_USERS = (
    User("pic-demo", "pic", ("dinkes", "diskominfo", "bappeda")),
    User("pimpinan-demo", "pimpinan"),
    User("admin-demo", "admin"),
)

# (OPD, title, location, description, class)
ACTIVITIES = (
    ("dinkes", "Rapat Koordinasi Percepatan Penurunan Stunting", "Ruang Joyoboyo Balai Kota Kediri",
     "Pimpinan: Wakil Wali Kota Kediri\nPeserta: Kepala Puskesmas se-Kota Kediri", "PUBLIC"),
    ("diskominfo", "Sosialisasi Keamanan Informasi bagi Admin Website OPD", "Ruang Command Center",
     "Narasumber: BSSN Provinsi Jawa Timur", "PUBLIC"),
    ("bappeda", "Musrenbang Tingkat Kota Tahun 2027", "Gedung Nasional Indonesia",
     "Narasumber: Wali Kota Kediri; Sekretaris Daerah Kota Kediri", "PUBLIC"),
    ("dinkes", "Evaluasi Kinerja Puskesmas Triwulan IV", "Ruang Kilisuci Balaikota Kediri",
     "Rapat internal dinas", "CONFIDENTIAL"),
    ("setda", "Apel Pagi Gabungan ASN Pemkot Kediri", "Halaman Balai Kota Kediri",
     "Pimpinan: Wali Kota Kediri", "PUBLIC"),
    ("disbudparpora", "Persiapan Kediri Nite Carnival", "Taman Sekartaji",
     "Rapat panitia bersama komunitas", "PUBLIC"),
    ("diskominfo", "Rapat Persiapan Command Center Terpadu", "R. Command Center Balaikota",
     "Pimpinan: Asisten Administrasi Umum", "PUBLIC"),
    ("dinkes", "Pencanangan Bulan Imunisasi Anak Sekolah", "Alun-Alun Kota Kediri",
     "Pimpinan: Wali Kota Kediri", "PUBLIC"),
    ("bappeda", "Forum Konsultasi Publik RKPD", "Ruang Joyoboyo",
     "Narasumber: Kepala Bappeda; Asisten Perekonomian dan Pembangunan", "PUBLIC"),
    ("dpmptsp", "Pelayanan Perizinan Keliling", "Mal Pelayanan Publik Kota Kediri",
     "", "PUBLIC"),
    ("disdik", "Lomba Literasi Pelajar Tingkat Kota", "GOR Jayabaya",
     "Pimpinan: Wakil Wali Kota Kediri", "PUBLIC"),
    ("dinkes", "Koordinasi Layanan Kesehatan Jiwa dengan RSUD Gambiran", "RSUD Gambiran",
     "", "PRIVATE"),
)
VTIMEZONE_JAKARTA = (
    "BEGIN:VTIMEZONE", "TZID:Asia/Jakarta", "BEGIN:STANDARD", "DTSTART:19700101T000000",
    "TZOFFSETFROM:+0700", "TZOFFSETTO:+0700", "TZNAME:WIB", "END:STANDARD", "END:VTIMEZONE",
)
SLOTS = ((8, 0, 10, 0), (10, 30, 12, 0), (13, 0, 15, 0))


@dataclass(frozen=True)
class DemoEvent:
    """One sample activity ready to be stored."""

    opd: str
    name: str
    ics: str


def passwords() -> dict[str, str]:
    """A fresh random password for each demo account."""
    return {u.login: secrets.token_urlsafe(9) for u in DEMO_USERS}


def events(today: dt.date, stamp: dt.datetime) -> Iterator[DemoEvent]:
    """Sample activities on the working days of the two weeks from ``today``."""
    days = [today + dt.timedelta(days=n) for n in range(14)]
    workdays = [d for d in days if d.weekday() < 5]
    slots = [(d, s) for d in workdays for s in SLOTS]
    for n, (day, (h1, m1, h2, m2)) in enumerate(slots[: 2 * len(ACTIVITIES)]):
        opd, title, location, description, klass = ACTIVITIES[n % len(ACTIVITIES)]
        start = dt.datetime(day.year, day.month, day.day, h1, m1)
        end = dt.datetime(day.year, day.month, day.day, h2, m2)
        uid = f"demo-{day.isoformat()}-{h1:02d}{m1:02d}@kalender-opd"
        lines = [
            "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//demo//ID",
            *VTIMEZONE_JAKARTA,
            "BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
            f"DTSTART;TZID=Asia/Jakarta:{start:%Y%m%dT%H%M%S}",
            f"DTEND;TZID=Asia/Jakarta:{end:%Y%m%dT%H%M%S}",
            f"SUMMARY:{title}", f"LOCATION:{_escape(location)}", f"CLASS:{klass}",
        ]
        if description:
            lines.append(f"DESCRIPTION:{_escape(description)}")
        lines += ["END:VEVENT", "END:VCALENDAR", ""]
        yield DemoEvent(opd, f"{uid.split('@')[0]}.ics", "\r\n".join(lines))


def _escape(text: str) -> str:
    """TEXT escaping of RFC 5545 §3.3.11."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))
