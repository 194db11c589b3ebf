"""The workspace's views over real HTTP: OPD home, leaders' day and sheet, admin, private links.

PICs write by CalDAV, one sync pass fills the web index, then browsers signed
in through the real ``/masuk/`` form (``requests.Session``) open ``/opd/``,
``/pimpinan/``, ``/pimpinan/cetak/`` and ``/admin/``; calendar apps without a
login fetch ``/langganan/<token>/``. The token's absence from the log is
checked on a real ``kalender serve``. Browser checks (axe, 360 px, print)
live in ``tests/test_web_browser_views.py``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
import sqlite3
import stat
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from kalender import audit, registry
from kalender.admin import cli, cmd_accounts
from kalender.deployment import Deployment
from kalender.feedtokens import FeedTokens, readable
from kalender.registry import Opd, User
from kalender.web.workspace.feedlinks import LIMIT, RateLimit
from kalender.web.workspace.overview import activity
from kalender_sync.service import SyncService
from tests.conftest import (
    ACCOUNTS,
    KALENDER,
    PASSWORD,
    LiveServer,
    free_port,
    make_deployment,
    serve_in_thread,
)
from tests.test_logs import wait_for_feed, with_options

WIB = dt.timezone(dt.timedelta(hours=7))
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
TODAY = dt.datetime.now(WIB).date()
DAY = TODAY + dt.timedelta(days=3)
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
         "September", "Oktober", "November", "Desember")
#: Accounts beyond the shared ones: an idle PIC, one to move, one to remove.
EXTRA = {"pic-sepi": ("pic", ("dishub",)), "pic-pindah": ("pic", ("disdik",)),
         "pic-hapus": ("pic", ("bpbd",))}


def ics(uid: str, summary: str, day: dt.date, start: str, end: str, extra: str = "") -> bytes:
    """A VEVENT in Asia/Jakarta with an attendee the public must not see."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//tests//ID",
             "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
             f"DTSTART;TZID=Asia/Jakarta:{day:%Y%m%d}T{start}00",
             f"DTEND;TZID=Asia/Jakarta:{day:%Y%m%d}T{end}00", f"SUMMARY:{summary}",
             "ATTENDEE;CN=Budi:mailto:budi@example.org",
             *[x for x in extra.strip().splitlines() if x], "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


#: name -> (login, OPD, iCalendar); every one is accepted
EVENTS: dict[str, tuple[str, str, bytes]] = {
    "posyandu": ("pic-x", "dinkes", ics(
        "posyandu", "Posyandu Balita Kelurahan Bandar", DAY, "0900", "1100",
        "LOCATION:Ruang Kilisuci\nDESCRIPTION:Pejabat: Wali Kota Kediri\\nBawa buku KIA.")),
    "evaluasi": ("pic-x", "dinkes", ics(
        "evaluasi", "Evaluasi Kinerja Puskesmas", DAY, "1500", "1600",
        "CLASS:CONFIDENTIAL\nDESCRIPTION:catatan evaluasi internal")),
    "zebra": ("pic-y", "dinsos", ics(
        "zebra", "Rapat Tertutup Zebra", DAY, "1300", "1400",
        "CLASS:PRIVATE\nLOCATION:Ruang Joyoboyo\nDESCRIPTION:catatan rahasia Zebra")),
    **{f"kominfo-{n}": ("pic-xz", "diskominfo", ics(
        f"kominfo-{n}", f"Pelatihan Literasi Digital {n}", DAY + dt.timedelta(days=n),
        "0800", "0900")) for n in (1, 2, 3)},
}
CLASH = ics("bentrok", "Rapat Bentrok Dinsos", DAY, "1000", "1200", "LOCATION:Ruang Kilisuci")


@dataclass
class Views:
    """The served deployment and the file names its events were stored under."""

    live: LiveServer
    names: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def views(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Views]:
    """A deployment of its own, agenda written by PICs (one refused), synced once."""
    dep = make_deployment(tmp_path_factory.mktemp("views") / "kediri", {**ACCOUNTS, **EXTRA})
    for server in serve_in_thread(dep):
        found = Views(server)
        for name, (login, opd, body) in EVENTS.items():
            found.names[name] = f"{name}-{uuid.uuid4().hex[:6]}.ics"
            r = server.request(login, "PUT", f"/opd/{opd}/{found.names[name]}", data=body,
                               headers={"Content-Type": "text/calendar"})
            assert r.status_code == 201, (name, r.status_code, r.text)
        # a change is no new entry (the admin overview counts creations)
        r = server.request("pic-x", "PUT", f"/opd/dinkes/{found.names['evaluasi']}",
                           data=EVENTS["evaluasi"][2].replace(b"internal", b"internal 2"),
                           headers={"Content-Type": "text/calendar"})
        assert r.status_code == 204, r.text
        r = server.request("pic-y", "PUT", "/opd/dinsos/bentrok.ics", data=CLASH,
                           headers={"Content-Type": "text/calendar"})
        assert r.status_code == 403, r.text
        service = SyncService(dep, server.url)
        try:
            service.run_once()
        finally:
            service.close()
        yield found


_BROWSERS: list[requests.Session] = []


@pytest.fixture(autouse=True)
def _close_browsers() -> Iterator[None]:
    """Close the test's browser sessions (their pooled sockets) when it ends."""
    yield
    while _BROWSERS:
        _BROWSERS.pop().close()


def signed_in(live: LiveServer, login: str) -> requests.Session:
    """A browser signed in through the ``/masuk/`` form."""
    s = requests.Session()
    _BROWSERS.append(s)
    s.headers.update(HTML)
    form = s.get(live.url + "/masuk/", timeout=30)
    r = s.post(live.url + "/masuk/", data={"login": login, "password": PASSWORD,
                                            "csrf": csrf_of(form.text)},
               allow_redirects=False, timeout=30)
    assert r.status_code == 303, (r.status_code, r.text)
    return s


def csrf_of(text: str) -> str:
    """The CSRF token of a page's first form."""
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found, text
    return found.group(1)


def get(s: requests.Session, live: LiveServer, path: str, status: int = 200
        ) -> requests.Response:
    """A signed-in browser's GET that must answer ``status``."""
    r = s.get(live.url + path, allow_redirects=False, timeout=30)
    assert r.status_code == status, (path, r.status_code, r.text[:500])
    return r


class Page(HTMLParser):
    """What the tests read of a page: items, table rows, links and private links."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self.rows: list[tuple[str, list[str]]] = []  # (tr id, cell texts)
        self.links: dict[str, str] = {}  # private link label -> URL
        self.hrefs: list[str] = []
        self.styled = 0
        self._item: list[str] | None = None
        self._row: tuple[str, list[str]] | None = None
        self._cell: list[str] | None = None
        self._label: list[str] | None = None
        self._url: list[str] | None = None
        self._last_label = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Collect one opening tag."""
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        self.styled += "style" in a or tag == "style"
        if tag == "li" and "kegiatan" in classes:
            self._item = []
        if tag == "tr" and self._row is None:
            self._row = (a.get("id") or "", [])
        if tag in ("td", "th") and self._row is not None:
            self._cell = []
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"] or "")
        if tag == "span" and "tautan-nama" in classes:
            self._label = []
        if tag == "code" and "tautan-alamat" in classes:
            self._url = []

    def handle_endtag(self, tag: str) -> None:
        """Close an item, a cell, a row or a link's parts."""
        if tag == "li" and self._item is not None:
            self.items.append(" ".join("".join(self._item).split()))
            self._item = None
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row[1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        if tag == "span" and self._label is not None:
            self._last_label = "".join(self._label).strip()
            self._label = None
        if tag == "code" and self._url is not None:
            self.links[self._last_label] = "".join(self._url).strip()
            self._url = None

    def handle_data(self, data: str) -> None:
        """Text of whatever is open."""
        for part in (self._item, self._cell, self._label, self._url):
            if part is not None:
                part.append(data)

    def item(self, words: str) -> str:
        """The one item whose text holds ``words``."""
        found = [i for i in self.items if words in i]
        assert len(found) == 1, (words, self.items)
        return found[0]


def parse(r: requests.Response) -> Page:
    """A workspace page parsed (a private HTML page)."""
    assert r.headers["Content-Type"] == "text/html; charset=utf-8", r.headers
    assert r.headers["Cache-Control"] == "private, no-store", r.headers
    page = Page()
    page.feed(r.text)
    assert page.styled == 0  # CSP: no inline style
    return page


def long_date(day: dt.date) -> str:
    """"Selasa, 1 Desember 2026"."""
    return f"{HARI[day.weekday()]}, {day.day} {BULAN[day.month - 1]} {day.year}"


# -- /opd/ --------------------------------------------------------------------------------
def test_pic_home_lists_the_opd_activities_with_working_edit_links(views: Views) -> None:
    live = views.live
    s = signed_in(live, "pic-x")
    r = get(s, live, "/opd/")
    page = parse(r)
    item = page.item("Posyandu Balita Kelurahan Bandar")
    assert long_date(DAY) in item and "09.00-11.00 WIB" in item and "Ruang Kilisuci" in item
    assert "Wali Kota Kediri" in item
    assert "Internal" in page.item("Evaluasi Kinerja Puskesmas")  # its own OPD: the title
    assert "Zebra" not in r.text and "Literasi Digital" not in r.text  # other OPD
    edit = f"/kegiatan/ubah/dinkes/{views.names['posyandu']}"
    assert edit in page.hrefs
    assert f'action="/kegiatan/hapus/dinkes/{views.names["posyandu"]}"' in r.text
    assert "/kegiatan/baru/?opd=dinkes" in page.hrefs
    form = get(s, live, edit)  # the link opens the entry form of that very item
    assert "Posyandu Balita Kelurahan Bandar" in form.text
    # how to connect an app, for this login
    for words in (f"{live.url}/", "<code>pic-x</code>", f"{live.url}/opd/dinkes/",
                  f"{live.url}/publik/agenda/", f"{live.url}/bentrok/dinkes/", "Thunderbird",
                  "iPhone", "DAVx5", "CalDav Synchronizer", "Evolution"):
        assert words in r.text, words
    assert "Kegiatan tersimpan" not in r.text
    assert "Kegiatan tersimpan" in get(s, live, "/opd/?tersimpan=posyandu").text
    get(s, live, "/opd/?opd=dinsos", 403)  # not theirs
    get(s, live, "/opd/?opd=tidak-ada", 404)
    # a PIC of two OPD: one section each; an admin chooses
    both = get(signed_in(live, "pic-xz"), live, "/opd/").text
    assert 'id="opd-dinkes"' in both and 'id="opd-diskominfo"' in both
    assert "Pelatihan Literasi Digital 1" in both
    admin = signed_in(live, "admin-a")
    assert 'name="opd"' in get(admin, live, "/opd/").text
    chosen = get(admin, live, "/opd/?opd=dinsos").text
    assert "Rapat Tertutup Zebra" in chosen and "/kegiatan/ubah/dinsos/" in chosen
    leader = get(signed_in(live, "pimpinan-a"), live, "/opd/?opd=dinsos").text
    assert "Rapat Tertutup Zebra" in leader and "/kegiatan/ubah/" not in leader  # reads only


def test_pic_home_shows_the_bentrok_notices(views: Views) -> None:
    live = views.live
    page = parse(get(signed_in(live, "pic-y"), live, "/opd/"))
    notice = page.item("Rapat Bentrok Dinsos")
    assert "Ditolak" in notice and "Ruang Kilisuci sudah dipakai" in notice
    assert "10.00-12.00 WIB" in notice and "pic-y" in notice
    assert "Rapat Bentrok Dinsos" not in get(signed_in(live, "pic-x"), live, "/opd/").text


# -- /pimpinan/ and its sheet ------------------------------------------------------------
def test_leaders_see_every_opd_in_full_detail(views: Views) -> None:
    live = views.live
    for login in ("pimpinan-a", "admin-a"):
        s = signed_in(live, login)
        page = parse(get(s, live, f"/pimpinan/?tanggal={DAY}"))
        zebra = page.item("Rapat Tertutup Zebra")  # another OPD's PRIVATE event
        for words in ("Rahasia", "13.00-14.00 WIB", "Ruang Joyoboyo", "Dinas Sosial Kota Kediri",
                      "catatan rahasia Zebra"):
            assert words in zebra, (login, words, zebra)
        evaluation = page.item("Evaluasi Kinerja Puskesmas")
        assert "Internal" in evaluation and "catatan evaluasi internal 2" in evaluation
        posyandu = page.item("Posyandu Balita Kelurahan Bandar")
        assert "Pejabat: Wali Kota Kediri" in posyandu and "Rahasia" not in posyandu
        assert "Literasi Digital" not in page.items  # another day
    s = signed_in(live, "pimpinan-a")
    page = parse(get(s, live, f"/pimpinan/?tanggal={DAY}&orang=wali-kota"))
    assert [i for i in page.items if "Posyandu" in i] and not [
        i for i in page.items if "Zebra" in i]
    persons = live.dep.persons()
    for p in persons:  # each key person's agenda is one link away
        assert f"/pimpinan/?tanggal={DAY}&orang={p.id}" in page.hrefs, p.id
    week = get(s, live, f"/pimpinan/?tanggal={DAY}&minggu=1").text
    assert week.count('class="hari"') == 7 and "Rapat Tertutup Zebra" in week
    get(s, live, "/pimpinan/?orang=bukan-pejabat", 400)
    get(s, live, "/pimpinan/?tanggal=kemarin", 400)


def test_pic_and_pimpinan_are_kept_out_of_pages_not_theirs(views: Views) -> None:
    live = views.live
    pic = signed_in(live, "pic-x")
    for path in ("/pimpinan/", f"/pimpinan/?tanggal={DAY}", "/pimpinan/cetak/", "/admin/"):
        r = get(pic, live, path, 403)
        assert "Halaman ini hanya untuk" in r.text and "Zebra" not in r.text
    get(signed_in(live, "pimpinan-a"), live, "/admin/", 403)
    r = requests.get(live.url + "/pimpinan/", headers=HTML, allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"].startswith("/masuk/?lanjut=")
    # a calendar app at the same paths still reaches CalDAV
    r = live.request("admin-a", "PROPFIND", "/pimpinan/", headers={"Depth": "0"})
    assert r.status_code == 207


def test_print_sheet_agenda_pimpinan(views: Views) -> None:
    live = views.live
    s = signed_in(live, "pimpinan-a")
    r = get(s, live, f"/pimpinan/cetak/?tanggal={DAY}")
    page = parse(r)
    assert "<h1>Agenda Pimpinan</h1>" in r.text and long_date(DAY) in r.text
    header, *rows = [cells for _, cells in page.rows]
    assert header == ["No", "Waktu", "Kegiatan", "Tempat", "Penyelenggara", "Keterangan"]
    assert [row[1] for row in rows] == ["09.00-11.00 WIB", "13.00-14.00 WIB", "15.00-16.00 WIB"]
    posyandu, zebra, evaluation = rows
    assert posyandu[2].startswith("Posyandu Balita Kelurahan Bandar")
    assert posyandu[3:] == ["Ruang Kilisuci", "Dinas Kesehatan Kota Kediri",
                            "Pejabat: Wali Kota Kediri Bawa buku KIA."]
    assert "Rapat Tertutup Zebra [Rahasia]" in zebra[2] and zebra[5] == "catatan rahasia Zebra"
    assert "[Internal]" in evaluation[2] and evaluation[3] == "-"
    for sheet in ("/aset/cetak.css", "/aset/pimpinan-cetak.css"):
        assert sheet in r.text
        css = requests.get(live.url + sheet, timeout=30)
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert "<script" not in r.text
    one = parse(get(s, live, f"/pimpinan/cetak/?tanggal={DAY}&orang=wali-kota"))
    assert len(one.rows) == 2 and "Wali Kota Kediri" in r.text


# -- /admin/ -----------------------------------------------------------------------------
def test_admin_overview_numbers_equal_the_data(views: Views) -> None:
    live = views.live
    page = parse(get(signed_in(live, "admin-a"), live, "/admin/"))
    rows = {ident.removeprefix("opd-"): cells for ident, cells in page.rows if ident}
    assert len(rows) == len([o for o in live.dep.opds() if not o.archived])
    db = live.dep.database
    for opd, entered in {"dinkes": 2, "dinsos": 1, "diskominfo": 3, "dishub": 0}.items():
        made = [e for e in audit.entries(db, opd=opd, action="create")
                if e.href and e.actor != "sync-a"]
        assert len(made) == entered, opd  # the data: one creation per PUT, none per change
        assert rows[opd][2] == str(entered), (opd, rows[opd])
    assert rows["dinsos"][5] == "1" and rows["dinkes"][5] == "0"  # the refused PUT
    assert "pic-x:" in rows["dinkes"][4] and "pic-xz:" in rows["dinkes"][4]
    assert "Aktif" in rows["dinkes"][1]
    assert rows["dishub"][1] == "Tidak aktif 30 hari" and "belum pernah menulis" in rows[
        "dishub"][4]
    assert rows["dpupr"][1] == "Tanpa PIC Tidak aktif 30 hari" and rows["dpupr"][3] == \
        "belum pernah"
    marked = [cells[1] != "Aktif" for ident, cells in page.rows if ident]
    assert marked == sorted(marked, reverse=True)  # those that stand out come first
    assert "kalender user add" in get(signed_in(live, "admin-a"), live, "/admin/").text


def test_overview_counts_people_within_the_period(tmp_path: Path) -> None:
    db = tmp_path / "kalender.db"
    now = dt.datetime(2030, 6, 30, 12, 0, tzinfo=dt.UTC)
    days = dt.timedelta(days=1)
    audit.record(db, "pic-a", "create", "/opd/a/", "x.ics", now=now - 5 * days)
    audit.record(db, "pic-a", "create", "/opd/a/", "old.ics", now=now - 40 * days)
    audit.record(db, "pic-a", "update", "/opd/a/", "x.ics", now=now - days)
    audit.record(db, "sync-a", "create", "/opd/a/", "y.ics", now=now - days)  # not a person
    audit.record(db, "admin-a", "create", "/opd/b/", None, now=now - days)  # MKCALENDAR
    for uid, when in (("u", now - 2 * days), ("u", now - 2 * days), ("old", now - 45 * days)):
        audit.record_refusal(db, "pic-a", "/opd/a/", uid, "t", "Jadwal Bentrok", "m", now=when)
    opds = [Opd("a", "Dinas A"), Opd("b", "Dinas B"), Opd("c", "Dinas C", archived=True)]
    users = [User("pic-a", "pic", ("a",)), User("sync-a", "sync")]
    first, second = activity(db, opds, users, now)
    assert first.opd.id == "b" and first.no_pic and first.idle and first.attention
    assert second.opd.id == "a" and not second.attention
    assert second.entered == 1 and second.last_entry == now - 5 * days
    assert second.pics[0].login == "pic-a" and second.pics[0].last_write == now - days
    assert second.refusals == 2  # one row tried twice; the old one is outside the period
    (later,) = [a for a in activity(db, opds, users, now + 26 * days) if a.opd.id == "a"]
    assert later.idle and later.attention and later.last_entry == now - 5 * days


# -- private subscription links ----------------------------------------------------------
def links_of(live: LiveServer, login: str) -> dict[str, str]:
    """label -> URL of an account's private links, from its web home."""
    home = "/pimpinan/" if login.startswith(("pimpinan", "admin")) else "/opd/"
    return parse(get(signed_in(live, login), live, home)).links


def cli_links(live: LiveServer, login: str, *extra: str) -> list[str]:
    """The URLs ``kalender user feed`` prints."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["user", "feed", login, "--dir", str(live.dep.root), "--url", live.url,
                         *extra]) == 0
    return re.findall(r"https?://\S+/langganan/\S+/", out.getvalue())


def fetch(url: str, **headers: str) -> requests.Response:
    """A calendar app's GET of a link: no login, no cookie."""
    return requests.get(url, headers={k.replace("_", "-"): v for k, v in headers.items()},
                        timeout=30)


def test_private_links_work_anonymously_with_etag(views: Views) -> None:
    live = views.live
    links = links_of(live, "pic-x")
    assert "Agenda pimpinan (semua OPD, lengkap)" not in links  # a PIC reads no leaders' agenda
    assert not [k for k in links if k.startswith("Agenda ") and "publik" not in k]
    assert sorted(links.values()) == sorted(cli_links(live, "pic-x"))  # the same, shown again
    own = fetch(links["Kalender Dinas Kesehatan Kota Kediri"])
    assert own.status_code == 200 and own.headers["Content-Type"].startswith("text/calendar")
    assert "Posyandu Balita Kelurahan Bandar" in own.text
    assert "Evaluasi Kinerja Puskesmas" in own.text and "Zebra" not in own.text
    assert own.headers["Cache-Control"].startswith("private")
    assert fetch(links["Kalender Dinas Kesehatan Kota Kediri"],
                 If_None_Match=own.headers["ETag"]).status_code == 304
    public = fetch(links["Agenda publik Kota Kediri"])
    assert public.status_code == 200 and "Posyandu Balita Kelurahan Bandar" in public.text
    assert "Evaluasi Kinerja Puskesmas" not in public.text and "Zebra" not in public.text
    again = fetch(links["Agenda publik Kota Kediri"], If_None_Match=public.headers["ETag"])
    assert again.status_code == 304 and again.content == b""
    leaders = links_of(live, "pimpinan-a")
    full = fetch(leaders["Agenda pimpinan (semua OPD, lengkap)"])
    assert "Rapat Tertutup Zebra" in full.text and "catatan rahasia Zebra" in full.text
    person = fetch(leaders["Agenda Wali Kota Kediri"])
    assert "Posyandu Balita Kelurahan Bandar" in person.text and "Zebra" not in person.text
    assert fetch(f"{live.url}/langganan/{secrets.token_urlsafe(32)}/").status_code == 404


def test_private_links_stop_after_rotate(views: Views) -> None:
    live = views.live
    first = cli_links(live, "pic-sepi")
    assert all(fetch(u).status_code == 200 for u in first[:2])
    second = cli_links(live, "pic-sepi", "--rotate")
    assert not set(first) & set(second)
    assert fetch(first[0]).status_code == 404 and fetch(second[0]).status_code == 200
    s = signed_in(live, "pic-sepi")
    home = get(s, live, "/opd/")
    assert sorted(parse(home).links.values()) == sorted(second)
    r = s.post(live.url + "/langganan/buat-ulang/", data={"kembali": "/opd/"},
               allow_redirects=False, timeout=30)
    assert r.status_code == 403 and fetch(second[0]).status_code == 200  # no CSRF token
    r = s.post(live.url + "/langganan/buat-ulang/",
               data={"csrf": csrf_of(home.text), "kembali": "/opd/"}, allow_redirects=False,
               timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/opd/?langganan=baru#langganan"
    assert fetch(second[0]).status_code == 404
    after = get(s, live, "/opd/?langganan=baru")
    assert "Tautan langganan dibuat ulang" in after.text
    third = parse(after).links
    assert not set(third.values()) & set(second)
    assert fetch(third["Agenda publik Kota Kediri"]).status_code == 200


def test_private_links_follow_the_account_and_its_rights(views: Views) -> None:
    live = views.live
    dep = live.dep
    moving = cli_links(live, "pic-pindah")
    old_opd, public = moving[0], moving[1]
    assert fetch(old_opd).status_code == 200
    users = [User(u.login, u.role, ("dishub",), u.email) if u.login == "pic-pindah" else u
             for u in dep.users()]
    registry.write_users(dep.users_csv, users, [o.id for o in dep.opds()])  # moved by hand
    dep.write_rights()
    assert fetch(old_opd).status_code == 404  # the old OPD's calendar is no longer theirs
    assert fetch(public).status_code == 200
    assert old_opd not in cli_links(live, "pic-pindah")
    removed = cli_links(live, "pic-hapus")
    assert fetch(removed[0]).status_code == 200
    assert cli.main(["user", "remove", "pic-hapus", "--dir", str(dep.root)]) == 0
    assert all(fetch(u).status_code == 404 for u in removed)
    cmd_accounts.add_user(dep, User("pic-hapus", "pic", ("bpbd",)), PASSWORD)  # the login again
    assert all(fetch(u).status_code == 404 for u in removed)


def test_private_links_are_rate_limited(views: Views) -> None:
    live = views.live
    links = links_of(live, "pimpinan-a")
    url = links["Pemakaian Ruang Joyoboyo"]
    etag = fetch(url).headers["ETag"]
    codes = {fetch(url, If_None_Match=etag).status_code for _ in range(LIMIT - 1)}
    assert codes == {304}
    r = fetch(url, If_None_Match=etag)
    assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 3600
    assert f"paling banyak {LIMIT} per jam" in r.text
    assert fetch(links["Pemakaian Ruang Kilisuci"]).status_code == 200  # per link


def test_private_link_of_a_calendar_not_made_yet(views: Views) -> None:
    live = views.live
    assert cli.main(["person", "add", "kepala-dinkes", "Kepala Dinas Kesehatan Kota Kediri",
                     "--dir", str(live.dep.root)]) == 0
    url = links_of(live, "pimpinan-a")["Agenda Kepala Dinas Kesehatan Kota Kediri"]
    assert live.request("admin-a", "PROPFIND", "/orang/kepala-dinkes/",
                        headers={"Depth": "0"}).status_code == 404  # the next sync makes it
    r = fetch(url)
    assert r.status_code == 200 and r.text.startswith("BEGIN:VCALENDAR")
    assert "BEGIN:VEVENT" not in r.text


def test_private_link_never_reaches_the_log(tmp_path: Path) -> None:
    dep = with_options(make_deployment(tmp_path / "kediri"), logging_level="info")
    log = tmp_path / "serve.log"
    port = free_port()
    with log.open("w", encoding="utf-8") as out:  # a file: Radicale's detailed log is long
        proc = subprocess.Popen([*KALENDER, "serve", str(dep.root), "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        live = LiveServer(dep, f"http://127.0.0.1:{port}")
        wait_until_serving(live, proc)
        r = live.request("pic-x", "PUT", "/opd/dinkes/a.ics", data=EVENTS["posyandu"][2],
                         headers={"Content-Type": "text/calendar"})
        assert r.status_code == 201
        wait_for_feed(live.url, "Posyandu Balita Kelurahan Bandar")
        shown = links_of(live, "pic-x")  # the home page shows them
        urls = cli_links(live, "pic-x")
        assert sorted(shown.values()) == sorted(urls)
        own, public = urls[0], urls[1]
        assert fetch(own).status_code == 200  # through the CalDAV application
        codes = [fetch(public).status_code for _ in range(LIMIT + 1)]
        assert codes[-1] == 429  # a failure: it gets a log line
        cli_links(live, "pic-x", "--rotate")
        assert fetch(own).status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = log.read_text("utf-8")
    assert " GET /langganan/***/ - 127.0.0.1 429 " in text, text[-3000:]
    assert " GET /langganan/***/ - 127.0.0.1 404 " in text, text[-3000:]
    assert "GET request for '/opd/dinkes/'" in text  # Radicale's detailed log is on
    for url in urls:
        token = url.rstrip("/").rsplit("/", 1)[1]
        assert token not in text


def wait_until_serving(live: LiveServer, proc: subprocess.Popen[bytes]) -> None:
    """Until ``kalender serve`` answers (it has 30 s)."""
    for _ in range(300):
        try:
            requests.get(live.url + "/publik/agenda/", timeout=5)
            return
        except requests.RequestException:
            assert proc.poll() is None, "kalender serve stopped"
            time.sleep(0.1)
    raise AssertionError("kalender serve did not start")


def test_feed_tokens_at_rest(tmp_path: Path) -> None:
    tokens = FeedTokens(tmp_path / "kalender.db", tmp_path / "langganan.key")
    made = tokens.links("pic-a", ["opd/a", "publik/agenda"])
    assert [k.calendar for k in made] == ["opd/a", "publik/agenda"]
    assert all(len(k.token) == 43 for k in made)
    assert [k.token for k in tokens.links("pic-a", ["opd/a", "publik/agenda"])] == [
        k.token for k in made]  # shown again, unchanged
    assert tokens.find(made[0].token) == ("pic-a", "opd/a")
    assert tokens.find(made[0].token[:-1] + "A") is None
    dump = "\n".join(sqlite3.connect(tmp_path / "kalender.db").iterdump())
    assert not [k for k in made if k.token in dump]  # only hashes and nonces at rest
    assert stat.S_IMODE((tmp_path / "langganan.key").stat().st_mode) == 0o600
    again = FeedTokens(tmp_path / "kalender.db", tmp_path / "langganan.key")
    assert again.find(made[1].token) == ("pic-a", "publik/agenda")  # the key is kept
    other = FeedTokens(tmp_path / "kalender.db", tmp_path / "lain.key")
    assert other.find(made[1].token) is None  # the database alone opens nothing
    narrowed = tokens.links("pic-a", ["publik/agenda"])
    assert tokens.find(made[0].token) is None and narrowed[0].token == made[1].token
    assert tokens.rotate("pic-a") == 1 and tokens.find(made[1].token) is None
    opds = [Opd("a", "A"), Opd("b", "B", archived=True)]
    assert readable(User("p", "pic", ("a", "b")), opds, ["r"], ["w"]) == [
        "opd/a", "publik/agenda", "ruang/r"]
    assert readable(User("l", "pimpinan"), opds, ["r"], ["w"]) == [
        "publik/agenda", "pimpinan/agenda", "orang/w", "ruang/r"]
    assert readable(User("s", "sync"), opds, ["r"], ["w"]) == []


def test_rate_limit_window() -> None:
    now = [1000.0]
    limit = RateLimit(3, 60, clock=lambda: now[0])
    assert [limit.take("t") for _ in range(3)] == [0, 0, 0]
    assert limit.take("t") == 60 and limit.take("u") == 0
    now[0] += 30
    assert limit.take("t") == 30
    now[0] += 30.5
    assert limit.take("t") == 0


def test_cli_feed_refuses_what_has_no_links(tmp_path: Path) -> None:
    dep = make_deployment(tmp_path / "kediri", {"sync-b": ("sync", ())})
    assert cli.main(["user", "feed", "sync-b", "--dir", str(dep.root)]) != 0
    assert cli.main(["user", "feed", "tidak-ada", "--dir", str(dep.root)]) != 0
    assert cli.main(["user", "feed", "sync-b", "--dir", str(dep.root), "--url", "ftp://x"]) != 0
    assert not FeedTokens.of(Deployment(dep.root).root).links("sync-b", [])
