"""``/ketersediaan/`` over real HTTP: the occupancy grid, the one visibility rule, free slots.

PICs write by CalDAV; browsers signed in through the real ``/masuk/`` form
(``requests.Session``) open the page. The grid reads the clash index, so no
sync pass is needed. Every free slot it offers is then PUT by CalDAV and
accepted; a time next to it that it did not offer is refused.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import PASSWORD, LiveServer, event_ics, make_deployment, serve_in_thread

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
WIB = dt.timezone(dt.timedelta(hours=7))
TODAY = dt.datetime.now(WIB).date()
#: A Wednesday about seven weeks ahead (computed, never hard-coded).
DAY = TODAY + dt.timedelta(days=(2 - TODAY.weekday()) % 7 + 49)
DINKES = "Dinas Kesehatan Kota Kediri"


def stamp(day: dt.date, hhmm: str) -> str:
    """20301203T090000."""
    return f"{day:%Y%m%d}T{hhmm.replace('.', '')}00"


def put(live: LiveServer, login: str, opd: str, start: str, end: str, day: dt.date = DAY,
        **kw: str) -> int:
    """PUT one new event by CalDAV; its status."""
    uid = uuid.uuid4().hex
    body = event_ics(uid, stamp(day, start), stamp(day, end), **kw)
    return live.request(login, "PUT", f"/opd/{opd}/{uid}.ics", data=body.encode(),
                        headers={"Content-Type": "text/calendar"}).status_code


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own with a day of bookings of two OPD."""
    dep = make_deployment(tmp_path_factory.mktemp("sedia") / "kediri")
    for server in serve_in_thread(dep):
        for login, opd, start, end, kw in [
            ("pic-x", "dinkes", "0900", "1100", {
                "summary": "Rapat Stunting", "location": "Ruang Joyoboyo",
                "extra": "DESCRIPTION:Pejabat: Wali Kota Kediri"}),
            ("pic-x", "dinkes", "1300", "1400", {
                "summary": "Evaluasi Rahasia Zebra", "location": "Ruang Kilisuci",
                "extra": "CLASS:PRIVATE"}),
            ("pic-x", "dinkes", "1000", "1100", {
                "summary": "Kajian Internal Yuyu", "location": "Ruang Command Center",
                "extra": "CLASS:CONFIDENTIAL"}),
            ("pic-y", "dinsos", "0800", "1000", {
                "summary": "Sosialisasi Bansos", "location": "Gedung Nasional Indonesia"}),
        ]:
            assert put(server, login, opd, start, end, **kw) == 201
        yield server


_OPEN: list[requests.Session] = []


@pytest.fixture(autouse=True)
def _close_browsers() -> Iterator[None]:
    """Close the test's browsers (their pooled sockets)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def browser(live: LiveServer, login: str) -> requests.Session:
    """A browser signed in through the /masuk/ form."""
    s = requests.Session()
    _OPEN.append(s)
    s.headers.update(HTML)
    form = s.get(live.url + "/masuk/", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text
    r = s.post(live.url + "/masuk/", data={"login": login, "password": PASSWORD,
                                            "csrf": token.group(1)},
               allow_redirects=False, timeout=30)
    assert r.status_code == 303, (r.status_code, r.text)
    return s


def grid(live: LiveServer, login: str, **query: str) -> str:
    """The page's HTML for ``login``."""
    r = browser(live, login).get(live.url + "/ketersediaan/",
                                 params={"tanggal": DAY.isoformat(), **query}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "private, no-store"
    return r.text


def block(text: str, anchor: str) -> str:
    """The phone list block of one venue or person (from its heading to the next)."""
    start = text.index(f'id="sedia-{anchor}"')
    return text[start:text.index("</div>", start)]


def test_needs_a_session(live: LiveServer) -> None:
    """Without signing in: to the form, back here afterwards."""
    r = requests.get(live.url + "/ketersediaan/?tanggal=2030-01-02", headers=HTML,
                     allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"].startswith("/masuk/?lanjut=")


def test_another_opd_sees_public_titles_and_terpakai(live: LiveServer) -> None:
    """Dinsos: Rapat Stunting by name; Dinkes' private and confidential ones as Terpakai."""
    text = grid(live, "pic-y")
    assert "Zebra" not in text and "Yuyu" not in text
    assert "Rapat Stunting" in block(text, "tempat-ruang-joyoboyo")
    assert "09.00-11.00" in block(text, "tempat-ruang-joyoboyo")
    assert f"Terpakai - {DINKES}" in block(text, "tempat-ruang-kilisuci")
    assert f"Terpakai - {DINKES}" in block(text, "tempat-ruang-command-center")
    assert "Rapat Stunting" in block(text, "pejabat-wali-kota")  # the key person's agenda
    assert "Sosialisasi Bansos" in block(text, "tempat-gni")
    assert "Kosong sepanjang hari" in block(text, "tempat-alun-alun")
    for name in ("Ruang Sidang DPRD Kota Kediri", "Stadion Brawijaya", "Sekretaris Daerah"):
        assert name in text  # every registered venue and key person has its row
    assert '<table>' in text and "<caption" in text and 'colspan="2"' in text


def test_owner_and_leaders_see_every_title(live: LiveServer) -> None:
    """Dinkes sees its own private titles; pimpinan and admin see all of them."""
    for login in ("pic-x", "pimpinan-a", "admin-a"):
        text = grid(live, login)
        assert "Evaluasi Rahasia Zebra" in block(text, "tempat-ruang-kilisuci"), login
        assert "Kajian Internal Yuyu" in text and f"Terpakai - {DINKES}" not in text, login


def test_week_view(live: LiveServer) -> None:
    """?minggu=1: Monday to Sunday, the day named before each booking."""
    text = grid(live, "pic-y", minggu="1")
    monday = DAY - dt.timedelta(days=DAY.weekday())
    assert f'datetime="{monday.isoformat()}"' in text
    assert "Rabu" in block(text, "tempat-ruang-joyoboyo") and "Zebra" not in text


def offered(text: str) -> list[dict[str, list[str]]]:
    """The query of every "Pesan waktu ini" link."""
    links = re.findall(r'href="(/kegiatan/baru/\?[^"]+)"', text)
    return [parse_qs(urlsplit(html.unescape(link)).query) for link in links]


def test_free_slots_are_accepted_by_put(live: LiveServer) -> None:
    """Joyoboyo 2 h: 07-09 then from 11.00; the first two offers are PUT and accepted."""
    s = browser(live, "pic-y")
    r = s.get(live.url + "/ketersediaan/", params={
        "tanggal": DAY.isoformat(), "cari": "1", "durasi": "120", "ruang": "ruang-joyoboyo",
        "dari": DAY.isoformat(), "sampai": DAY.isoformat()}, timeout=30)
    assert r.status_code == 200, r.text
    found = offered(r.text)
    assert len(found) == 10
    times = [(q["mulai"][0], q["selesai"][0]) for q in found]
    assert times[:3] == [("07.00", "09.00"), ("11.00", "13.00"), ("11.30", "13.30")]
    assert found[0]["tanggal"] == [DAY.isoformat()] and found[0]["ruang"] == ["ruang-joyoboyo"]
    assert put(live, "pic-y", "dinsos", "08.00", "10.00", location="Ruang Joyoboyo") == 403
    assert put(live, "pic-y", "dinsos", *times[0], location="Ruang Joyoboyo") == 201
    assert put(live, "pic-y", "dinsos", *times[1], location="Ruang Joyoboyo") == 201


def test_free_slots_count_buffers_and_persons(live: LiveServer) -> None:
    """GNI (60 min setup, 30 teardown) used 08-10: 1 h from 11.30; with the Wali Kota too."""
    s = browser(live, "pic-y")
    r = s.get(live.url + "/ketersediaan/", params=[
        ("tanggal", DAY.isoformat()), ("cari", "1"), ("durasi", "1 jam"), ("ruang", "gni"),
        ("pejabat", "wali-kota"), ("dari", DAY.isoformat()), ("sampai", DAY.isoformat())],
        timeout=30)
    found = offered(r.text)
    assert (found[0]["mulai"], found[0]["selesai"]) == (["11.30"], ["12.30"])
    assert found[0]["pejabat"] == ["wali-kota"]
    assert put(live, "pic-y", "dinsos", "11.00", "12.00",
               location="Gedung Nasional Indonesia") == 403  # the buffer
    assert put(live, "pic-y", "dinsos", "11.30", "12.30", location="Gedung Nasional Indonesia",
               extra="DESCRIPTION:Pejabat: Wali Kota Kediri") == 201
    # the Wali Kota alone: 07-09 (Rapat Stunting at 09-11), then after 11.30-12.30 just booked
    r = s.get(live.url + "/ketersediaan/", params={
        "tanggal": DAY.isoformat(), "cari": "1", "durasi": "60", "pejabat": "wali-kota",
        "dari": DAY.isoformat(), "sampai": DAY.isoformat()}, timeout=30)
    starts = [q["mulai"][0] for q in offered(r.text)]
    assert starts[:4] == ["07.00", "07.30", "08.00", "12.30"]
    assert all("ruang" not in q for q in offered(r.text))


def test_search_errors_and_leaders(live: LiveServer) -> None:
    """Unreadable duration, no venue nor person, 15 days: 400 with the sentence by the form."""
    s = browser(live, "pic-y")
    base = {"tanggal": DAY.isoformat(), "cari": "1"}
    for query, sentence in [
        ({"durasi": "lama", "ruang": "gni"}, "Lama kegiatan tidak dapat dibaca"),
        ({"durasi": "60"}, "Pilih tempat, pejabat, atau keduanya."),
        ({"durasi": "60", "ruang": "gni", "dari": DAY.isoformat(),
          "sampai": (DAY + dt.timedelta(days=14)).isoformat()}, "paling lama 14 hari"),
        ({"durasi": "60", "ruang": "bukan-ruang"}, "tidak terdaftar"),
    ]:
        r = s.get(live.url + "/ketersediaan/", params={**base, **query}, timeout=30)
        assert r.status_code == 400 and sentence in r.text, (query, r.status_code)
        assert 'id="galat-cari"' in r.text and 'aria-invalid="true"' in r.text
    # pimpinan see the free times, without booking links (they do not enter activities)
    r = browser(live, "pimpinan-a").get(live.url + "/ketersediaan/", params={
        **base, "durasi": "90", "ruang": "ruang-kilisuci", "dari": DAY.isoformat()}, timeout=30)
    assert r.status_code == 200 and "07.00-08.30 WIB" in r.text and offered(r.text) == []
