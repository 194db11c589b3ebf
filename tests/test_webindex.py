"""The web pages' data: occurrences of the public agenda, rendered by the sync service."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kalender.clash.match import Matcher
from kalender.clash.rules import Venue
from kalender_sync.occurrences import WIB, expand
from kalender_sync.service import SyncService
from kalender_sync.webindex import WebIndex
from tests.conftest import LiveServer, ServeProcess, make_deployment, serve_in_thread
from tests.test_upgrade import unpack

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=WIB)
MATCHER = Matcher([Venue("ruang-kilisuci", "Ruang Kilisuci")], [])
SERIES = "\r\n".join([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//ID",
    "BEGIN:VEVENT", "UID:0123456789abcdef0123456789abcdef@kalender-opd",
    "DTSTART;TZID=Asia/Jakarta:20261201T090000", "DTEND;TZID=Asia/Jakarta:20261201T110000",
    "RRULE:FREQ=WEEKLY;COUNT=3", "SUMMARY:Senam  Bersama", "LOCATION:Ruang Kilisuci",
    "CATEGORIES:Olahraga,Dinas Kesehatan",
    "DESCRIPTION:Terbuka untuk umum\\n\\nPenyelenggara: Dinas Kesehatan",
    "END:VEVENT",
    "BEGIN:VEVENT", "UID:0123456789abcdef0123456789abcdef@kalender-opd",
    "RECURRENCE-ID;TZID=Asia/Jakarta:20261208T090000",
    "DTSTART;TZID=Asia/Jakarta:20261208T130000", "DTEND;TZID=Asia/Jakarta:20261208T150000",
    "SUMMARY:Senam Bersama (sore)", "LOCATION:Lapangan", "STATUS:CANCELLED",
    "END:VEVENT", "END:VCALENDAR", ""])


def test_a_series_becomes_one_occurrence_per_instance() -> None:
    found, endless = expand(SERIES, "dinkes", "Dinas Kesehatan", MATCHER, NOW)
    assert not endless
    assert [o.id[-13:] for o in found] == ["20261201T0900", "20261208T0900", "20261215T0900"]
    first, moved, last = found
    assert first.start == dt.datetime(2026, 12, 1, 9, tzinfo=WIB)
    assert first.end - first.start == dt.timedelta(hours=2)
    assert first.title == "Senam Bersama" and first.venue == "ruang-kilisuci"
    assert first.categories == ("Olahraga",) and first.description == "Terbuka untuk umum"
    assert moved.start.hour == 13 and moved.venue is None and moved.cancelled
    assert not moved.happening(moved.start) and first.happening(first.start)
    assert len({o.id for o in found}) == 3 and last.uid == first.uid


def test_all_day_floating_and_internal() -> None:
    text = "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//ID",
        "BEGIN:VEVENT", "UID:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@kalender-opd",
        "DTSTART;VALUE=DATE:20261224", "DTEND;VALUE=DATE:20261226", "SUMMARY:Libur",
        "END:VEVENT",
        "BEGIN:VEVENT", "UID:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb@kalender-opd",
        "DTSTART:20261202T100000", "SUMMARY:Kegiatan internal - Dinkes", "CLASS:CONFIDENTIAL",
        "LOCATION:Ruang Kilisuci", "END:VEVENT", "END:VCALENDAR", ""])
    internal, holiday = expand(text, "dinkes", "Dinkes", MATCHER, NOW)[0]
    assert holiday.all_day and holiday.id == "a" * 32
    assert holiday.end - holiday.start == dt.timedelta(days=2)
    assert internal.start == dt.datetime(2026, 12, 2, 10, tzinfo=WIB)  # floating is WIB
    assert internal.end == internal.start and internal.internal
    assert internal.location == "" and internal.venue is None


def test_an_endless_series_is_listed_up_to_the_horizon() -> None:
    text = SERIES.replace("FREQ=WEEKLY;COUNT=3", "FREQ=MONTHLY")
    found, endless = expand(text, "dinkes", "Dinas Kesehatan", MATCHER, NOW)
    assert endless and 23 <= len(found) <= 25


# -- through the server -----------------------------------------------------------

DAY = dt.date.today() + dt.timedelta(days=3)


def ics(uid: str, summary: str, *, klass: str = "PUBLIC", extra: str = "",
        location: str = "Ruang Kilisuci", start: str = "090000") -> bytes:
    """An event on DAY."""
    d = DAY.strftime("%Y%m%d")
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//ID", "BEGIN:VEVENT", f"UID:{uid}",
        "DTSTAMP:20260101T000000Z", f"DTSTART;TZID=Asia/Jakarta:{d}T{start}",
        f"DTEND;TZID=Asia/Jakarta:{d}T235900", f"SUMMARY:{summary}", f"CLASS:{klass}",
        f"LOCATION:{location}", "DESCRIPTION:Hubungi budi@example.org", *extra.split("|"),
        "END:VEVENT", "END:VCALENDAR", ""]).replace("\r\n\r\n", "\r\n").encode()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own."""
    yield from serve_in_thread(make_deployment(tmp_path_factory.mktemp("web") / "kediri"))


def put(live: LiveServer, login: str, path: str, body: bytes) -> None:
    """A PUT that must succeed."""
    r = live.request(login, "PUT", path, data=body, headers={"Content-Type": "text/calendar"})
    assert r.status_code in (201, 204), r.text


def sync_once(live: LiveServer) -> None:
    """One pass of the sync service."""
    service = SyncService(live.dep, live.url)
    try:
        assert not service.run_once().failed
    finally:
        service.close()


def test_the_index_follows_pic_writes(live: LiveServer) -> None:
    tag = uuid.uuid4().hex[:8]
    put(live, "pic-x", f"/opd/dinkes/{tag}-a.ics",
        ics(f"{tag}a", f"Posyandu {tag}", start="080000",
            extra="CATEGORIES:Kesehatan|ATTENDEE;CN=Wali Kota Kediri:mailto:wk@example.org"))
    put(live, "pic-x", f"/opd/dinkes/{tag}-b.ics", ics(f"{tag}b", f"Rapat rahasia {tag}",
                                                       klass="CONFIDENTIAL", location="Aula X"))
    put(live, "pic-y", f"/opd/dinsos/{tag}-c.ics", ics(f"{tag}c", f"Pribadi {tag}",
                                                       klass="PRIVATE", location="Aula Y"))
    put(live, "pic-y", f"/opd/dinsos/{tag}-d.ics", ics(f"{tag}d", f"Bazar {tag}",
                                                       location="Taman", start="100000"))
    sync_once(live)
    index = WebIndex(live.dep.root / "sync.db")
    try:
        day = dt.datetime.combine(DAY, dt.time(), WIB)
        found = index.between(day, day + dt.timedelta(days=1))
        titles = [o.title for o in found]
        assert f"Posyandu {tag}" in titles and f"Bazar {tag}" in titles
        assert not any(f"Pribadi {tag}" in t or f"rahasia {tag}" in t for t in titles)
        internal = [o for o in found if o.internal and o.opd == "dinkes"]
        assert internal and internal[0].title.startswith("Kegiatan internal - ")
        assert internal[0].location == "" and internal[0].description == ""
        posyandu = next(o for o in found if o.title == f"Posyandu {tag}")
        assert posyandu.venue == "ruang-kilisuci" and posyandu.categories == ("Kesehatan",)
        assert "budi@example.org" not in posyandu.description
        assert index.get(posyandu.id) == posyandu
        assert [o.title for o in index.search(f"posyandu {tag.upper()}")] == [posyandu.title]
        assert [o.title for o in index.search(tag, opd="dinsos")] == [f"Bazar {tag}"]
        assert [o.title for o in index.search(tag, venue="ruang-kilisuci")] == [posyandu.title]
        assert [o.title for o in index.search(tag, category="Kesehatan")] == [posyandu.title]
        assert "Kesehatan" in index.categories()
        # the leaders' agenda: every class, in full, with its class for each view to judge
        full = {o.title: o for o in index.between(day, day + dt.timedelta(days=1),
                                                   calendar="pimpinan/agenda")}
        assert full[f"Pribadi {tag}"].klass == "PRIVATE" and not full[f"Pribadi {tag}"].internal
        assert full[f"Rapat rahasia {tag}"].location == "Aula X"
        assert full[f"Rapat rahasia {tag}"].klass == "CONFIDENTIAL"
        assert full[f"Posyandu {tag}"].persons == ("wali-kota",)
        assert [o.title for o in index.between(day, day + dt.timedelta(days=1),
                                               calendar="pimpinan/agenda", person="wali-kota")
                ] == [f"Posyandu {tag}"]
        assert index.get(posyandu.id, "pimpinan/agenda") is not None
        assert index.source_of(posyandu) == ("dinkes", f"{tag}-a.ics")
        before = index.version()
        live.request("pic-y", "DELETE", f"/opd/dinsos/{tag}-d.ics")
        sync_once(live)
        assert index.search(f"Bazar {tag}") == [] and index.version() != before
        # a lost index (an older deployment, a pass killed half-way) is rebuilt
        index.db.execute("DELETE FROM web_items")
        index.db.execute("DELETE FROM web_occurrences")
        sync_once(live)
        assert [o.title for o in index.search(f"posyandu {tag}")] == [posyandu.title]
    finally:
        index.close()


def test_per_opd_public_feed(live: LiveServer) -> None:
    tag = uuid.uuid4().hex[:8]
    put(live, "pic-x", f"/opd/dinkes/{tag}.ics", ics(f"{tag}k", f"Kesehatan {tag}",
                                                     location=f"Aula {tag}"))
    put(live, "pic-y", f"/opd/dinsos/{tag}.ics", ics(f"{tag}s", f"Sosial {tag}", location="X"))
    sync_once(live)
    r = requests.get(f"{live.url}/publik/agenda/?opd=dinkes", timeout=10)
    assert r.status_code == 200 and f"Kesehatan {tag}" in r.text
    assert f"Sosial {tag}" not in r.text and "Dinas Kesehatan" in r.text
    r = requests.get(f"{live.url}/publik/agenda/?opd=tidak-ada", timeout=10)
    assert r.status_code == 404 and "OPD" in r.text and "feed-exists" in r.text


def test_an_old_deployment_gets_its_web_data(tmp_path: Path) -> None:
    old = unpack("main-24ffd88.tar.gz", tmp_path)
    server = ServeProcess(old)
    try:
        deadline = time.monotonic() + 60
        count = 0
        while count == 0 and time.monotonic() < deadline:
            time.sleep(0.5)
            with sqlite3.connect(old.root / "sync.db") as db:
                try:
                    count = db.execute("SELECT count(*) FROM web_occurrences").fetchone()[0]
                except sqlite3.OperationalError:  # not created yet
                    count = 0
        assert count > 0
    finally:
        server.stop()


def test_web_tables_of_an_older_layout_are_rebuilt(tmp_path: Path) -> None:
    """Derived data: a sync.db with the first web layout is dropped and indexed anew."""
    path = tmp_path / "sync.db"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE web_items (href TEXT PRIMARY KEY, key TEXT NOT NULL,"
                         " until INTEGER); CREATE TABLE web_occurrences (id TEXT PRIMARY KEY,"
                         " href TEXT, data TEXT); INSERT INTO web_items VALUES ('a.ics','k',0);")
    index = WebIndex(path)
    try:
        assert index.between(NOW, NOW + dt.timedelta(days=1)) == []
        assert index.db.execute("SELECT count(*) FROM web_items").fetchone()[0] == 0
    finally:
        index.close()
