"""The public web in a real browser (issue 9, item 9): headless Debian Chromium.

One deployment for the module: PICs of two OPDs write their activities by
CalDAV (real PUTs), one sync pass renders the public copies and the web index,
and Chromium reads the pages as a citizen does: the agenda, its filters and
search, an activity's page, the privacy classes, a title carrying HTML and
script, a phone's width, axe-core's WCAG 2.1 AA rules, the lobby screen
following a new activity without a reload, and the printed day sheet.
Screenshots go to ``$RESULTS_DIR/screenshots`` (tests/browser_support.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from kalender_sync.service import SyncService
from tests import browser_support
from tests.browser_support import (
    assert_no_horizontal_scroll,
    axe_violations,
    failed_responses,
    page_problems,
    page_requests,
    screenshot,
)
from tests.conftest import LiveServer, event_ics, make_deployment, serve_in_thread

# the fixtures of browser_support, used here (pytest finds fixtures among a module's names)
browser = browser_support.browser
open_page = browser_support.open_page

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
DINKES, DINSOS = "Dinas Kesehatan Kota Kediri", "Dinas Sosial Kota Kediri"
ACCOUNTS = {"pic-dinkes": ("pic", ("dinkes",)), "pic-dinsos": ("pic", ("dinsos",))}
#: What a CONFIDENTIAL or PRIVATE event holds that no page may show.
SECRETS = ("Rapat Anggaran Tertutup", "Gudang Arsip Lantai 3", "nomor anggaran 4455",
           "Kunjungan Pribadi Kadis", "Rumah Keluarga Kadis")
HOSTILE = ("Lomba Kreasi <img src=x onerror=alert(window.__xss=1)> "
           "<script>alert(window.__xss=2)</script>")
TIME_RE = re.compile(r"\b\d{2}\.\d{2}-\d{2}\.\d{2} WIB\b")
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


def stamp(moment: dt.datetime) -> str:
    """A local time as DTSTART;TZID=Asia/Jakarta wants it."""
    return moment.astimezone(WIB).strftime("%Y%m%dT%H%M%S")


def text(value: str) -> str:
    """An iCalendar TEXT value (RFC 5545 §3.3.11: backslash, ';', ',' escaped)."""
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")


@dataclass
class Site:
    """The served deployment, its sync service and the times the events were put at."""

    live: LiveServer
    sync: SyncService
    now: dt.datetime
    today: dt.date

    @property
    def url(self) -> str:
        """The server's base URL."""
        return self.live.url

    def put(self, login: str, opd: str, name: str, summary: str, start: dt.datetime,
            end: dt.datetime, location: str = "", extra: str = "") -> None:
        """A PIC's CalDAV PUT that must be stored."""
        body = event_ics(f"{name}@web-test", stamp(start), stamp(end), text(summary),
                         text(location), extra)
        r = self.live.request(login, "PUT", f"/opd/{opd}/{name}.ics", data=body.encode(),
                              headers={"Content-Type": "text/calendar; charset=utf-8"})
        assert r.status_code in (201, 204), (name, r.status_code, r.text)

    def run_sync(self) -> None:
        """One pass of the sync service (public copies, feeds, web index)."""
        self.sync.run_once()


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """``day`` at ``hour``:``minute`` WIB."""
    return dt.datetime.combine(day, dt.time(hour, minute), WIB)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A deployment with a week of activities written by two PICs, synced once."""
    dep = make_deployment(tmp_path_factory.mktemp("web") / "kediri", ACCOUNTS)
    servers = serve_in_thread(dep)
    live = next(servers)
    sync = SyncService(dep, live.url)
    now = dt.datetime.now(WIB).replace(second=0, microsecond=0)
    today = now.date()
    tomorrow, later = today + dt.timedelta(days=1), today + dt.timedelta(days=2)
    s = Site(live, sync, now, today)
    try:
        s.put("pic-dinkes", "dinkes", "stunting", "Rapat Koordinasi Percepatan Stunting",
              now - dt.timedelta(hours=1), now + dt.timedelta(hours=2), "Ruang Joyoboyo",
              "DESCRIPTION:Pembahasan data balita bersama puskesmas.\nCATEGORIES:Rapat")
        s.put("pic-dinkes", "dinkes", "posyandu", "Posyandu Balita Kelurahan Bandar",
              at(tomorrow, 9), at(tomorrow, 11), "Balai RW 03 Kelurahan Bandar Lor",
              "DESCRIPTION:Penimbangan dan imunisasi dasar lengkap.\nCATEGORIES:Kesehatan")
        s.put("pic-dinsos", "dinsos", "bansos", "Penyaluran Bantuan Sosial Lansia",
              at(later, 13), at(later, 15), "Gedung Nasional Indonesia",
              "CATEGORIES:Sosial")
        s.put("pic-dinsos", "dinsos", "kebersihan", "Lomba Kebersihan Lingkungan",
              at(today - dt.timedelta(days=10), 8), at(today - dt.timedelta(days=10), 12),
              "Alun-Alun Kota Kediri", "DESCRIPTION:Penilaian kampung terbersih.")
        s.put("pic-dinkes", "dinkes", "tertutup", SECRETS[0], at(tomorrow, 14),
              at(tomorrow, 15), SECRETS[1], f"DESCRIPTION:{SECRETS[2]}\nCLASS:CONFIDENTIAL")
        s.put("pic-dinsos", "dinsos", "pribadi", SECRETS[3], at(tomorrow, 10),
              at(tomorrow, 12), SECRETS[4], "CLASS:PRIVATE")
        s.put("pic-dinsos", "dinsos", "hostile", HOSTILE, at(tomorrow, 16), at(tomorrow, 17),
              "Taman Sekartaji")
        s.run_sync()
        yield s
    finally:
        sync.close()
        servers.close()


def clean(page: Any) -> None:
    """No console error (a CSP refusal among them), script error or dialog on ``page``."""
    # the browser's own /favicon.ico request: test_every_request_of_a_page_is_answered
    problems = [p for p in page_problems(page) if not p.endswith("/favicon.ico)")]
    assert problems == [], problems


def no_violations(page: Any) -> None:
    """axe-core finds no serious or critical WCAG 2.1 AA violation on ``page``."""
    found = axe_violations(page)
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)


def test_agenda_after_pic_writes(site: Site, open_page: Any) -> None:
    """A phone opens the server: today's agenda in Indonesian, no login, no scroll sideways."""
    page = open_page(site.url + "/")
    body = page.inner_text("body")
    assert page.evaluate("document.documentElement.lang") == "id"
    assert "Hari ini" in body and "Sedang berlangsung" in body
    for title in ("Rapat Koordinasi Percepatan Stunting", "Posyandu Balita Kelurahan Bandar",
                  "Penyaluran Bantuan Sosial Lansia"):
        assert title in body
    assert "Ruang Joyoboyo" in body and DINKES in body and DINSOS in body
    assert TIME_RE.search(body) and any(day in body for day in DAYS)
    assert "Lomba Kebersihan Lingkungan" not in body  # ten days ago: not in today's list
    assert_no_horizontal_scroll(page)
    clean(page)
    # no resource from elsewhere, and a light page (issue 9 item 8: under 150 KB)
    assert all(u.startswith(site.url) for u in page_requests(page)), page_requests(page)
    weight = page.evaluate("""() => performance.getEntriesByType('navigation')
        .concat(performance.getEntriesByType('resource'))
        .reduce((n, e) => n + (e.decodedBodySize || 0), 0)""")
    assert 0 < weight < 150_000, weight
    screenshot(page, "agenda-phone")
    desktop = open_page(site.url + "/", "desktop")
    assert_no_horizontal_scroll(desktop)
    screenshot(desktop, "agenda-desktop")


def test_filters(site: Site, open_page: Any) -> None:
    """An OPD chosen in the form, or a venue's link, lists only its activities."""
    page = open_page(site.url + "/", "phone")
    form = page.locator("form:has(select[name=opd])")
    choice = form.get_by_label("OPD penyelenggara")
    if not choice.is_visible():  # the filters may fold away on a phone: open them
        form.locator("summary").first.click()
    choice.select_option("dinsos")
    with page.expect_navigation():
        form.get_by_role("button", name="Tampilkan").click()
    assert "opd=dinsos" in page.url
    body = page.inner_text("main")
    assert "Penyaluran Bantuan Sosial Lansia" in body
    assert "Rapat Koordinasi Percepatan Stunting" not in body
    assert "Posyandu Balita Kelurahan Bandar" not in body
    assert page.locator("select[name=opd]").input_value() == "dinsos"
    clean(page)
    # a registered venue's name links to its filter
    page = open_page(site.url + "/")
    with page.expect_navigation():
        page.get_by_role("link", name="Gedung Nasional Indonesia").first.click()
    assert "ruang=gni" in page.url
    body = page.inner_text("main")
    assert "Penyaluran Bantuan Sosial Lansia" in body and "Posyandu Balita" not in body
    clean(page)


def test_search_reaches_past_activities(site: Site, open_page: Any) -> None:
    """A word typed in the search box finds an activity of ten days ago, by its description."""
    page = open_page(site.url + "/")
    search = page.locator("input[name=q]")
    search.fill("kampung terbersih")
    with page.expect_navigation():
        search.press("Enter")
    assert "q=kampung+terbersih" in page.url or "q=kampung%20terbersih" in page.url
    body = page.inner_text("main")
    assert "Lomba Kebersihan Lingkungan" in body
    assert "Rapat Koordinasi Percepatan Stunting" not in body
    assert_no_horizontal_scroll(page)
    clean(page)


def test_event_page(site: Site, open_page: Any) -> None:
    """The list links to the activity's page: its fields, map link, .ics, JSON-LD."""
    page = open_page(site.url + "/")
    with page.expect_navigation():
        page.get_by_role("link", name="Rapat Koordinasi Percepatan Stunting").first.click()
    assert re.search(r"/kegiatan/[0-9a-f]{32}", page.url), page.url
    body = page.inner_text("body")
    assert "Rapat Koordinasi Percepatan Stunting" in body and DINKES in body
    assert "Ruang Joyoboyo" in body and "Pembahasan data balita" in body
    assert TIME_RE.search(body)
    # Ruang Joyoboyo has coordinates in the shipped registry: a map link
    maps = [a for a in page.eval_on_selector_all("a[href]", "l => l.map(a => a.href)")
            if "openstreetmap" in a or "google.com/maps" in a]
    assert maps and "-7.8166" in maps[0], maps
    add = page.get_by_role("link", name=re.compile("Tambahkan ke kalender")).first
    ics = requests.get(urljoin(page.url, add.get_attribute("href") or ""), timeout=30)
    assert ics.status_code == 200 and ics.headers["Content-Type"].startswith("text/calendar")
    assert "Rapat Koordinasi Percepatan Stunting" in ics.text
    data = [json.loads(t) for t in page.eval_on_selector_all(
        "script[type='application/ld+json']", "l => l.map(s => s.textContent)")]
    assert any(d.get("@type") == "Event" and d.get("name") ==
               "Rapat Koordinasi Percepatan Stunting" for d in data), data
    assert_no_horizontal_scroll(page)
    clean(page)
    screenshot(page, "kegiatan-phone")
    desktop = open_page(page.url, "desktop")
    screenshot(desktop, "kegiatan-desktop")
    no_violations(desktop)


def test_privacy_classes(site: Site, open_page: Any) -> None:
    """CONFIDENTIAL is a bare "Kegiatan internal - <OPD>"; PRIVATE is nowhere."""
    tomorrow = (site.today + dt.timedelta(days=1)).isoformat()
    page = open_page(site.url + "/")
    label = f"Kegiatan internal - {DINKES}"
    assert label in page.inner_text("main")
    internal = page.locator("li", has_text=label).last
    assert internal.locator("a[href^='/kegiatan/']").count() == 0  # no page of details
    assert TIME_RE.search(internal.inner_text())
    for path in ("/", f"/?tanggal={tomorrow}", "/?q=anggaran", "/?q=Kadis", "/layar/",
                 f"/cetak/?tanggal={tomorrow}", "/publik/agenda.json"):
        html = requests.get(site.url + path, headers={"Accept": "text/html"}, timeout=30).text
        for secret in SECRETS:
            assert secret not in html, (path, secret)
    # the hidden text is not searchable either
    found = open_page(site.url + "/?q=anggaran+4455")
    assert label not in found.inner_text("main")
    printed = open_page(site.url + f"/cetak/?tanggal={tomorrow}", "desktop")
    assert label in printed.inner_text("body")
    assert "Kunjungan Pribadi" not in printed.inner_text("body")


def test_hostile_title_shown_as_text(site: Site, open_page: Any) -> None:
    """A title carrying <img onerror> and <script> is text on every page; nothing runs."""
    tomorrow = (site.today + dt.timedelta(days=1)).isoformat()
    page = open_page(site.url + f"/?tanggal={tomorrow}")
    pages = [page]
    assert HOSTILE in page.inner_text("main")
    with page.expect_navigation():
        page.get_by_role("link", name=HOSTILE).first.click()
    assert HOSTILE in page.inner_text("body")
    pages += [open_page(site.url + f"/cetak/?tanggal={tomorrow}", "desktop"),
              open_page(site.url + "/layar/", "tv")]  # tomorrow's running line, by script
    pages[-1].wait_for_function("() => document.getElementById('berita-teks')"
                                ".textContent.includes('Lomba Kreasi')")
    assert HOSTILE in pages[-1].inner_text("#berita-teks")
    for p in pages:
        assert p.locator("img[src='x']").count() == 0, p.url
        assert not p.evaluate("() => Array.from(document.scripts).some(s => s.type !="
                              " 'application/ld+json' && s.textContent.includes('__xss'))"), p.url
        for data in p.eval_on_selector_all("script[type='application/ld+json']",
                                           "l => l.map(s => s.textContent)"):
            assert json.loads(data).get("name") in (HOSTILE, None), data  # data, not markup
        assert p.evaluate("() => window.__xss") is None, p.url
        clean(p)


@pytest.mark.parametrize(("path", "size"), [("/", "phone"), ("/", "desktop"),
                                            ("/layar/", "tv"), ("/cetak/", "desktop")])
def test_axe_finds_no_serious_violation(site: Site, open_page: Any, path: str,
                                        size: str) -> None:
    """WCAG 2.1 AA by axe-core: no serious or critical violation."""
    page = open_page(site.url + path, size)
    no_violations(page)
    clean(page)


def test_lobby_screen_follows_a_new_activity(site: Site, open_page: Any) -> None:
    """/layar/ shows an activity written after it loaded, within a minute, without a reload."""
    page = open_page(None, "tv")
    page.clock.install()  # before the page's script starts its timers
    page.goto(site.url + "/layar/")
    page.evaluate("() => { window.__loaded = 'sekali'; }")  # a reload would drop it
    body = page.inner_text("body")
    assert "Rapat Koordinasi Percepatan Stunting" in body
    assert "Posyandu Balita Kelurahan Bandar" in page.inner_text("#berita-teks")  # tomorrow
    screenshot(page, "layar-1920x1080", full_page=False)
    start = dt.datetime.now(WIB).replace(second=0, microsecond=0)
    site.put("pic-dinkes", "dinkes", "senam", "Senam Sehat Bersama ASN",
             start - dt.timedelta(minutes=10), start + dt.timedelta(minutes=50),
             "Halaman Balai Kota Kediri")
    site.run_sync()
    assert "Senam Sehat Bersama ASN" not in page.inner_text("body")
    page.clock.run_for(31_000)  # the script polls every 30 s
    page.wait_for_function("() => document.body.innerText.includes('Senam Sehat Bersama ASN')",
                           timeout=20_000)
    assert page.evaluate("() => window.__loaded") == "sekali"
    assert "Senam Sehat Bersama ASN" in page.inner_text("#daftar-kini")
    clean(page)
    portrait = open_page(site.url + "/layar/", "tv-portrait")
    assert "Senam Sehat Bersama ASN" in portrait.inner_text("body")
    assert_no_horizontal_scroll(portrait)
    screenshot(portrait, "layar-1080x1920", full_page=False)


def test_print_sheet(site: Site, open_page: Any, tmp_path: Path) -> None:
    """/cetak/ for a day: with print media, a table of time, activity, place and OPD; A4 PDF."""
    tomorrow = site.today + dt.timedelta(days=1)
    page = open_page(site.url + f"/cetak/?tanggal={tomorrow.isoformat()}", "desktop")
    page.emulate_media(media="print")
    header = page.inner_text("body")
    assert "Kota Kediri" in header and str(tomorrow.year) in header
    assert any(day in header for day in DAYS)
    rows = page.locator("table tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    posyandu = next(t for t in texts if "Posyandu Balita Kelurahan Bandar" in t)
    assert "09.00" in posyandu and "Balai RW 03" in posyandu and DINKES in posyandu
    assert page.locator("table thead th").count() >= 4
    assert page.evaluate("() => matchMedia('print').matches")
    clean(page)
    screenshot(page, "cetak-print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 1
    (tmp_path / "cetak.pdf").write_bytes(pdf)
    phone = open_page(site.url + f"/cetak/?tanggal={tomorrow.isoformat()}", "phone")
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "cetak-phone")


def test_every_request_of_a_page_is_answered(site: Site, open_page: Any) -> None:
    """What a browser fetches for a page, /favicon.ico included, is never a 4xx login prompt.

    Chromium asks for /favicon.ico on its own; answered by Radicale, it is a 401
    "Perlu Login" with a Basic challenge to an anonymous citizen.
    """
    for path, size in (("/", "phone"), ("/layar/", "tv"), ("/cetak/", "desktop")):
        page = open_page(site.url + path, size)
        page.wait_for_load_state("networkidle")
        assert failed_responses(page) == [], (path, failed_responses(page))
        # the favicon is the browser's request, not the page's: only the console tells
        assert page_problems(page) == [], (path, page_problems(page))
