"""The JSON agenda, the lobby screen and the daily print sheet over real HTTP.

PICs write with CalDAV, one sync pass renders the web data, then anonymous GETs of
``/publik/agenda.json``, ``/layar/``, ``/layar/data.json`` and ``/cetak/``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from kalender_sync.occurrences import WIB
from kalender_sync.service import SyncService
from tests.conftest import LiveServer, make_deployment, serve_in_thread

HTML = {"Accept": "text/html,application/xhtml+xml"}
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
         "September", "Oktober", "November", "Desember")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")
DINKES = "Dinas Kesehatan Kota Kediri"
INTERNAL = f"Kegiatan internal - {DINKES}"


def long_date(day: dt.date) -> str:
    """``Selasa, 1 Desember 2026``, written out here independently of kalender.web.dates."""
    return f"{HARI[day.weekday()]}, {day.day} {BULAN[day.month - 1]} {day.year}"


def vevent(uid: str, summary: str, start: dt.datetime | dt.date, end: dt.datetime | dt.date,
           *lines: str) -> bytes:
    """A VCALENDAR with one VEVENT (a DATE start makes it all-day, RFC 5545 §3.6.1)."""
    def when(name: str, value: dt.datetime | dt.date) -> str:
        if isinstance(value, dt.datetime):
            return f"{name};TZID=Asia/Jakarta:{value:%Y%m%dT%H%M%S}"
        return f"{name};VALUE=DATE:{value:%Y%m%d}"

    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//tests//ID", "BEGIN:VEVENT",
        f"UID:{uid}", "DTSTAMP:20260101T000000Z", when("DTSTART", start), when("DTEND", end),
        f"SUMMARY:{summary}", *lines, "END:VEVENT", "END:VCALENDAR", ""]).encode()


@dataclass
class Agenda:
    """What the module wrote: its tag and days."""

    live: LiveServer
    tag: str
    today: dt.date
    day: dt.date  #: the day of the JSON and print tests
    day2: dt.date

    def get(self, path: str, **kw: Any) -> requests.Response:
        """An anonymous GET."""
        return self.live.request(None, "GET", path, **kw)

    def events(self, query: str = "") -> list[dict[str, Any]]:
        """This module's events in /publik/agenda.json?``query``."""
        r = self.get("/publik/agenda.json" + query)
        assert r.status_code == 200, r.text
        return [e for e in r.json()["events"] if self.tag in e["name"]
                or (e["organizer"]["id"] in ("dinkes", "dinsos") and e["name"] == INTERNAL)]


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


@pytest.fixture(scope="module")
def agenda(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agenda]:
    """A deployment of its own, served, with every kind of activity written by PICs."""
    dep = make_deployment(tmp_path_factory.mktemp("webfeeds") / "kediri")
    for live in serve_in_thread(dep):
        tag = uuid.uuid4().hex[:8]
        today = dt.datetime.now(WIB).date()
        day, day2 = today + dt.timedelta(days=10), today + dt.timedelta(days=11)
        tomorrow = today + dt.timedelta(days=1)

        def at(d: dt.date, h: int, m: int = 0) -> dt.datetime:
            return dt.datetime.combine(d, dt.time(h, m))

        rows = [
            ("pic-x", "dinkes", "a", f"Rapat Stunting {tag}", at(day, 9), at(day, 11),
             ["LOCATION:Ruang Joyoboyo", "CATEGORIES:Kesehatan", "STATUS:CONFIRMED",
              "DESCRIPTION:Narasumber: Kepala Dinas\\nHubungi budi@example.org",
              "ATTENDEE;CN=Budi:mailto:budi@example.org"]),
            ("pic-x", "dinkes", "b", f"Hari Kesehatan {tag}", day, day + dt.timedelta(days=1),
             ["CATEGORIES:Kesehatan"]),
            ("pic-x", "dinkes", "c", f"Rapat Anggaran Tertutup {tag}", at(day, 13),
             at(day, 14), ["LOCATION:Ruang Kilisuci", "CLASS:CONFIDENTIAL",
                           "DESCRIPTION:Bahas anggaran rahasia"]),
            ("pic-y", "dinsos", "d", f"Sidang Disiplin {tag}", at(day, 15), at(day, 16),
             ["CLASS:PRIVATE", "LOCATION:Ruang Command Center"]),
            ("pic-y", "dinsos", "e", f"Pasar Murah {tag}", at(day, 10), at(day, 12),
             ["LOCATION:Lapangan Kelurahan Pakunden", "STATUS:CANCELLED",
              "CATEGORIES:Ekonomi"]),
            ("pic-y", "dinsos", "f", f"<script>alert(1)</script> Lomba {tag}", at(day2, 8),
             at(day2, 9), []),
            ("pic-x", "dinkes", "g", f"Apel Pagi {tag}", at(today, 0), at(tomorrow, 0),
             ["LOCATION:Halaman Balai Kota Kediri"]),
            ("pic-y", "dinsos", "h", f"Rapat Malam {tag}", at(today, 23, 58),
             at(today, 23, 59), []),
            ("pic-y", "dinsos", "i", f"Senam Besok {tag}", at(tomorrow, 7), at(tomorrow, 8),
             ["LOCATION:Ruang Joyoboyo"]),
            ("pic-x", "dinkes", "j", f"Rahasia Hari Ini {tag}", at(today, 0), at(tomorrow, 0),
             ["CLASS:CONFIDENTIAL", "LOCATION:Ruang Command Center"]),
            ("pic-y", "dinsos", "l", f"Ronda Subuh {tag}", at(today, 0), at(today, 0, 1), []),
        ]
        for login, opd, name, title, start, end, lines in rows:
            put(live, login, f"/opd/{opd}/{tag}-{name}.ics",
                vevent(f"{tag}-{name}@test", title, start, end, *lines))
        sync_once(live)
        yield Agenda(live, tag, today, day, day2)


def test_json_fields_and_format(agenda: Agenda) -> None:
    """Every field, ISO 8601 with +07:00, all-day dates, internal and cancelled rows."""
    r = agenda.get("/publik/agenda.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    body = r.json()
    assert body["name"] == "Agenda Kegiatan Pemerintah Kota Kediri"
    assert body["url"] == agenda.live.url + "/" and body["count"] == len(body["events"])
    assert body["from"] <= agenda.today.isoformat() <= body["to"]
    events = {e["name"]: e for e in agenda.events()}
    tag = agenda.tag
    rapat = events[f"Rapat Stunting {tag}"]
    assert set(rapat) >= {"uid", "name", "startDate", "endDate", "allDay", "location", "venue",
                          "organizer", "category", "description", "url", "status"}
    assert rapat["startDate"] == f"{agenda.day}T09:00:00+07:00"
    assert rapat["endDate"] == f"{agenda.day}T11:00:00+07:00"
    assert TIMESTAMP.match(rapat["startDate"]) and rapat["allDay"] is False
    assert rapat["location"] == "Ruang Joyoboyo" and rapat["venue"] == "ruang-joyoboyo"
    assert rapat["organizer"] == {"id": "dinkes", "name": DINKES}
    assert rapat["category"] == ["Kesehatan"] and rapat["status"] == "CONFIRMED"
    assert "Narasumber: Kepala Dinas" in rapat["description"]
    assert rapat["url"].startswith(agenda.live.url + "/kegiatan/")
    assert agenda.get(rapat["url"].removeprefix(agenda.live.url), headers=HTML).status_code == 200
    whole_day = events[f"Hari Kesehatan {tag}"]
    assert whole_day["allDay"] is True
    assert whole_day["startDate"] == whole_day["endDate"] == agenda.day.isoformat()
    assert events[f"Pasar Murah {tag}"]["status"] == "CANCELLED"
    assert events[f"Pasar Murah {tag}"]["location"] == "Lapangan Kelurahan Pakunden"
    assert events[f"Pasar Murah {tag}"]["venue"] is None


def test_json_privacy(agenda: Agenda) -> None:
    """CONFIDENTIAL: label, time and OPD only; PRIVATE absent; no e-mail address anywhere."""
    text = agenda.get("/publik/agenda.json").text
    tag = agenda.tag
    for secret in (f"Sidang Disiplin {tag}", f"Anggaran Tertutup {tag}", "anggaran rahasia",
                   f"Rahasia Hari Ini {tag}", "Ruang Command Center", "Ruang Kilisuci"):
        assert secret not in text
    assert not EMAIL.findall(text)
    internal = [e for e in agenda.events(f"?tanggal={agenda.day}") if e["name"] == INTERNAL]
    assert len(internal) == 1
    (block,) = internal
    assert block["startDate"] == f"{agenda.day}T13:00:00+07:00"
    assert block["location"] is None and block["venue"] is None
    assert block["description"] is None and block["category"] == []
    assert block["organizer"]["id"] == "dinkes" and block["internal"] is True
    # searching for the hidden title finds nothing
    assert agenda.events(f"?q=Anggaran+{tag}") == []


def test_json_filters(agenda: Agenda) -> None:
    """opd, ruang, kategori, q, tanggal, dari/sampai: the page's filters."""
    tag = agenda.tag

    def names(query: str) -> set[str]:
        return {e["name"] for e in agenda.events(query) if tag in e["name"]}

    assert names("?opd=dinsos") == {f"Pasar Murah {tag}", f"<script>alert(1)</script> Lomba {tag}",
                                    f"Rapat Malam {tag}", f"Senam Besok {tag}",
                                    f"Ronda Subuh {tag}"}
    assert names("?ruang=ruang-joyoboyo") == {f"Rapat Stunting {tag}", f"Senam Besok {tag}"}
    assert names("?kategori=Kesehatan") == {f"Rapat Stunting {tag}", f"Hari Kesehatan {tag}"}
    assert names(f"?q=STUNTING+{tag}") == {f"Rapat Stunting {tag}"}
    assert names(f"?q=pakunden+{tag}") == {f"Pasar Murah {tag}"}
    assert names(f"?tanggal={agenda.day}&opd=dinkes") == {f"Rapat Stunting {tag}",
                                                         f"Hari Kesehatan {tag}"}
    one = agenda.get(f"/publik/agenda.json?dari={agenda.day2}&sampai={agenda.day2}").json()
    assert one["from"] == one["to"] == agenda.day2.isoformat()
    assert {e["name"] for e in one["events"]} == {f"<script>alert(1)</script> Lomba {tag}"}


def test_json_etag_and_304(agenda: Agenda) -> None:
    """304 while unchanged (CORS header kept); a new ETag once the agenda changes."""
    first = agenda.get("/publik/agenda.json")
    etag = first.headers["ETag"]
    again = agenda.get("/publik/agenda.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    later = agenda.today + dt.timedelta(days=30)
    put(agenda.live, "pic-x", f"/opd/dinkes/{agenda.tag}-k.ics",
        vevent(f"{agenda.tag}-k@test", f"Donor Darah {agenda.tag}",
               dt.datetime.combine(later, dt.time(8)), dt.datetime.combine(later, dt.time(9))))
    sync_once(agenda.live)
    changed = agenda.get("/publik/agenda.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert f"Donor Darah {agenda.tag}" in changed.text


@pytest.mark.parametrize(("query", "words"), [
    ("?tanggal=kemarin", "TTTT-BB-HH"),
    ("?tanggal=2026-02-30", "tanggal"),
    ("?dari=2026-12-10&sampai=2026-12-01", "sebelum"),
    ("?dari=2020-01-01&sampai=2026-01-01", "terlalu panjang"),
    ("?tanggal=2026-12-01&dari=2026-12-01", "jangan keduanya"),
    ("?opd=tidak-ada", "tidak terdaftar"),
    ("?ruang=aula-antah", "tidak terdaftar"),
    ("?q=" + "kata+" * 60, "terlalu panjang"),
])
def test_json_bad_parameters(agenda: Agenda, query: str, words: str) -> None:
    """400 with a JSON body {"error": Indonesian sentence}, never a 500."""
    r = agenda.get("/publik/agenda.json" + query)
    assert r.status_code == 400
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert words in r.json()["error"] and r.json()["status"] == 400


def test_json_is_read_only(agenda: Agenda) -> None:
    """A POST to the JSON is 405 in JSON, not Radicale's answer."""
    r = agenda.live.request(None, "POST", "/publik/agenda.json", data=b"{}")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
    assert "GET" in r.json()["error"]


def section(html: str, ident: str) -> str:
    """The inside of the list element with id ``ident``."""
    found = re.search(rf'<(ul|ol)[^>]*id="{ident}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, ident
    return found.group(2)


def test_lobby_page(agenda: Agenda) -> None:
    """Today's agenda: now, next, the whole day, tomorrow's running line; no inline script."""
    r = agenda.get("/layar/", headers=HTML)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    html, tag = r.text, agenda.tag
    assert long_date(agenda.today) in html and "WIB" in html
    assert f"Apel Pagi {tag}" in section(html, "daftar-kini")
    if dt.datetime.now(WIB).time() < dt.time(23, 55):  # "Rapat Malam" starts at 23.58
        assert f"Rapat Malam {tag}" in section(html, "daftar-berikut")
    day = section(html, "daftar-hari")
    assert INTERNAL in day and f"Rahasia Hari Ini {tag}" not in html
    if dt.datetime.now(WIB).time() >= dt.time(0, 2):  # "Ronda Subuh" is over: one line
        assert f"Ronda Subuh {tag}" not in day and "1 kegiatan sebelumnya sudah lewat." in day
    assert "Ruang Command Center" not in html
    assert f"Stunting {tag}" not in html  # another day's
    ticker = re.search(r'id="berita-teks">(.*?)</span>', html, re.S)
    assert ticker and f"Senam Besok {tag}" in ticker.group(1)
    assert long_date(agenda.today + dt.timedelta(days=1)) in ticker.group(1)
    assert '<script src="/aset/layar.js" defer></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "style=" not in html
    assert '<noscript><meta http-equiv="refresh" content="60"></noscript>' in html
    for asset, needle in (("layar.js", "/layar/data.json"),
                          ("layar.css", "prefers-reduced-motion"),
                          ("cetak.css", "size: A4")):
        a = agenda.get("/aset/" + asset)
        assert a.status_code == 200 and needle in a.text


def test_lobby_data(agenda: Agenda) -> None:
    """/layar/data.json holds what layar.js renders, with ETag/304."""
    r = agenda.get("/layar/data.json")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    data, tag = r.json(), agenda.tag
    assert r.headers["Date"]  # layar.js takes the time from it, not from the TV's clock
    assert data["date"] == agenda.today.isoformat()
    assert data["dateText"] == long_date(agenda.today)
    items = {i["title"]: i for i in data["today"]}
    apel = items[f"Apel Pagi {tag}"]
    assert apel["start"] == f"{agenda.today}T00:00:00+07:00" and apel["startTime"] == "00.00"
    assert apel["place"] == "Halaman Balai Kota Kediri" and apel["opd"] == DINKES
    assert items[f"Rapat Malam {tag}"]["time"] == "23.58-23.59 WIB"
    internal = items[INTERNAL]
    assert internal["internal"] is True and internal["place"] == ""
    assert f"Rahasia Hari Ini {tag}" not in r.text and "Command Center" not in r.text
    assert f"Senam Besok {tag} (Ruang Joyoboyo)" in data["ticker"]
    assert data["count"] == len(data["today"])
    assert agenda.get("/layar/data.json",
                      headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_print_sheet(agenda: Agenda) -> None:
    """The A4 sheet of a day: heading, numbered rows by time, cancelled and internal rows."""
    r = agenda.get(f"/cetak/?tanggal={agenda.day}")
    assert r.status_code == 200
    html, tag = r.text, agenda.tag
    assert "Pemerintah Kota Kediri" in html and "Agenda Kegiatan" in html
    assert long_date(agenda.day) in html and "Ctrl+P" in html
    assert '<link rel="stylesheet" href="/aset/cetak.css">' in html
    head = re.search(r"<thead>(.*?)</thead>", html, re.S)
    assert head and re.findall(r"<th[^>]*>([^<]*)</th>", head.group(1)) == [
        "No", "Waktu", "Kegiatan", "Tempat", "OPD Penyelenggara"]
    rows = [re.sub(r"<[^>]+>", " ", row) for row in re.findall(r"<tr class=[^>]*>(.*?)</tr>",
                                                                html, re.S)]
    cells = [" ".join(row.split()) for row in rows]
    assert len(cells) == 4, cells
    assert cells[0].startswith("1 Sepanjang hari Hari Kesehatan")
    assert cells[1] == f"2 09.00-11.00 WIB Rapat Stunting {tag} Ruang Joyoboyo {DINKES}"
    assert cells[2].startswith("3 10.00-12.00 WIB DIBATALKAN Pasar Murah")
    assert cells[3] == f"4 13.00-14.00 WIB {INTERNAL} - {DINKES}"
    assert f"Sidang Disiplin {tag}" not in html and "Ruang Kilisuci" not in html
    escaped = agenda.get(f"/cetak/?tanggal={agenda.day2}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Lomba" in escaped
    assert "<script>alert" not in escaped


def test_print_sheet_default_and_errors(agenda: Agenda) -> None:
    """Today by default; a bad date or OPD is a 400 page in Indonesian."""
    today = agenda.get("/cetak/")
    assert today.status_code == 200 and long_date(agenda.today) in today.text
    assert f"Apel Pagi {agenda.tag}" in today.text
    only = agenda.get(f"/cetak/?tanggal={agenda.day}&opd=dinsos").text
    assert '<p class="cetak-saring">Dinas Sosial Kota Kediri</p>' in only
    assert f"Pasar Murah {agenda.tag}" in only and f"Stunting {agenda.tag}" not in only
    door = agenda.get(f"/cetak/?tanggal={agenda.day}&ruang=ruang-joyoboyo").text
    assert '<p class="cetak-saring">Ruang Joyoboyo</p>' in door
    assert f"Stunting {agenda.tag}" in door and f"Pasar Murah {agenda.tag}" not in door
    following = agenda.day + dt.timedelta(days=1)
    assert f'href="/cetak/?tanggal={following}&amp;ruang=ruang-joyoboyo"' in door
    assert '<input type="hidden" name="ruang" value="ruang-joyoboyo">' in door
    for query in ("?tanggal=01-12-2026", "?tanggal=2026-12-32", "?opd=tidak-ada"):
        r = agenda.get("/cetak/" + query, headers=HTML)
        assert r.status_code == 400 and r.headers["Content-Type"].startswith("text/html")
        assert "tidak" in r.text.lower() and "Traceback" not in r.text
