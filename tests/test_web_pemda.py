"""The pemda workflow in the web pages (issue 11), over real HTTP and in a real browser.

PICs write by CalDAV (a stand-in line, protocol lines, a tentative hold, a
cancellation, invitation PDFs as ATTACH), approval is switched on, one sync
pass fills the web index. Then: the leaders' page shows status badges,
stand-ins and protocol details; ``/persetujuan/`` approves and rejects with
the session's CSRF token (the rejection's reason reaches the OPD's Bentrok
channel), refuses what it must with a 4xx page and is for protokol and admin
only; the public event page and JSON mark a cancellation; the invitation PDF
is served to leaders and to the public only when marked public. One Chromium
run checks the two new pages with axe-core at phone width.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from kalender.notify import board
from kalender.notify.notice import REJECTED_BY_PROTOCOL
from kalender.pemda import approvals
from kalender_sync.service import SyncService
from tests import browser_support
from tests.browser_support import assert_no_horizontal_scroll, axe_violations, screenshot
from tests.conftest import ACCOUNTS, PASSWORD, LiveServer, make_deployment, serve_in_thread

WIB = dt.timezone(dt.timedelta(hours=7))
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
DAY = dt.datetime.now(WIB).date() + dt.timedelta(days=4)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXTRA = {"protokol-a": ("protokol", ())}


def attach(name: str, public: bool = False) -> str:
    """An invitation as the web form stores it (RFC 5545 §3.8.1.1), folded at 75 octets."""
    mark = ";X-KALENDER-PUBLIK=TRUE" if public else ""
    line = (f"ATTACH;FMTTYPE=application/pdf;ENCODING=BASE64;VALUE=BINARY;X-FILENAME={name}"
            f"{mark}:{base64.b64encode(PDF).decode()}")
    return "\n ".join(line[i:i + 74] for i in range(0, len(line), 74))


def ics(uid: str, summary: str, start: str, end: str, *extra: str) -> bytes:
    """A VEVENT on DAY in Asia/Jakarta."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//tests//ID",
             "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
             f"DTSTART;TZID=Asia/Jakarta:{DAY:%Y%m%d}T{start}00",
             f"DTEND;TZID=Asia/Jakarta:{DAY:%Y%m%d}T{end}00", f"SUMMARY:{summary}",
             *extra, "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join("\r\n ".join(x.split("\n ")) for x in lines).encode()


def description(*lines: str) -> str:
    """A DESCRIPTION property from lines (RFC 5545 §3.3.11: a newline is \\n)."""
    return "DESCRIPTION:" + "\\n".join(lines)


#: name -> (login, OPD, iCalendar)
EVENTS: dict[str, tuple[str, str, bytes]] = {
    "sambutan": ("pic-x", "dinkes", ics(
        "sambutan", "Pembukaan Pekan Imunisasi", "0800", "0900", "LOCATION:Ruang Joyoboyo",
        description("Pejabat: Wali Kota Kediri",
                    "Wali Kota Kediri diwakili oleh Wakil Wali Kota Kediri",
                    "Pakaian: PDH Khaki", "Nomor surat: 005/123/419.42/2026",
                    "Perihal: Undangan Pembukaan", "Narahubung: Budi 081234567890",
                    "Sambutan: Ya"), attach("undangan-imunisasi.pdf"))),
    "setuju": ("pic-x", "dinkes", ics(
        "setuju", "Peresmian Puskesmas Baru", "1000", "1100", "LOCATION:Ruang Kilisuci",
        description("Pejabat: Sekda"))),
    "tolak": ("pic-y", "dinsos", ics(
        "tolak", "Penyerahan Bantuan Sosial", "1300", "1400", "LOCATION:Ruang Command Center",
        description("Pejabat: Sekda"))),
    "tentatif": ("pic-y", "dinsos", ics(
        "tentatif", "Rapat Koordinasi Bansos", "1500", "1600", "STATUS:TENTATIVE",
        "LOCATION:Ruang Kilisuci")),
    "batal": ("pic-y", "dinsos", ics(
        "batal", "Pasar Murah Kelurahan Bandar", "0800", "1000", "STATUS:CANCELLED",
        "LOCATION:Halaman Balai Kota Kediri")),
    "publik": ("pic-xz", "diskominfo", ics(
        "publik", "Sosialisasi Literasi Digital", "1700", "1800",
        attach("undangan-literasi.pdf", public=True))),
    "tertutup": ("pic-xz", "diskominfo", ics(
        "tertutup", "Pelatihan Admin Website", "1900", "2000", attach("internal.pdf"))),
}


@dataclass
class Site:
    """The served deployment, its events' file names, and a sync pass."""

    live: LiveServer
    names: dict[str, str] = field(default_factory=dict)
    sessions: list[requests.Session] = field(default_factory=list)

    def sync(self) -> None:
        """One sync pass: the web index follows the calendars and the decisions."""
        service = SyncService(self.live.dep, self.live.url)
        try:
            service.run_once()
        finally:
            service.close()

    def browser(self, login: str) -> requests.Session:
        """A browser signed in through the ``/masuk/`` form."""
        s = requests.Session()
        self.sessions.append(s)
        s.headers.update(HTML)
        form = s.get(self.live.url + "/masuk/", timeout=30)
        r = s.post(self.live.url + "/masuk/", data={"login": login, "password": PASSWORD,
                                                     "csrf": csrf_of(form.text)},
                   allow_redirects=False, timeout=30)
        assert r.status_code == 303, (r.status_code, r.text[:300])
        return s


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A deployment with approval on, the agenda written by PICs, synced once."""
    dep = make_deployment(tmp_path_factory.mktemp("pemda") / "kediri", {**ACCOUNTS, **EXTRA})
    approvals.switch(dep.database, True)
    for server in serve_in_thread(dep):
        found = Site(server)
        for name, (login, opd, body) in EVENTS.items():
            found.names[name] = f"{name}-{uuid.uuid4().hex[:6]}.ics"
            r = server.request(login, "PUT", f"/opd/{opd}/{found.names[name]}", data=body,
                               headers={"Content-Type": "text/calendar"})
            assert r.status_code == 201, (name, r.status_code, r.text)
        found.sync()
        yield found
        for s in found.sessions:
            s.close()


def csrf_of(text: str) -> str:
    """The CSRF token of a page's first form."""
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found, text[:500]
    return found.group(1)


def text_of(html: str) -> str:
    """A page's text: tags out, entities decoded, spaces folded."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def item_of(html: str, title: str) -> str:
    """The text of the list item (``<li>``) holding ``title``."""
    pattern = r"<li class=\"(?:kegiatan|menunggu-item)[^\"]*\".*?</li>\s*(?=<li|</ul)"
    for block in re.findall(pattern, html, re.S):
        if title in block:
            return text_of(block)
    raise AssertionError(f"{title!r} not listed")


def leaders_day(site: Site, login: str = "pimpinan-a") -> str:
    """The leaders' page of DAY as ``login``."""
    r = site.browser(login).get(f"{site.live.url}/pimpinan/?tanggal={DAY}", timeout=30)
    assert r.status_code == 200, r.text[:500]
    return r.text


def public_id(site: Site, title: str) -> str:
    """The page id of a public activity, from the JSON of DAY."""
    r = requests.get(f"{site.live.url}/publik/agenda.json?tanggal={DAY}", timeout=30)
    found = [e for e in r.json()["events"] if e["name"] == title]
    assert found, [e["name"] for e in r.json()["events"]]
    return str(found[0]["id"])


def leaders_pdf_link(html: str, title: str) -> str:
    """The invitation link in the leaders' item of ``title``."""
    for block in re.findall(r"<li class=\"kegiatan.*?</li>", html, re.S):
        if title in block:
            found = re.search(r'href="(/kegiatan/[^"]+/undangan\.pdf)"', block)
            assert found, block
            return found.group(1)
    raise AssertionError(title)


def test_leaders_page_shows_status_stand_ins_and_protocol(site: Site) -> None:
    """Badges (Menunggu persetujuan, Tentatif, DIBATALKAN), who represents whom, protocol."""
    html = leaders_day(site)
    waiting = item_of(html, "Pembukaan Pekan Imunisasi")
    assert "Menunggu persetujuan" in waiting
    assert "Wali Kota Kediri diwakili oleh Wakil Wali Kota Kediri" in waiting
    assert "Pakaian: PDH Khaki" in waiting
    assert "Nomor 005/123/419.42/2026, perihal Undangan Pembukaan" in waiting
    assert "Narahubung: Budi 081234567890" in waiting
    assert "Sambutan: Ya" in waiting
    assert "Unduh surat undangan (PDF)" in waiting
    assert "Tentatif" in item_of(html, "Rapat Koordinasi Bansos")
    assert "DIBATALKAN" in item_of(html, "Pasar Murah Kelurahan Bandar")
    assert "Definitif" in item_of(html, "Sosialisasi Literasi Digital")
    sheet = site.browser("protokol-a").get(
        f"{site.live.url}/pimpinan/cetak/?tanggal={DAY}", timeout=30)
    assert sheet.status_code == 200
    row = text_of(sheet.text)
    assert "[Menunggu persetujuan] Pembukaan Pekan Imunisasi" in row
    assert "Pakaian: PDH Khaki" in row and "Wali Kota Kediri diwakili oleh" in row


def test_roles_of_the_approval_page(site: Site) -> None:
    """protokol and admin open /persetujuan/; a PIC and pimpinan get 403, even by POST."""
    for login in ("protokol-a", "admin-a"):
        r = site.browser(login).get(site.live.url + "/persetujuan/", timeout=30)
        assert r.status_code == 200, (login, r.text[:300])
        assert "Persetujuan Prokopim" in r.text and 'href="/persetujuan/"' in r.text
    for login in ("pic-x", "pimpinan-a"):
        s = site.browser(login)
        r = s.get(site.live.url + "/persetujuan/", timeout=30)
        assert r.status_code == 403, (login, r.status_code)
        assert 'href="/persetujuan/"' not in r.text
        home = s.get(site.live.url + "/ketersediaan/", timeout=30)
        r = s.post(site.live.url + "/persetujuan/setujui/", timeout=30, allow_redirects=False,
                   data={"csrf": csrf_of(home.text), "opd": "dinkes", "uid": "setuju"})
        assert r.status_code == 403, (login, r.status_code)
    # protokol reads every OPD like pimpinan (registry.LEADER_ROLES)
    assert "Penyerahan Bantuan Sosial" in leaders_day(site, "protokol-a")
    anonymous = requests.get(site.live.url + "/persetujuan/", headers=HTML, timeout=30,
                             allow_redirects=False)
    assert anonymous.status_code == 303 and "/masuk/" in anonymous.headers["Location"]


def test_approve_from_the_page(site: Site) -> None:
    """Setujui: 303 back with a confirmation; public and "Definitif" after the next sync."""
    s = site.browser("protokol-a")
    page = s.get(site.live.url + "/persetujuan/", timeout=30)
    listed = item_of(page.text, "Peresmian Puskesmas Baru")
    assert "Sekretaris Daerah Kota Kediri" in listed and "Ruang Kilisuci" in listed
    assert "Dinas Kesehatan" in listed or "dinkes" in listed.lower()
    waiting = item_of(page.text, "Pembukaan Pekan Imunisasi")
    assert "Wali Kota Kediri diwakili oleh Wakil Wali Kota Kediri" in waiting
    assert "Pakaian: PDH Khaki" in waiting
    before = requests.get(f"{site.live.url}/publik/agenda.json?tanggal={DAY}", timeout=30)
    assert "Peresmian Puskesmas Baru" not in {e["name"] for e in before.json()["events"]}
    r = s.post(site.live.url + "/persetujuan/setujui/", allow_redirects=False, timeout=30,
               data={"csrf": csrf_of(page.text), "opd": "dinkes", "uid": "setuju"})
    assert r.status_code == 303, r.text[:500]
    assert r.headers["Location"].startswith("/persetujuan/?")
    done = s.get(site.live.url + r.headers["Location"], timeout=30)
    assert "Keputusan tersimpan" in done.text and "Peresmian Puskesmas Baru" in done.text
    assert "Peresmian Puskesmas Baru" not in text_of(
        done.text.split("menunggu-daftar", 1)[-1])
    site.sync()
    assert "Definitif" in item_of(leaders_day(site), "Peresmian Puskesmas Baru")
    after = requests.get(f"{site.live.url}/publik/agenda.json?tanggal={DAY}", timeout=30)
    assert "Peresmian Puskesmas Baru" in {e["name"] for e in after.json()["events"]}


def test_reject_from_the_page(site: Site) -> None:
    """Tolak needs a reason (400 without); the reason reaches Bentrok and the leaders' page."""
    s = site.browser("admin-a")
    page = s.get(site.live.url + "/persetujuan/", timeout=30)
    token = csrf_of(page.text)
    empty = s.post(site.live.url + "/persetujuan/tolak/", timeout=30, allow_redirects=False,
                   data={"csrf": token, "opd": "dinsos", "uid": "tolak", "alasan": "  "})
    assert empty.status_code == 400 and "alasan" in empty.text.lower()
    unknown = s.post(site.live.url + "/persetujuan/tolak/", timeout=30, allow_redirects=False,
                     data={"csrf": token, "opd": "dinsos", "uid": "tidak-ada", "alasan": "x"})
    assert unknown.status_code == 404, unknown.status_code
    missing = s.post(site.live.url + "/persetujuan/setujui/", timeout=30,
                     allow_redirects=False, data={"csrf": token})
    assert missing.status_code == 400
    forged = s.post(site.live.url + "/persetujuan/tolak/", timeout=30, allow_redirects=False,
                    data={"csrf": "palsu", "opd": "dinsos", "uid": "tolak", "alasan": "x"})
    assert forged.status_code == 403
    assert not [n for n in board.current(site.live.dep.database, "dinsos")
                if n.kind == REJECTED_BY_PROTOCOL]
    reason = "Bentrok dengan kunjungan kerja Sekda; mohon pindah ke hari Jumat."
    r = s.post(site.live.url + "/persetujuan/tolak/", timeout=30, allow_redirects=False,
               data={"csrf": token, "opd": "dinsos", "uid": "tolak", "alasan": reason})
    assert r.status_code == 303, r.text[:500]
    assert parse_qs(urlsplit(r.headers["Location"]).query)["keputusan"] == ["tolak"]
    done = s.get(site.live.url + r.headers["Location"], timeout=30)
    assert "ditolak" in text_of(done.text) and "Bentrok" in done.text
    notices = [n for n in board.current(site.live.dep.database, "dinsos")
               if n.kind == REJECTED_BY_PROTOCOL]
    assert [n.message for n in notices] == [reason]
    # still listed (rejected, with its reason) until the PIC changes it
    assert reason in item_of(done.text, "Penyerahan Bantuan Sosial")
    site.sync()
    shown = item_of(leaders_day(site), "Penyerahan Bantuan Sosial")
    assert "Ditolak" in shown and reason in shown


def test_approval_off_says_how_to_switch_it_on(site: Site) -> None:
    """With approval off the page lists nothing and names `kalender approval on`."""
    db = site.live.dep.database
    approvals.switch(db, False)
    try:
        r = site.browser("protokol-a").get(site.live.url + "/persetujuan/", timeout=30)
        assert r.status_code == 200
        assert "kalender approval on" in r.text and "menunggu-item" not in r.text
    finally:
        approvals.switch(db, True)


def test_public_page_and_json_mark_a_cancellation(site: Site) -> None:
    """DIBATALKAN on the agenda and the event page, JSON CANCELLED, JSON-LD EventCancelled."""
    occurrence = public_id(site, "Pasar Murah Kelurahan Bandar")
    page = requests.get(f"{site.live.url}/kegiatan/{occurrence}", timeout=30)
    assert page.status_code == 200
    assert '<p class="tanda tanda-batal">DIBATALKAN</p>' in page.text
    assert '<span class="waktu-batal">' in page.text
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>',
                              page.text, re.S).group(1))  # type: ignore[union-attr]
    assert ld["eventStatus"] == "https://schema.org/EventCancelled"
    assert ld["name"] == "Pasar Murah Kelurahan Bandar"
    events = requests.get(f"{site.live.url}/publik/agenda.json?tanggal={DAY}",
                          timeout=30).json()["events"]
    by_name = {e["name"]: e for e in events}
    assert by_name["Pasar Murah Kelurahan Bandar"]["status"] == "CANCELLED"
    assert by_name["Sosialisasi Literasi Digital"]["status"] == "CONFIRMED"
    scheduled = by_name["Sosialisasi Literasi Digital"]["id"]
    other = requests.get(f"{site.live.url}/kegiatan/{scheduled}", timeout=30)
    assert "https://schema.org/EventScheduled" in other.text
    agenda = requests.get(f"{site.live.url}/?tanggal={DAY}", headers=HTML, timeout=30)
    assert "DIBATALKAN" in item_of(agenda.text, "Pasar Murah Kelurahan Bandar")
    # held and waiting activities are not public
    assert "Rapat Koordinasi Bansos" not in by_name
    assert "Pembukaan Pekan Imunisasi" not in by_name


def test_stand_ins_on_public_pages(site: Site) -> None:
    """Once approved, the public list and event page say who represents whom; no narahubung."""
    s = site.browser("protokol-a")
    page = s.get(site.live.url + "/persetujuan/", timeout=30)
    r = s.post(site.live.url + "/persetujuan/setujui/", allow_redirects=False, timeout=30,
               data={"csrf": csrf_of(page.text), "opd": "dinkes", "uid": "sambutan"})
    assert r.status_code == 303
    site.sync()
    occurrence = public_id(site, "Pembukaan Pekan Imunisasi")
    event = requests.get(f"{site.live.url}/kegiatan/{occurrence}", timeout=30)
    assert "Wali Kota Kediri diwakili oleh Wakil Wali Kota Kediri" in text_of(event.text)
    assert "081234567890" not in event.text and "Unduh surat undangan" not in event.text
    agenda = requests.get(f"{site.live.url}/?tanggal={DAY}", headers=HTML, timeout=30)
    assert "Wali Kota Kediri diwakili oleh Wakil Wali Kota Kediri" in item_of(
        agenda.text, "Pembukaan Pekan Imunisasi")
    feed = requests.get(f"{site.live.url}/publik/agenda.json?tanggal={DAY}", timeout=30)
    mine = [e for e in feed.json()["events"] if e["name"] == "Pembukaan Pekan Imunisasi"]
    assert mine[0]["standIns"] == ["Wali Kota Kediri diwakili oleh Wakil Wali Kota Kediri"]


def test_invitation_pdf_privacy(site: Site) -> None:
    """Leaders download every letter (no-store); the public only one marked public."""
    leaders = site.browser("pimpinan-a")
    html = leaders_day(site)
    for title, name in (("Pelatihan Admin Website", "internal.pdf"),
                        ("Sosialisasi Literasi Digital", "undangan-literasi.pdf")):
        link = leaders_pdf_link(html, title)
        r = leaders.get(site.live.url + link, timeout=30)
        assert r.status_code == 200 and r.content == PDF, (title, r.status_code)
        assert r.headers["Content-Type"] == "application/pdf"
        assert f'filename="{name}"' in r.headers["Content-Disposition"]
        assert "no-store" in r.headers["Cache-Control"]
    private = leaders_pdf_link(html, "Pelatihan Admin Website")
    public = leaders_pdf_link(html, "Sosialisasi Literasi Digital")
    # the public: the marked letter of a public activity, nothing else (same 404 as none)
    assert requests.get(site.live.url + private, timeout=30).status_code == 404
    r = requests.get(site.live.url + public, timeout=30)
    assert r.status_code == 200 and r.content == PDF
    assert r.headers["Content-Type"] == "application/pdf"
    assert "attachment" in r.headers["Content-Disposition"]
    event = requests.get(site.live.url + public.removesuffix("/undangan.pdf"), timeout=30)
    assert public in event.text
    # a PIC of another OPD is the public here
    assert site.browser("pic-y").get(site.live.url + private, timeout=30).status_code == 404
    # the waiting activity's letter: leaders yes, public no (even once it is public)
    waiting = leaders_pdf_link(html, "Pembukaan Pekan Imunisasi")
    assert leaders.get(site.live.url + waiting, timeout=30).status_code == 200
    assert requests.get(site.live.url + waiting, timeout=30).status_code == 404
    assert requests.get(site.live.url + "/kegiatan/" + "0" * 32 + "/undangan.pdf",
                        timeout=30).status_code == 404
    # the copies carry no file: every subscriber would download it on every poll
    feed = leaders.get(site.live.url + "/pimpinan/agenda/", timeout=30,
                       auth=("pimpinan-a", PASSWORD))
    assert feed.status_code == 200 and "Sosialisasi Literasi Digital" in feed.text
    assert "VALUE=BINARY" not in feed.text.replace("\r\n ", "")


# -- one real browser ------------------------------------------------------------
browser = browser_support.browser
open_page = browser_support.open_page


def signed_in(site: Site, open_page: Callable[..., Any], login: str, path: str) -> Any:
    """A phone-sized Chromium page signed in as ``login``, then at ``path``."""
    page = open_page(site.live.url + "/masuk/?lanjut=" + quote(path, safe=""), "phone")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click(".formulir-masuk button[type=submit]")
    assert page.url == site.live.url + path, page.url
    return page


@pytest.mark.parametrize("path", ["/persetujuan/", f"/pimpinan/?tanggal={DAY}"])
def test_axe_at_phone_width(site: Site, open_page: Any, path: str) -> None:
    """No serious or critical WCAG 2.1 AA violation; 360 px without sideways scrolling."""
    page = signed_in(site, open_page, "protokol-a", path)
    found = axe_violations(page)
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)
    assert_no_horizontal_scroll(page)
    screenshot(page, "pemda-" + path.strip("/").split("/")[0] + "-phone")
