"""The public agenda pages over real HTTP: PICs write by CalDAV, one sync pass, then GETs.

Checks what a citizen sees at ``/`` (today, what is on now, the days ahead,
week and month views, moving by date, filters, search over history), an
activity's page (``/kegiatan/<id>``: fields, map link, share links, JSON-LD),
its ``.ics`` download, the privacy classes, escaping, 304 and that CalDAV
clients at ``/`` still reach Radicale. Browser checks (axe, 360 px) live in the
Chromium tests.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import icalendar
import pytest
import requests

from kalender_sync.occurrences import Occurrence
from kalender_sync.service import SyncService
from kalender_sync.webindex import WebIndex
from tests.conftest import LiveServer, make_deployment, serve_in_thread

WIB = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime.now(WIB).replace(second=0, microsecond=0)
TODAY = NOW.date()
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
         "September", "Oktober", "November", "Desember")
XSS = "<script>alert('xss')</script> Lomba Vlog"


def long_date(day: dt.date) -> str:
    """"Selasa, 1 Desember 2026"."""
    return f"{HARI[day.weekday()]}, {day.day} {BULAN[day.month - 1]} {day.year}"


def at(day: dt.date, hhmm: str) -> str:
    """An iCalendar local date-time: ``20261201T090000``."""
    return f"{day:%Y%m%d}T{hhmm}00"


def ics(uid: str, summary: str, start: str, end: str, extra: str = "") -> bytes:
    """A VEVENT in Asia/Jakarta (all day for bare dates) carrying what the public must not see."""
    kind = "VALUE=DATE" if len(start) == 8 else "TZID=Asia/Jakarta"
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//tests//ID",
             "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
             f"DTSTART;{kind}:{start}", f"DTEND;{kind}:{end}",
             f"SUMMARY:{summary}", "ATTENDEE;CN=Budi:mailto:budi@example.org",
             *[x for x in extra.strip().splitlines() if x], "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


ONE_DAY = dt.timedelta(days=1)
#: name -> (login, OPD, iCalendar)
EVENTS: dict[str, tuple[str, str, bytes]] = {
    "now": ("pic-x", "dinkes", ics(
        "now", "Posyandu Balita Kelurahan Bandar", f"{NOW - dt.timedelta(hours=1):%Y%m%dT%H%M}00",
        f"{NOW + dt.timedelta(hours=1):%Y%m%dT%H%M}00",
        "LOCATION:Ruang Kilisuci\nDESCRIPTION:Pemeriksaan gizi balita\\, bawa buku KIA.\n"
        "CATEGORIES:Kesehatan")),
    "bansos": ("pic-y", "dinsos", ics(
        "bansos", "Rapat Koordinasi Bansos", at(TODAY + ONE_DAY, "0900"),
        at(TODAY + ONE_DAY, "1100"), "LOCATION:Ruang Joyoboyo\nCATEGORIES:Sosial")),
    "batal": ("pic-x", "dinkes", ics(
        "batal", "Senam Sehat Bersama", at(TODAY + 2 * ONE_DAY, "0600"),
        at(TODAY + 2 * ONE_DAY, "0800"), "LOCATION:Taman Sekartaji\nSTATUS:CANCELLED")),
    "internal": ("pic-x", "dinkes", ics(
        "internal", "Evaluasi Kinerja Zebra", at(TODAY + 3 * ONE_DAY, "1300"),
        at(TODAY + 3 * ONE_DAY, "1400"),
        "LOCATION:Ruang Command Center\nDESCRIPTION:catatan rahasia Zebra\nCLASS:CONFIDENTIAL")),
    "private": ("pic-x", "dinkes", ics(
        "private", "Urusan Pribadi Kuda", at(TODAY + 3 * ONE_DAY, "1500"),
        at(TODAY + 3 * ONE_DAY, "1600"), "LOCATION:Ruang Kilisuci\nCLASS:PRIVATE")),
    "xss": ("pic-xz", "diskominfo", ics(
        "xss", XSS, at(TODAY + 4 * ONE_DAY, "1000"), at(TODAY + 4 * ONE_DAY, "1200"),
        "LOCATION:Ruang Joyoboyo\nDESCRIPTION:</script><script>alert(2)</script>")),
    "past": ("pic-x", "dinkes", ics(
        "past", "Musrenbang Kelurahan Lampau", at(TODAY - 40 * ONE_DAY, "0900"),
        at(TODAY - 40 * ONE_DAY, "1200"), "LOCATION:Ruang Kilisuci")),
    "fair": ("pic-xz", "diskominfo", ics(
        "fair", "Pameran UMKM Digital", f"{TODAY + 5 * ONE_DAY:%Y%m%d}",
        f"{TODAY + 8 * ONE_DAY:%Y%m%d}", "LOCATION:Taman Sekartaji")),
    "series": ("pic-x", "dinkes", ics(
        "series", "Apel Pagi Mingguan", at(TODAY + ONE_DAY, "0700"),
        at(TODAY + ONE_DAY, "0800"), "LOCATION:Halaman Balai Kota Kediri\n"
        "RRULE:FREQ=WEEKLY;COUNT=3")),
}


@dataclass
class Item:
    """One activity of a list: its classes, text and links."""

    classes: list[str]
    text: str = ""
    hrefs: list[str] = field(default_factory=list)


class Page(HTMLParser):
    """What the tests read of a page: items, links, labels, scripts, headings."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Item] = []
        self.links: list[str] = []
        self.labels: set[str] = set()
        self.controls: list[str] = []
        self.scripts: list[str | None] = []
        self.jsonld: list[str] = []
        self.tags: list[str] = []
        self.styled = 0
        self.resources: list[str] = []
        self._item: Item | None = None
        self._script: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Collect one opening tag."""
        a = dict(attrs)
        self.tags.append(tag)
        self.styled += "style" in a or tag == "style"
        if tag == "li" and "kegiatan" in (a.get("class") or "").split():
            self._item = Item((a.get("class") or "").split())
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
            if self._item is not None:
                self._item.hrefs.append(a["href"] or "")
        if tag == "label":
            self.labels.add(a.get("for") or "")
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append(a.get("id") or "")
        if tag == "script":
            self.scripts.append(a.get("type"))
            self._script = [] if a.get("type") == "application/ld+json" else None
        loaded = a.get("src") or (a.get("href") if a.get("rel") in ("stylesheet", "icon") else "")
        if (loaded or "").startswith(("http", "//")):
            self.resources.append(loaded or "")

    def handle_endtag(self, tag: str) -> None:
        """Close an item or a data block."""
        if tag == "li" and self._item is not None:
            self._item.text = " ".join(self._item.text.split())
            self.items.append(self._item)
            self._item = None
        if tag == "script" and self._script is not None:
            self.jsonld.append("".join(self._script))
            self._script = None

    def handle_data(self, data: str) -> None:
        """Text of an item or a data block."""
        if self._item is not None:
            self._item.text += data
        if self._script is not None:
            self._script.append(data)

    def item(self, words: str) -> Item:
        """The one item whose text holds ``words``."""
        found = [i for i in self.items if words in i.text]
        assert len(found) == 1, (words, self.items)
        return found[0]

    def titles(self) -> str:
        """Every item's text, one line each."""
        return "\n".join(i.text for i in self.items)


def parse(r: requests.Response) -> Page:
    """A page parsed (its answer must be an HTML page)."""
    assert r.headers["Content-Type"] == "text/html; charset=utf-8", r.headers
    page = Page()
    page.feed(r.text)
    return page


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own, agenda written by PICs and synced once."""
    dep = make_deployment(tmp_path_factory.mktemp("web") / "kediri")
    for server in serve_in_thread(dep):
        for name, (login, opd, body) in EVENTS.items():
            r = server.request(login, "PUT", f"/opd/{opd}/{name}-{uuid.uuid4().hex[:6]}.ics",
                               data=body, headers={"Content-Type": "text/calendar"})
            assert r.status_code in (201, 204), (name, r.status_code, r.text)
        service = SyncService(dep, server.url)
        try:
            service.run_once()
        finally:
            service.close()
        yield server


def get(live: LiveServer, path: str, **headers: str) -> requests.Response:
    """An anonymous browser's GET (``If_None_Match=`` for ``If-None-Match``)."""
    extra = {k.replace("_", "-"): v for k, v in headers.items()}
    return requests.get(live.url + path, headers={**HTML, **extra}, timeout=30,
                        allow_redirects=False)


def occurrences(live: LiveServer) -> list[Occurrence]:
    """Everything the pages can show (the sync service's rendered data)."""
    index = WebIndex(live.dep.root / "sync.db")
    try:
        return index.between(dt.datetime(2000, 1, 1, tzinfo=WIB),
                             dt.datetime(2100, 1, 1, tzinfo=WIB))
    finally:
        index.close()


def page_of(live: LiveServer, title: str) -> str:
    """The path of the (first) page of the activity called ``title``."""
    found = [o for o in occurrences(live) if o.title == title]
    assert found, title
    return found[0].path


def test_today_and_days_ahead(live: LiveServer) -> None:
    """Hari ini with what is on now, the days ahead with day, date, WIB time, place and OPD."""
    r = get(live, "/")
    assert r.status_code == 200
    page = parse(r)
    assert "Hari ini" in r.text and long_date(TODAY) in r.text
    item = page.item("Posyandu Balita Kelurahan Bandar")
    text = item.text
    assert "kini" in item.classes and "Sedang berlangsung" in text
    assert "Ruang Kilisuci" in text and "Dinas Kesehatan Kota Kediri" in text
    assert page_of(live, "Posyandu Balita Kelurahan Bandar") in item.hrefs
    text = page.item("Rapat Koordinasi Bansos").text
    assert f"{long_date(TODAY + ONE_DAY)}, 09.00-11.00 WIB" in text
    assert "Ruang Joyoboyo" in text and "Dinas Sosial Kota Kediri" in text
    assert "Sedang berlangsung" not in text
    item = page.item("Senam Sehat Bersama")
    assert "DIBATALKAN" in item.text and "batal" in item.classes
    assert len([i for i in page.items if "Apel Pagi Mingguan" in i.text]) >= 2  # weekly, 15 days
    fair = [i for i in page.items if "Pameran UMKM Digital" in i.text]  # listed on its 3 days
    assert len(fair) == 3 and all("Sepanjang hari, " in i.text for i in fair)
    assert "Musrenbang Kelurahan Lampau" not in r.text  # the past is one link away
    assert page.tags.count("h1") == 1 and '<html lang="id">' in r.text
    assert {"header", "nav", "main", "footer"} <= set(page.tags)
    assert page.controls and all(c in page.labels for c in page.controls), page.controls


def test_privacy_classes(live: LiveServer) -> None:
    """CONFIDENTIAL: label, time and OPD only, no link; PRIVATE nowhere; no e-mail address."""
    r = get(live, "/")
    page = parse(r)
    item = page.item("Kegiatan internal - Dinas Kesehatan Kota Kediri")
    assert "13.00-14.00 WIB" in item.text and long_date(TODAY + 3 * ONE_DAY) in item.text
    assert not [h for h in item.hrefs if h.startswith("/kegiatan/")]
    assert "Command Center" not in item.text
    for secret in ("Zebra", "catatan rahasia", "Kuda", "Urusan Pribadi", "budi@example.org"):
        assert secret not in r.text
        found = get(live, "/?q=" + secret)  # search finds nothing the public may not see
        assert found.status_code == 200 and "Tidak ditemukan kegiatan" in found.text
        assert not parse(found).items, secret
    (internal,) = [o for o in occurrences(live) if o.internal]
    detail = get(live, internal.path)
    assert detail.status_code == 200
    assert "Kegiatan internal - Dinas Kesehatan Kota Kediri" in detail.text
    assert "13.00-14.00 WIB" in detail.text
    assert "Zebra" not in detail.text and "Command Center" not in detail.text
    assert "application/ld+json" not in detail.text and ".ics" not in detail.text
    assert get(live, internal.path + ".ics").status_code == 404


def test_html_in_a_title_is_text(live: LiveServer) -> None:
    """A title or description carrying a script is shown escaped, and no script runs."""
    for path in ("/", "/?q=Vlog", page_of(live, XSS)):
        r = get(live, path)
        page = parse(r)
        assert "<script>alert" not in r.text and "</script><script>" not in r.text
        assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt; Lomba Vlog" in r.text
        assert set(page.scripts) <= {"application/ld+json"}  # no executable script at all
        assert page.styled == 0 and page.resources == []  # CSP: nothing inline, nothing external
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    (block,) = parse(get(live, page_of(live, XSS))).jsonld
    assert "<" not in block and json.loads(block)["name"] == XSS
    assert json.loads(block)["description"] == "</script><script>alert(2)</script>"


def test_filters_and_search(live: LiveServer) -> None:
    """opd, ruang and kategori filter; q searches title, place, OPD, description, past too."""
    titles = parse(get(live, "/?opd=dinsos")).titles()
    assert "Rapat Koordinasi Bansos" in titles and "Posyandu" not in titles
    titles = parse(get(live, "/?ruang=ruang-joyoboyo")).titles()
    assert "Bansos" in titles and "Lomba Vlog" in titles and "Posyandu" not in titles
    titles = parse(get(live, "/?kategori=Sosial")).titles()
    assert "Bansos" in titles and "Posyandu" not in titles
    assert "Posyandu" in parse(get(live, "/?q=buku+kia")).titles()  # description
    assert "Bansos" in parse(get(live, "/?q=sosial+koordinasi")).titles()  # OPD name + title
    r = get(live, "/?q=musrenbang")
    assert "Musrenbang Kelurahan Lampau" in parse(r).titles()
    assert r.text.index("Sudah lewat") < r.text.index("Musrenbang Kelurahan Lampau")
    r = get(live, "/?q=xyzzy+tidak+ada")
    assert r.status_code == 200 and "Tidak ditemukan kegiatan" in r.text
    form = get(live, "/?q=&opd=&ruang=&kategori=&tampilan=daftar&tanggal=")  # an empty form
    assert form.status_code == 200 and "Posyandu Balita" in form.text


def test_moving_by_date_and_views(live: LiveServer) -> None:
    """?tanggal moves the list; Sebelumnya reaches the past; week and month views."""
    r = get(live, "/")
    earlier = re.search(r'href="(/\?tanggal=[0-9-]+)" rel="prev"', r.text)
    assert earlier is not None and "Berikutnya" in r.text
    past = TODAY - 40 * ONE_DAY
    r = get(live, f"/?tanggal={past.isoformat()}")
    assert "Musrenbang Kelurahan Lampau" in parse(r).titles()
    assert "Posyandu Balita" not in r.text
    week = get(live, f"/?tampilan=minggu&tanggal={TODAY.isoformat()}")
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    for i in range(7):
        assert long_date(monday + i * ONE_DAY) in week.text
    assert 'aria-current="page">Minggu<' in week.text
    month = get(live, f"/?tampilan=bulan&tanggal={TODAY.isoformat()}")
    page = parse(month)
    assert page.tags.count("th") == 7 and "<caption>" in month.text
    assert f"/?tanggal={TODAY.isoformat()}" in page.links
    assert f"{BULAN[TODAY.month - 1]} {TODAY.year}" in month.text
    assert "Posyandu Balita" in month.text


@pytest.mark.parametrize(("query", "sentence"), [
    ("tanggal=kemarin", "Tanggal tidak dapat dibaca; tulis dengan bentuk TTTT-BB-HH"),
    ("tanggal=2026-02-30", "Tanggal tidak dapat dibaca"),
    ("tanggal=2026-1-1", "Tanggal tidak dapat dibaca"),
    ("tanggal=0001-01-01", "Tanggal di luar jangkauan"),
    ("tanggal=9999-12-31&tampilan=bulan", "Tanggal di luar jangkauan"),
    ("opd=tidak-ada", "OPD tidak dikenal"),
    ("ruang=ruang-tidak-ada", "Tempat tidak dikenal"),
    ("tampilan=tahun", "Tampilan tidak dikenal"),
    ("q=" + "a" * 300, "Kata pencarian terlalu panjang")])
def test_bad_query_is_400_with_a_sentence(live: LiveServer, query: str, sentence: str) -> None:
    """A query the page cannot use is a 400 page saying why, never a 500."""
    r = get(live, "/?" + query)
    assert r.status_code == 400
    page = parse(r)
    assert page.tags.count("h1") == 1 and "Permintaan Tidak Valid" in r.text
    assert f"<p>{sentence}" in r.text


def test_activity_page(live: LiveServer) -> None:
    """All public fields, OPD, map link, .ics link, share links and schema.org JSON-LD."""
    path = page_of(live, "Posyandu Balita Kelurahan Bandar")
    r = get(live, path)
    assert r.status_code == 200
    page = parse(r)
    for text in ("Posyandu Balita Kelurahan Bandar", "Ruang Kilisuci", "Balai Kota Kediri",
                 "Pemeriksaan gizi balita, bawa buku KIA.", "Kesehatan",
                 "Dinas Kesehatan Kota Kediri", "Tambahkan ke kalender", "Sedang berlangsung"):
        assert text in r.text, text
    assert path + ".ics" in page.links
    assert any(h.startswith("https://www.openstreetmap.org/?mlat=-7.8166") for h in page.links)
    url = live.url + path
    assert url in page.links
    assert any(h.startswith("https://wa.me/?text=") and h.endswith(url.replace(":", "%3A")
                                                                  .replace("/", "%2F"))
               for h in page.links)
    assert any(h.startswith("mailto:?subject=Posyandu") for h in page.links)
    (block,) = page.jsonld
    data = json.loads(block)
    assert data["@type"] == "Event" and data["name"] == "Posyandu Balita Kelurahan Bandar"
    assert data["startDate"].endswith("+07:00") and data["url"] == url
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["location"]["name"] == "Ruang Kilisuci"
    assert data["location"]["geo"]["latitude"] == pytest.approx(-7.8166)
    assert data["organizer"] == {"@type": "Organization", "name": "Dinas Kesehatan Kota Kediri"}
    cancelled = get(live, page_of(live, "Senam Sehat Bersama"))
    assert "DIBATALKAN" in cancelled.text
    data = json.loads(parse(cancelled).jsonld[0])
    assert data["eventStatus"] == "https://schema.org/EventCancelled"
    assert "geo" not in data["location"]  # Taman Sekartaji has no coordinates
    assert "openstreetmap" not in cancelled.text


def test_unknown_activity_is_404(live: LiveServer) -> None:
    """An id that is not (or no longer) public: a 404 page, not a traceback."""
    r = get(live, "/kegiatan/" + "0" * 32)
    assert r.status_code == 404 and "Kegiatan tidak ditemukan" in r.text
    assert get(live, "/kegiatan/" + "0" * 32 + ".ics").status_code == 404


def test_ics_download(live: LiveServer) -> None:
    """One VEVENT with TZID Asia/Jakarta and its VTIMEZONE; a series instance has its own UID."""
    path = page_of(live, "Rapat Koordinasi Bansos")
    r = get(live, path + ".ics")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/calendar")
    assert r.headers["Content-Disposition"].startswith("attachment;")
    cal = icalendar.Calendar.from_ical(r.content)
    (event,) = cal.walk("VEVENT")
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Jakarta"]
    assert event["DTSTART"].params["TZID"] == "Asia/Jakarta"
    start = event.decoded("DTSTART")
    assert (start.date(), start.hour, start.utcoffset()) == (TODAY + ONE_DAY, 9,
                                                              dt.timedelta(hours=7))
    assert event.decoded("DTEND").hour == 11
    assert str(event["SUMMARY"]) == "Rapat Koordinasi Bansos"
    assert "Ruang Joyoboyo" in str(event["LOCATION"]) and str(event["URL"]) == live.url + path
    assert "STATUS" not in event or str(event["STATUS"]) == "CONFIRMED"
    assert "budi@example.org" not in r.text and "ATTENDEE" not in r.text
    assert get(live, path + ".ics", If_None_Match=r.headers["ETag"]).status_code == 304
    cancelled = icalendar.Calendar.from_ical(get(live, page_of(live, "Senam Sehat Bersama")
                                                 + ".ics").content)
    assert str(cancelled.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    series = [o for o in occurrences(live) if o.title == "Apel Pagi Mingguan"]
    assert len(series) == 3
    uids = set()
    for o in series:
        (instance,) = icalendar.Calendar.from_ical(get(live, o.path + ".ics").content
                                                   ).walk("VEVENT")
        uids.add(str(instance["UID"]))
        assert "RRULE" not in instance and instance.decoded("DTSTART") == o.start
    assert len(uids) == 3 and series[0].uid not in uids


def test_conditional_get(live: LiveServer) -> None:
    """Pages carry an ETag; If-None-Match answers 304 with no body."""
    for path in ("/", "/?tampilan=bulan", page_of(live, "Rapat Koordinasi Bansos"),
                 "/aset/kalender.css"):
        r = get(live, path)
        assert r.status_code == 200 and r.headers["ETag"]
        again = get(live, path, If_None_Match=r.headers["ETag"])
        assert again.status_code == 304 and again.content == b""


def test_page_weight_and_stylesheet(live: LiveServer) -> None:
    """The agenda with its stylesheet stays far under 150 KB; the CSS is served."""
    css = get(live, "/aset/kalender.css")
    assert css.status_code == 200 and css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert "@media print" in css.text and ":focus-visible" in css.text
    for path in ("/", "/?tampilan=bulan", "/?tampilan=minggu"):
        assert len(get(live, path).content) + len(css.content) < 150_000


def test_subscribing_links(live: LiveServer) -> None:
    """webcal, Google Calendar "from URL" and per-OPD feeds, each with a sentence."""
    host = live.url.removeprefix("http://")
    r = get(live, "/?opd=dinkes")
    page = parse(r)
    webcal = f"webcal://{host}/publik/agenda/"
    assert webcal in page.links
    google = "https://calendar.google.com/calendar/r?cid=" + requests.utils.quote(webcal, safe="")
    assert google in page.links
    assert "/publik/agenda/?opd=dinkes" in page.links and "/publik/agenda/?opd=dinsos" in page.links
    assert "Dari URL" in r.text and "ketuk tautan ini" in r.text


def test_caldav_at_root_unchanged(live: LiveServer) -> None:
    """PROPFIND / and a GET that does not ask for HTML still go to Radicale."""
    r = live.request("pic-x", "PROPFIND", "/", headers={"Depth": "0"})
    assert r.status_code == 207 and b"multistatus" in r.content
    plain = requests.get(live.url + "/", timeout=30, allow_redirects=False)
    assert "Agenda Kegiatan" not in plain.text
    assert "Content-Security-Policy" not in plain.headers
    client = get(live, "/", Accept="text/calendar")
    assert "Agenda Kegiatan" not in client.text
    assert "Content-Security-Policy" not in client.headers


def test_favicon_is_not_a_login_prompt(live: LiveServer) -> None:
    """A browser's own /favicon.ico request gets the icon, not Radicale's 401 challenge."""
    r = requests.get(live.url + "/favicon.ico", timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/vnd.microsoft.icon"
    assert r.content[:4] == b"\x00\x00\x01\x00" and "WWW-Authenticate" not in r.headers
