"""Entering activities in the browser over real HTTP (issue 10, item 3).

A real deployment served by waitress (web app in front of the CalDAV
application, as under ``kalender serve``); browsers are ``requests`` sessions
signed in through ``/masuk/`` that read the pages' forms as a browser would
(hidden fields, checked boxes, selected options) and post them back. What
the form wrote is read back through CalDAV (the ``caldav`` client and plain
GET/PROPFIND), and judged by the clash guard against CalDAV writes of
other OPD.
"""

from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlsplit

import caldav
import icalendar
import pytest
import requests

from kalender import audit
from tests.conftest import PASSWORD, LiveServer, event_ics, make_deployment, serve_in_thread

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}
CSRF_RE = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')


@dataclass
class Form:
    """One <form> of a page as a browser would submit it."""

    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    button: str = ""

    def data(self, **changes: str | list[str]) -> dict[str, list[str]]:
        """The submitted fields, some replaced (a list for several values)."""
        result: dict[str, list[str]] = {}
        for name, value in self.fields:
            result.setdefault(name, []).append(value)
        for name, value in changes.items():
            result[name] = value if isinstance(value, list) else [value]
        return result


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []
        self.textarea: str | None = None
        self.text = ""
        self.in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind == "file":
                return  # a browser sends a file only when one is chosen (see submit_files)
            if kind not in ("checkbox", "radio") or "checked" in a:
                self.forms[-1].fields.append((a["name"], a.get("value", "on")))
        elif tag == "select":
            self.select, self.options = a.get("name"), []
        elif tag == "option" and self.select:
            self.options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self.textarea, self.text = a.get("name"), ""
        elif tag == "button":
            self.in_button, self.text = True, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.select and self.options:
            # a browser sends the selected option, else the first one
            chosen = next((v for v, selected in self.options if selected), self.options[0][0])
            self.forms[-1].fields.append((self.select, chosen))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.forms[-1].fields.append((self.textarea, self.text))
            self.textarea = None
        elif tag == "button" and self.in_button:
            self.forms[-1].button, self.in_button = " ".join(self.text.split()), False

    def handle_data(self, data: str) -> None:
        if self.textarea is not None or self.in_button:
            self.text += data


def forms(html: str) -> list[Form]:
    """Every form of a page."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def the_form(html: str, action_prefix: str = "/kegiatan/") -> Form:
    """The activity form of a page (posted to /kegiatan/baru/ or /kegiatan/ubah/...)."""
    return next(f for f in forms(html) if f.method == "post"
                and f.action.startswith(action_prefix) and "judul" in dict(f.fields))


def error_beside(html: str, name: str) -> str:
    """The sentence in <p id="galat-<name>"> (beside its field)."""
    found = re.search(rf'<p class="galat" id="galat-{name}"><span class="sr">Kesalahan: </span>'
                      r"([^<]*)</p>", html)
    assert found is not None, f"no error beside {name}"
    return found.group(1).replace("&#34;", '"')


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own (its venues are booked here), served over HTTP."""
    dep = make_deployment(tmp_path_factory.mktemp("booking") / "kediri")
    yield from serve_in_thread(dep)


_OPEN: list[requests.Session] = []


@pytest.fixture(autouse=True)
def _close_browsers() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def sign_in(site: LiveServer, login: str) -> requests.Session:
    """A browser signed in through the /masuk/ form."""
    browser = requests.Session()
    _OPEN.append(browser)
    browser.headers.update(HTML)
    page = browser.get(site.url + "/masuk/", timeout=30)
    token = CSRF_RE.search(page.text)
    assert token is not None, page.text
    r = browser.post(site.url + "/masuk/", data={"csrf": token.group(1), "login": login,
                                                 "password": PASSWORD},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    return browser


def open_form(site: LiveServer, browser: requests.Session, path: str = "/kegiatan/baru/",
              **query: str | list[str]) -> tuple[requests.Response, Form]:
    r = browser.get(site.url + path, params=query, timeout=30)
    assert r.status_code == 200, r.text
    return r, the_form(r.text)


def submit(site: LiveServer, browser: requests.Session, form: Form,
           **changes: str | list[str]) -> requests.Response:
    """Post ``form`` (as filled on its page) with ``changes``."""
    return browser.post(site.url + form.action, data=form.data(**changes),
                        allow_redirects=False, timeout=30)


def saved_uid(r: requests.Response) -> str:
    """The UID in the 303 to /opd/?tersimpan=<uid>."""
    assert r.status_code == 303, r.text
    location = urlsplit(r.headers["Location"])
    assert location.path == "/opd/"
    (uid,) = parse_qs(location.query)["tersimpan"]
    return uid


def stored(site: LiveServer, login: str, opd: str, uid: str) -> requests.Response:
    """GET of a form-made item through CalDAV (its name is the UID's UUID)."""
    return site.request(login, "GET", f"/opd/{opd}/{uid.split('@')[0]}.ics")


def names_in(site: LiveServer, opd: str) -> set[str]:
    """The item names of an OPD calendar (PROPFIND Depth 1 as an admin)."""
    r = site.request("admin-a", "PROPFIND", f"/opd/{opd}/", headers={"Depth": "1"})
    assert r.status_code == 207
    return {unquote(h).rsplit("/", 1)[1] for h in re.findall(r"<D:href>([^<]+)</D:href>", r.text)
            if h.endswith(".ics")}


def caldav_put(site: LiveServer, login: str, opd: str, text: str) -> requests.Response:
    return site.request(login, "PUT", f"/opd/{opd}/{uuid.uuid4().hex}.ics", data=text.encode(),
                        headers={"Content-Type": "text/calendar; charset=utf-8"})


ACTIVITY = {"judul": "Rapat Koordinasi Stunting", "tanggal": "2031-03-03", "mulai": "09.00",
            "selesai": "11:00", "ruang": "ruang-joyoboyo", "pejabat": ["wali-kota", "sekda"],
            "narasumber": "Dr. Budi (Universitas Airlangga)",
            "deskripsi": "Membahas data triwulan.", "kelas": "publik",
            "kategori": "Kesehatan", "ulang": "tidak", "ulang_sampai": ""}


def test_a_form_entry_is_a_calendar_event(site: LiveServer) -> None:
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser)
    assert "opd" not in dict(form.fields)  # a PIC of one OPD is not asked
    uid = saved_uid(submit(site, browser, form, **ACTIVITY))
    assert uid.endswith("@kalender-opd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with caldav.DAVClient(site.url + "/", username="pic-x", password=PASSWORD) as client:
            found = client.calendar(url=site.url + "/opd/dinkes/").event_by_uid(uid)
            event = icalendar.Calendar.from_ical(found.data).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Rapat Koordinasi Stunting"
    assert str(event["LOCATION"]) == "Ruang Joyoboyo, Balai Kota Kediri"
    assert event["DTSTART"].params["TZID"] == "Asia/Jakarta"
    assert event["DTSTART"].to_ical() == b"20310303T090000"
    assert str(event["DESCRIPTION"]).splitlines()[:2] == [
        "Pejabat: Wali Kota Kediri; Sekretaris Daerah Kota Kediri",
        "Narasumber: Dr. Budi (Universitas Airlangga)"]
    [entry] = [e for e in audit.entries(site.dep.database, opd="dinkes")
               if e.href == f"{uid.split('@')[0]}.ics"]
    assert (entry.actor, entry.action) == ("pic-x", "create")  # the real login
    # the server recognised venue and persons: CalDAV writes of another OPD clash
    venue = caldav_put(site, "pic-y", "dinsos", event_ics(
        uuid.uuid4().hex, "20310303T100000", "20310303T120000", "Sosialisasi", "R. Joyoboyo"))
    assert venue.status_code == 403 and "no-venue-clash" in venue.text
    person = caldav_put(site, "pic-y", "dinsos", event_ics(
        uuid.uuid4().hex, "20310303T100000", "20310303T120000", "Kunjungan", "Pasar Setono Betek",
        "DESCRIPTION:Hadir: Sekda"))
    assert person.status_code == 403 and "no-person-clash" in person.text
    assert "Sekretaris Daerah Kota Kediri sudah dijadwalkan hadir" in person.text


def test_the_form_opens_filled_from_a_free_slot_link(site: LiveServer) -> None:
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser, tanggal="2031-03-04", mulai="13.00", selesai="15.00",
                        ruang="ruang-kilisuci", pejabat=["wali-kota", "asisten-2"])
    fields = form.data()
    assert (fields["tanggal"], fields["mulai"], fields["selesai"], fields["ruang"]) == (
        ["2031-03-04"], ["13:00"], ["15:00"], ["ruang-kilisuci"])
    assert sorted(fields["pejabat"]) == ["asisten-2", "wali-kota"]
    assert fields["judul"] == [""] and fields["kelas"] == ["publik"]


def test_a_clash_keeps_the_input_and_offers_what_is_free(site: LiveServer) -> None:
    assert caldav_put(site, "pic-y", "dinsos", event_ics(
        uuid.uuid4().hex, "20310305T090000", "20310305T110000", "Sosialisasi Bansos",
        "Ruang Kilisuci")).status_code == 201
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser)
    mine = {**ACTIVITY, "tanggal": "2031-03-05", "mulai": "10.00", "selesai": "11.00",
            "ruang": "ruang-kilisuci", "pejabat": [], "judul": "Rapat Gizi <Balita>"}
    r = submit(site, browser, form, **mine)
    assert r.status_code == 403
    assert error_beside(r.text, "ruang") == (
        'Ruang Kilisuci sudah dipakai Dinas Sosial Kota Kediri untuk "Sosialisasi Bansos" pada '
        "Rabu 5 Mar 2031 09.00-11.00 WIB.")
    kept = the_form(r.text).data()
    assert kept["judul"] == ["Rapat Gizi <Balita>"]  # the input stays (and is escaped)
    assert "Rapat Gizi &lt;Balita&gt;" in r.text
    assert (kept["deskripsi"], kept["narasumber"]) == (
        ["Membahas data triwulan."], ["Dr. Budi (Universitas Airlangga)"])
    offers = [f for f in forms(r.text) if f.method == "get" and f.button.startswith("Pakai ")]
    labels = {f.button: f for f in offers}
    assert "Pakai 11.00-12.00 di Ruang Kilisuci" in labels, list(labels)
    assert "Pakai Ruang Joyoboyo" in labels, list(labels)
    times = [labels["Pakai 11.00-12.00 di Ruang Kilisuci"]]
    venues = [labels["Pakai Ruang Joyoboyo"]]
    # one click: the form again, filled with the offer; saving it is accepted
    offered = browser.get(site.url + times[0].action, params=times[0].data(), timeout=30)
    assert offered.status_code == 200
    again = the_form(offered.text)
    assert (again.data()["mulai"], again.data()["selesai"], again.data()["judul"]) == (
        ["11:00"], ["12:00"], ["Rapat Gizi <Balita>"])
    uid = saved_uid(submit(site, browser, again))
    event = icalendar.Calendar.from_ical(stored(site, "pic-x", "dinkes", uid).text)
    assert event.walk("VEVENT")[0]["DTSTART"].to_ical() == b"20310305T110000"
    # the other kind of offer: the same time in a free venue
    offered = browser.get(site.url + venues[0].action, params=venues[0].data(), timeout=30)
    uid = saved_uid(submit(site, browser, the_form(offered.text)))
    event = icalendar.Calendar.from_ical(stored(site, "pic-x", "dinkes", uid).text)
    assert str(event.walk("VEVENT")[0]["LOCATION"]) == "Ruang Joyoboyo, Balai Kota Kediri"
    assert event.walk("VEVENT")[0]["DTSTART"].to_ical() == b"20310305T100000"


def test_a_person_clash_is_shown_beside_the_persons(site: LiveServer) -> None:
    assert caldav_put(site, "pic-y", "dinsos", event_ics(
        uuid.uuid4().hex, "20310306T090000", "20310306T110000", "Rapat Tertutup", "Pendopo",
        "CLASS:PRIVATE\r\nDESCRIPTION:Pimpinan: Wakil Wali Kota")).status_code == 201
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser)
    r = submit(site, browser, form, **{**ACTIVITY, "tanggal": "2031-03-06",
                                       "pejabat": ["wakil-wali-kota"]})
    assert r.status_code == 403
    assert error_beside(r.text, "pejabat") == (
        "Wakil Wali Kota Kediri sudah dijadwalkan hadir di kegiatan tertutup (Dinas Sosial Kota "
        "Kediri) pada Kamis 6 Mar 2031 09.00-11.00 WIB.")
    assert "Rapat Tertutup" not in r.text
    assert 'id="galat-ruang"' not in r.text


def test_the_live_check_answers_json_and_writes_nothing(site: LiveServer) -> None:
    assert caldav_put(site, "pic-y", "dinsos", event_ics(
        uuid.uuid4().hex, "20310307T090000", "20310307T110000", "Apel", "GNI")).status_code == 201
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser)
    before = names_in(site, "dinkes")
    values = {**ACTIVITY, "tanggal": "2031-03-07", "ruang": "gni", "pejabat": []}
    r = browser.post(site.url + "/kegiatan/periksa/", data=form.data(**values), timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Cache-Control"] == "private, no-store"
    answer = r.json()
    assert answer["ok"] is False
    assert answer["errors"]["ruang"].startswith("Gedung Nasional Indonesia sudah dipakai")
    assert answer["clashes"][0]["kind"] == "venue" and answer["clashes"][0]["resource"] == "gni"
    assert answer["suggestions"] and all(set(s["fields"]) >= {"ruang"} or "mulai" in s["fields"]
                                         for s in answer["suggestions"])
    first = answer["suggestions"][0]["fields"]
    moved = browser.post(site.url + "/kegiatan/periksa/", data=form.data(**{**values, **first}),
                         timeout=30).json()
    assert moved == {"ok": True, "errors": {}, "message": "", "clashes": [], "suggestions": []}
    incomplete = browser.post(site.url + "/kegiatan/periksa/",
                              data=form.data(**{**values, "selesai": "08.00"}), timeout=30).json()
    assert incomplete["ok"] is False and incomplete["errors"] == {
        "selesai": "Jam selesai harus setelah jam mulai (09.00)."}
    assert names_in(site, "dinkes") == before
    no_token = browser.post(site.url + "/kegiatan/periksa/", data=values, timeout=30)
    assert no_token.status_code == 403


def test_bad_data_is_said_on_the_form_and_nothing_is_written(site: LiveServer) -> None:
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser)
    before = names_in(site, "dinkes")
    r = submit(site, browser, form, **{**ACTIVITY, "tanggal": "2031-02-30", "ruang": "daring",
                                       "tautan": "javascript:alert(1)"})
    assert r.status_code == 400
    assert error_beside(r.text, "tanggal").startswith('Tanggal "2031-02-30" bukan tanggal')
    assert error_beside(r.text, "tautan").startswith("Tautan harus alamat web lengkap")
    assert the_form(r.text).data()["tautan"] == ["javascript:alert(1)"]
    assert names_in(site, "dinkes") == before


def test_a_post_without_the_csrf_token_is_refused(site: LiveServer) -> None:
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser)
    before = names_in(site, "dinkes")
    data = form.data(**{**ACTIVITY, "tanggal": "2031-03-10"})
    del data["csrf"]
    assert browser.post(site.url + "/kegiatan/baru/", data=data, allow_redirects=False,
                        timeout=30).status_code == 403
    data["csrf"] = ["x" * 43]
    assert browser.post(site.url + "/kegiatan/baru/", data=data, allow_redirects=False,
                        timeout=30).status_code == 403
    assert names_in(site, "dinkes") == before


def test_a_pic_cannot_write_another_opd_by_editing_the_form(site: LiveServer) -> None:
    before = names_in(site, "dinsos")
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser)
    r = submit(site, browser, form, **{**ACTIVITY, "opd": "dinsos", "tanggal": "2031-03-11"})
    assert r.status_code == 403
    assert error_beside(r.text, "opd") == ("Akun Anda tidak berhak mengisi kalender OPD ini; "
                                           "pilih OPD Anda sendiri.")
    # a PIC of two OPD chooses between them, and only them
    two = sign_in(site, "pic-xz")
    _, form = open_form(site, two)
    assert form.data()["opd"] == ["dinkes"]
    r = submit(site, two, form, **{**ACTIVITY, "opd": "dinsos", "tanggal": "2031-03-11"})
    assert r.status_code == 403
    uid = saved_uid(submit(site, two, form, **{**ACTIVITY, "opd": "diskominfo",
                                               "tanggal": "2031-03-11"}))
    assert stored(site, "pic-xz", "diskominfo", uid).status_code == 200
    assert names_in(site, "dinsos") == before
    # nor change or delete another OPD's activity
    name = f"{uuid.uuid4().hex}.ics"
    assert site.request("pic-y", "PUT", f"/opd/dinsos/{name}", data=event_ics(
        name[:-4], "20310311T130000", "20310311T140000", "Rapat Dinsos").encode(),
        headers={"Content-Type": "text/calendar"}).status_code == 201
    assert browser.get(site.url + f"/kegiatan/ubah/dinsos/{name}", timeout=30).status_code == 403
    r = browser.post(site.url + f"/kegiatan/hapus/dinsos/{name}",
                     data={"csrf": sign_in_token(site, browser), "yakin": "ya"},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 403
    assert site.request("pic-y", "GET", f"/opd/dinsos/{name}").status_code == 200


def sign_in_token(site: LiveServer, browser: requests.Session) -> str:
    """The csrf field of this browser's session."""
    return open_form(site, browser)[1].data()["csrf"][0]


APP_EVENT = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Apple Inc.//iOS 17.0//EN\r
BEGIN:VEVENT\r
UID:{uid}\r
DTSTAMP:20310101T000000Z\r
DTSTART;TZID=Asia/Jakarta:20310312T090000\r
DTEND;TZID=Asia/Jakarta:20310312T100000\r
SUMMARY:Rapat Evaluasi\r
LOCATION:Ruang Command Center\r
DESCRIPTION:Hadir: Asisten III\r
X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\r
BEGIN:VALARM\r
ACTION:DISPLAY\r
DESCRIPTION:Pengingat\r
TRIGGER:-PT15M\r
UID:alarm-1\r
END:VALARM\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_an_edit_keeps_the_alarm_an_app_set(site: LiveServer) -> None:
    uid = uuid.uuid4().hex
    name = f"{uid}.ics"
    assert site.request("pic-x", "PUT", f"/opd/dinkes/{name}",
                        data=APP_EVENT.format(uid=uid).encode(),
                        headers={"Content-Type": "text/calendar"}).status_code == 201
    browser = sign_in(site, "pic-x")
    page, form = open_form(site, browser, f"/kegiatan/ubah/dinkes/{name}")
    fields = form.data()
    assert (fields["judul"], fields["ruang"], fields["pejabat"], fields["mulai"]) == (
        ["Rapat Evaluasi"], ["ruang-command-center"], ["asisten-3"], ["09:00"])
    assert 'action="/kegiatan/hapus/dinkes/' in page.text  # the delete form is on the page
    saved = submit(site, browser, form, judul="Rapat Evaluasi Triwulan", mulai="10.00",
                   selesai="11.30")
    assert saved_uid(saved) == uid
    event = icalendar.Calendar.from_ical(site.request("pic-x", "GET",
                                                      f"/opd/dinkes/{name}").text)
    (vevent,) = event.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Rapat Evaluasi Triwulan"
    assert vevent["DTSTART"].to_ical() == b"20310312T100000"
    assert vevent["DTEND"].to_ical() == b"20310312T113000"
    (alarm,) = vevent.walk("VALARM")
    assert str(alarm["TRIGGER"].to_ical(), "ascii") == "-PT15M"
    assert str(vevent["X-APPLE-TRAVEL-ADVISORY-BEHAVIOR"]) == "AUTOMATIC"
    assert str(vevent["DESCRIPTION"]) == "Hadir: Asisten III"  # persons untouched: kept as typed
    assert int(vevent["SEQUENCE"]) == 1
    # an app changes it meanwhile: the form's version is stale, nothing is overwritten
    stale = the_form(browser.get(site.url + f"/kegiatan/ubah/dinkes/{name}", timeout=30).text)
    current = site.request("pic-x", "GET", f"/opd/dinkes/{name}")
    assert site.request("pic-x", "PUT", f"/opd/dinkes/{name}",
                        data=current.text.replace("Triwulan", "Bulanan").encode(),
                        headers={"Content-Type": "text/calendar"}).status_code in (201, 204)
    r = submit(site, browser, stale, judul="Judul Lama")
    assert r.status_code == 412
    assert "Kegiatan ini baru saja diubah di tempat lain; muat ulang halaman" in r.text
    assert "Rapat Evaluasi Bulanan" in site.request("pic-x", "GET", f"/opd/dinkes/{name}").text


def test_delete_asks_first(site: LiveServer) -> None:
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser)
    uid = saved_uid(submit(site, browser, form, **{**ACTIVITY, "tanggal": "2031-03-13",
                                                   "ruang": "taman-brantas", "pejabat": []}))
    name = f"{uid.split('@')[0]}.ics"
    page, _ = open_form(site, browser, f"/kegiatan/ubah/dinkes/{name}")
    delete = next(f for f in forms(page.text) if f.action.startswith("/kegiatan/hapus/"))
    asked = browser.post(site.url + delete.action, data=delete.data(), allow_redirects=False,
                         timeout=30)
    assert asked.status_code == 200 and "Ya, hapus kegiatan" in asked.text
    assert stored(site, "pic-x", "dinkes", uid).status_code == 200
    confirm = next(f for f in forms(asked.text) if f.action.startswith("/kegiatan/hapus/"))
    done = browser.post(site.url + confirm.action, data=confirm.data(), allow_redirects=False,
                        timeout=30)
    assert done.status_code == 303 and done.headers["Location"].startswith("/opd/?dihapus=")
    assert stored(site, "pic-x", "dinkes", uid).status_code == 404
    assert [e.action for e in audit.entries(site.dep.database, opd="dinkes")
            if e.href == name] == ["create", "delete"]


def test_who_may_enter_activities(site: LiveServer) -> None:
    anonymous = requests.get(site.url + "/kegiatan/baru/", headers=HTML, allow_redirects=False,
                             timeout=30)
    assert anonymous.status_code == 303
    assert anonymous.headers["Location"].startswith("/masuk/?lanjut=")
    leader = sign_in(site, "pimpinan-a")
    assert leader.get(site.url + "/kegiatan/baru/", timeout=30).status_code == 403
    admin = sign_in(site, "admin-a")
    _, form = open_form(site, admin)
    assert form.data()["opd"] == [""]  # an admin chooses any OPD
    uid = saved_uid(submit(site, admin, form, **{**ACTIVITY, "opd": "dinsos",
                                                 "tanggal": "2031-03-14"}))
    assert stored(site, "pic-y", "dinsos", uid).status_code == 200


# -- issue 11: status, stand-ins, protocol details and the invitation PDF -------------
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\r\n\x00\xff\n%%EOF\n"
PEMDA = {"status": "tentatif", "diwakili_wali-kota": "wakil-wali-kota",
         "pakaian": "PDH Khaki", "nomor_surat": "005/123/419.42/2031",
         "perihal": "Undangan Rakor Stunting", "narahubung": "Budi 081234567890",
         "sambutan": "ya", "undangan_publik": "ya"}


def submit_files(site: LiveServer, browser: requests.Session, form: Form,
                 files: dict[str, tuple[str, bytes, str]],
                 **changes: str | list[str]) -> requests.Response:
    """Post ``form`` as multipart/form-data (what its enctype says) with ``files``."""
    return browser.post(site.url + form.action, data=form.data(**changes), files=files,
                        allow_redirects=False, timeout=60)


def _caldav_event(site: LiveServer, login: str, opd: str, uid: str) -> icalendar.Event:
    """The VEVENT as a real CalDAV client (the ``caldav`` library) reads it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with caldav.DAVClient(site.url + "/", username=login, password=PASSWORD) as client:
            found = client.calendar(url=site.url + f"/opd/{opd}/").event_by_uid(uid)
            return icalendar.Calendar.from_ical(found.data).walk("VEVENT")[0]


def test_protocol_fields_status_and_invitation_survive_a_round_trip(site: LiveServer) -> None:
    browser = sign_in(site, "pic-x")
    page, form = open_form(site, browser)
    assert 'enctype="multipart/form-data"' in page.text
    assert form.data()["status"] == ["definitif"] and form.data()["diwakili_wali-kota"] == [""]
    r = submit_files(site, browser, form,
                     {"undangan": ("Undangan Rakor.pdf", PDF, "application/pdf")},
                     **{**ACTIVITY, "tanggal": "2031-04-01", **PEMDA})
    uid = saved_uid(r)
    event = _caldav_event(site, "pic-x", "dinkes", uid)
    assert str(event["STATUS"]) == "TENTATIVE"
    assert str(event["DESCRIPTION"]).split("\n")[:8] == [
        "Pejabat: Wali Kota Kediri; Sekretaris Daerah Kota Kediri",
        "Wali Kota Kediri diwakili oleh Wakil Wali Kota Kediri",
        "Narasumber: Dr. Budi (Universitas Airlangga)",
        "Pakaian: PDH Khaki", "Nomor surat: 005/123/419.42/2031",
        "Perihal: Undangan Rakor Stunting", "Narahubung: Budi 081234567890", "Sambutan: Ya"]
    attach = event["ATTACH"]
    assert {k: str(v) for k, v in attach.params.items()} == {
        "ENCODING": "BASE64", "FMTTYPE": "application/pdf", "VALUE": "BINARY",
        "X-FILENAME": "Undangan Rakor.pdf", "X-KALENDER-PUBLIK": "TRUE"}
    assert icalendar.vBinary.from_ical(attach.to_ical().decode()) == PDF
    # the edit form shows what was stored
    name = f"{uid.split('@')[0]}.ics"
    page, form = open_form(site, browser, f"/kegiatan/ubah/dinkes/{name}")
    fields = form.data()
    for key, value in PEMDA.items():
        assert fields[key] == [value], key
    assert fields["deskripsi"] == ["Membahas data triwulan."]
    assert "Lampiran tersimpan: <strong>Undangan Rakor.pdf</strong>" in page.text
    # an edit without a file keeps it; "hapus lampiran" removes it
    uid_again = saved_uid(submit_files(site, browser, form, {}, judul="Rakor Stunting"))
    assert uid_again == uid
    event = _caldav_event(site, "pic-x", "dinkes", uid)
    assert str(event["SUMMARY"]) == "Rakor Stunting" and "ATTACH" in event
    assert str(event["STATUS"]) == "TENTATIVE"
    _, form = open_form(site, browser, f"/kegiatan/ubah/dinkes/{name}")
    saved_uid(submit(site, browser, form, hapus_lampiran="ya", status="batal"))
    event = _caldav_event(site, "pic-x", "dinkes", uid)
    assert "ATTACH" not in event and str(event["STATUS"]) == "CANCELLED"


def test_a_stand_in_chosen_in_the_form_moves_the_person_check(site: LiveServer) -> None:
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser)
    uid = saved_uid(submit(site, browser, form, **{
        **ACTIVITY, "tanggal": "2031-04-02", "pejabat": ["wali-kota"],
        "diwakili_wali-kota": "lain", "diwakili_lain_wali-kota": "Kabag Umum (Sdr. Budi)"}))
    event = _caldav_event(site, "pic-x", "dinkes", uid)
    assert "Wali Kota Kediri diwakili oleh Kabag Umum (Sdr. Budi)" in str(
        event["DESCRIPTION"]).split("\n")
    # the Wali Kota is free for that time: another OPD may book her
    assert caldav_put(site, "pic-y", "dinsos", event_ics(
        uuid.uuid4().hex, "20310402T100000", "20310402T110000", "Kunjungan", "Pasar Setono Betek",
        "DESCRIPTION:Hadir: Wali Kota")).status_code == 201
    # a registered stand-in is busy
    _, form = open_form(site, browser)
    saved_uid(submit(site, browser, form, **{
        **ACTIVITY, "tanggal": "2031-04-03", "ruang": "ruang-kilisuci", "pejabat": ["sekda"],
        "diwakili_sekda": "asisten-1"}))
    refused = caldav_put(site, "pic-y", "dinsos", event_ics(
        uuid.uuid4().hex, "20310403T100000", "20310403T110000", "Kunjungan", "Pasar Setono Betek",
        "DESCRIPTION:Hadir: Asisten I"))
    assert refused.status_code == 403 and "no-person-clash" in refused.text


def test_an_app_event_with_protocol_lines_fills_the_form(site: LiveServer) -> None:
    uid = uuid.uuid4().hex
    text = APP_EVENT.format(uid=uid).replace(
        "DESCRIPTION:Hadir: Asisten III\r\n",
        "DESCRIPTION:Hadir: Asisten III\\nPakaian: PDH\\nCP: Sari 0812\\nSambutan: Tidak\\n"
        "Catatan lain\r\nSTATUS:TENTATIVE\r\n").replace("20310312", "20310404")
    assert site.request("pic-x", "PUT", f"/opd/dinkes/{uid}.ics", data=text.encode(),
                        headers={"Content-Type": "text/calendar"}).status_code == 201
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser, f"/kegiatan/ubah/dinkes/{uid}.ics")
    fields = form.data()
    assert (fields["pakaian"], fields["narahubung"], fields["sambutan"], fields["status"],
            fields["deskripsi"]) == (["PDH"], ["Sari 0812"], ["tidak"], ["tentatif"],
                                     ["Catatan lain"])


def test_a_bad_upload_is_refused_and_nothing_is_written(site: LiveServer) -> None:
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser)
    before = names_in(site, "dinkes")
    mine = {**ACTIVITY, "tanggal": "2031-04-05"}
    r = submit_files(site, browser, form,
                     {"undangan": ("surat.pdf", b"PK\x03\x04 bukan pdf", "application/pdf")},
                     **mine)
    assert r.status_code == 400
    assert error_beside(r.text, "undangan").startswith("Berkas undangan harus berupa PDF")
    assert 'aria-describedby="galat-undangan undangan-bantuan"' in r.text
    assert the_form(r.text).data()["judul"] == [ACTIVITY["judul"]]  # the input stays
    for size in (2 * 1024 * 1024 + 1, 3 * 1024 * 1024):  # just over, and far over the limit
        big = PDF + b"0" * (size - len(PDF))
        r = submit_files(site, browser, form, {"undangan": ("besar.pdf", big,
                                                            "application/pdf")}, **mine)
        assert r.status_code == 413
        assert "Berkas undangan terlalu besar: paling besar 2 MB" in r.text
    assert names_in(site, "dinkes") == before


def test_a_multipart_post_is_checked_like_any_form(site: LiveServer) -> None:
    browser = sign_in(site, "pic-x")
    _, form = open_form(site, browser)
    before = names_in(site, "dinkes")
    data = form.data(**{**ACTIVITY, "tanggal": "2031-04-06"})
    del data["csrf"]
    r = browser.post(site.url + "/kegiatan/baru/", data=data,
                     files={"undangan": ("u.pdf", PDF, "application/pdf")},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 403  # the csrf field of a multipart body is checked too
    r = browser.post(site.url + "/kegiatan/baru/", data=b"--x\r\n",
                     headers={"Content-Type": "multipart/form-data"}, timeout=30)
    assert r.status_code == 400 and "boundary" in r.text
    assert names_in(site, "dinkes") == before
