"""Signing in to the web workspace over real HTTP (issue 10, item 1).

A real deployment served by waitress (the web app in front of the CalDAV
application, as under ``kalender serve``), with a session clock the tests move
(no sleeping) and waitress trusting X-Forwarded-Proto from 127.0.0.1 (a TLS
proxy in front). Checks the sign-in form, the session cookie and its flags,
idle and absolute expiry, sign-out, CSRF on every POST, no open redirect,
browsers sent to the form instead of a Basic-auth prompt while CalDAV clients
keep their 401/207, the login throttle, sessions ending with the account or
its password, and a page writing an event through the CalDAV application as
the signed-in PIC (audit trail, refusal record, Bentrok channel).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from waitress import wasyncore

from kalender import audit
from kalender.admin import cli
from kalender.admin.provision import load_configuration
from kalender.admin.serve import make_app, start_notifier
from kalender.dav import gate, refused, tickets
from kalender.deployment import Deployment
from kalender.notify.channel import POSTED
from kalender.web import app as webapp
from kalender.web import respond
from kalender.web.app import Request, Route, WebApp
from kalender.web.workspace import internal, session
from tests.conftest import ACCOUNTS, PASSWORD, event_ics, make_deployment, serve_in_thread

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
EXTRA = {"pic-hapus": ("pic", ("dinkes",)), "pic-ganti": ("pic", ("dinsos",))}
CSRF_RE = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')


class Clock:
    """The session store's clock: real time plus an offset the tests move."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Site:
    """The served deployment, its web app and the session clock."""

    dep: Deployment
    url: str
    web: WebApp
    clock: Clock


# -- pages only these tests have (inserted into the routing table) ---------------
def write_page(request: Request, opd: str, name: str) -> respond.Response:
    """POST /uji/tulis/<opd>/<name>: the form field ``ics`` PUT through CalDAV as the user."""
    session.require(request, "pic", "admin")
    answer = internal.call(request, "PUT", f"/opd/{opd}/{name}", request.form["ics"][0].encode(),
                           {"Content-Type": "text/calendar; charset=utf-8"})
    return respond.page(json.dumps({"status": answer.status, "body": answer.text,
                                    "etag": answer.headers.get("ETag")}),
                        "application/json", private=True)


def leaders_page(request: Request) -> respond.Response:
    """GET /uji/pimpinan/: only for pimpinan and admins."""
    user = session.require(request, "pimpinan", "admin")
    return respond.page(f"halo {user.login}", "text/plain; charset=utf-8", private=True)


TEST_ROUTES = [
    Route(re.compile(r"^/uji/tulis/([a-z0-9-]+)/([^/]+)$"), "tests.test_web_login:write_page",
          webapp.POST),
    Route(re.compile(r"^/uji/pimpinan/$"), "tests.test_web_login:leaders_page"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A deployment served with a movable session clock, behind a trusted TLS proxy."""
    dep = make_deployment(tmp_path_factory.mktemp("login") / "kediri", {**ACCOUNTS, **EXTRA})
    app = make_app(dep)
    clock = Clock()
    web = WebApp(app, sessions=session.Store(dep.database, dep.htpasswd, clock=clock))
    server = gate.create_server(web, host="127.0.0.1", port=0, threads=4,
                                trusted_proxy="127.0.0.1",
                                trusted_proxy_headers={"x-forwarded-proto"},
                                clear_untrusted_proxy_headers=True)
    stop = threading.Event()
    notifier = start_notifier(app, stop)
    def run() -> None:
        with contextlib.suppress(OSError, ValueError):  # closed at teardown
            server.run()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    webapp.ROUTES[:0] = TEST_ROUTES
    try:
        yield Site(dep, f"http://127.0.0.1:{server.effective_port}", web, clock)
    finally:
        del webapp.ROUTES[:len(TEST_ROUTES)]
        stop.set()
        POSTED.set()
        with contextlib.suppress(OSError, ValueError):
            server.close()
        thread.join(timeout=5)
        server.task_dispatcher.shutdown(timeout=5)  # see conftest.serve_in_thread
        wasyncore.close_all(server._map)
        if notifier is not None:
            notifier.join(timeout=10)


_OPEN: list[requests.Session] = []


@pytest.fixture(autouse=True)
def _close_browsers() -> Iterator[None]:
    """Every cookie jar a test opened is closed after it (no unclosed sockets)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


def form_token(html: str) -> str:
    """The hidden ``csrf`` field of a page's form."""
    found = CSRF_RE.search(html)
    assert found is not None, html
    return found.group(1)


def sign_in(url: str, login: str, password: str = PASSWORD, lanjut: str | None = None,
            headers: dict[str, str] | None = None
            ) -> tuple[requests.Session, requests.Response]:
    """A browser (a cookie jar) that opened /masuk/ and posted the form."""
    browser = requests.Session()
    _OPEN.append(browser)
    browser.headers.update({**HTML, **(headers or {})})
    query = {"lanjut": lanjut} if lanjut is not None else None
    form = browser.get(url + "/masuk/", params=query, timeout=30)
    assert form.status_code == 200, form.text
    data = {"csrf": form_token(form.text), "login": login, "password": password}
    if lanjut is not None:
        data["lanjut"] = lanjut
    answer = browser.post(url + "/masuk/", data=data, allow_redirects=False, timeout=30)
    return browser, answer


def signed_in_as(site: Site, browser: requests.Session) -> str | None:
    """Where /masuk/ sends the browser: its home when signed in, None when it shows the form."""
    r = browser.get(site.url + "/masuk/", allow_redirects=False, timeout=30)
    if r.status_code == 303:
        return r.headers["Location"]
    assert r.status_code == 200 and 'name="password"' in r.text, r.status_code
    return None


def set_cookies(r: requests.Response) -> dict[str, str]:
    """The response's Set-Cookie values by cookie name (one header each)."""
    values = r.raw.headers.getlist("Set-Cookie")
    return {v.split("=", 1)[0]: v for v in values}


def attributes(value: str) -> set[str]:
    """A Set-Cookie value's attributes, lowercase (``httponly``, ``samesite=lax``...)."""
    return {part.strip().lower() for part in value.split(";")[1:]}


# -- the form ------------------------------------------------------------------
def test_the_form_has_labelled_fields_and_a_double_submit_token(site: Site) -> None:
    r = requests.get(site.url + "/masuk/", headers=HTML, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Cache-Control"] == "private, no-store"
    html = r.text
    assert '<label for="login">Login</label>' in html
    assert '<label for="password">Kata sandi</label>' in html
    assert re.search(r'<input id="login" name="login" type="text"[^>]*autocomplete="username"',
                     html)
    assert re.search(r'<input id="password" name="password" type="password"[^>]*'
                     r'autocomplete="current-password"', html)
    cookie = set_cookies(r)[session.CSRF_COOKIE]
    assert cookie.split(";")[0] == f"{session.CSRF_COOKIE}={form_token(html)}"
    assert {"httponly", "samesite=lax", "path=/"} <= attributes(cookie)
    assert "WWW-Authenticate" not in r.headers


def test_public_pages_set_no_cookie(site: Site) -> None:
    browser, _ = sign_in(site.url, "pic-x")  # a signed-in browser reading the public agenda
    for client in (requests, browser):
        for path in ("/", "/layar/", "/kegiatan/tidak-ada"):
            r = client.get(site.url + path, headers=HTML, timeout=30)  # type: ignore[attr-defined]
            assert "Set-Cookie" not in r.headers, path


@pytest.mark.parametrize(("login", "home"), [("pic-x", "/opd/"), ("pimpinan-a", "/pimpinan/"),
                                             ("admin-a", "/admin/")])
def test_sign_in_sends_each_role_home_with_a_session_cookie(site: Site, login: str,
                                                           home: str) -> None:
    browser, r = sign_in(site.url, login)
    assert r.status_code == 303 and r.headers["Location"] == home
    cookie = set_cookies(r)[session.COOKIE]
    assert {"httponly", "samesite=lax", "path=/"} <= attributes(cookie)
    assert "secure" not in attributes(cookie)  # plain http: a Secure cookie would not return
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) >= 43  # 32 random bytes
    rows = sqlite3.connect(site.dep.database).execute(
        "SELECT digest FROM web_sessions WHERE login = ?", (login,)).fetchall()
    assert (hashlib.sha256(token.encode()).hexdigest(),) in rows  # only the hash is stored
    assert token not in site.dep.database.read_bytes().decode("latin-1")
    assert signed_in_as(site, browser) == home


def test_secure_cookies_behind_tls(site: Site) -> None:
    tls = {**HTML, "X-Forwarded-Proto": "https"}  # from the trusted proxy in front
    form = requests.get(site.url + "/masuk/", headers=tls, timeout=30)
    assert "secure" in attributes(set_cookies(form)[session.CSRF_COOKIE])
    csrf = form_token(form.text)
    r = requests.post(site.url + "/masuk/", headers=tls, allow_redirects=False, timeout=30,
                      data={"csrf": csrf, "login": "pic-x", "password": PASSWORD},
                      cookies={session.CSRF_COOKIE: csrf})
    assert r.status_code == 303
    assert {"secure", "httponly", "samesite=lax"} <= attributes(set_cookies(r)[session.COOKIE])


def test_wrong_password_shows_the_form_again_without_a_prompt(site: Site) -> None:
    browser, r = sign_in(site.url, "pic-y", "salah-sekali")
    assert r.status_code == 200, r.status_code
    assert "Login atau kata sandi salah." in r.text
    assert 'value="pic-y"' in r.text  # the login is kept, the password is not
    assert "salah-sekali" not in r.text
    assert "WWW-Authenticate" not in r.headers and session.COOKIE not in set_cookies(r)
    assert signed_in_as(site, browser) is None


def test_a_sync_account_may_not_sign_in(site: Site) -> None:
    _, r = sign_in(site.url, "sync-a")
    assert r.status_code == 403 and "Akun sinkronisasi tidak dapat masuk" in r.text
    assert session.COOKIE not in set_cookies(r)


def test_sign_out(site: Site) -> None:
    browser, r = sign_in(site.url, "pic-x")
    old = browser.cookies[session.COOKIE]
    page = browser.get(site.url + "/keluar/", timeout=30)
    assert page.status_code == 200 and "Keluar" in page.text
    r = browser.post(site.url + "/keluar/", data={"csrf": form_token(page.text)},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    cleared = set_cookies(r)[session.COOKIE]
    assert cleared.startswith(f"{session.COOKIE}=;") and "max-age=0" in attributes(cleared)
    assert signed_in_as(site, browser) is None
    # the old cookie, replayed, signs nobody in
    again = requests.get(site.url + "/masuk/", headers=HTML, cookies={session.COOKIE: old},
                         allow_redirects=False, timeout=30)
    assert again.status_code == 200


def test_signing_in_always_makes_a_new_session(site: Site) -> None:
    browser, _ = sign_in(site.url, "pic-x")
    first = browser.cookies[session.COOKIE]
    token = form_token(browser.get(site.url + "/keluar/", timeout=30).text)
    r = browser.post(site.url + "/masuk/", data={"csrf": token, "login": "pic-x",
                                                 "password": PASSWORD},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 303 and browser.cookies[session.COOKIE] != first
    stale = requests.get(site.url + "/masuk/", headers=HTML, cookies={session.COOKIE: first},
                         allow_redirects=False, timeout=30)
    assert stale.status_code == 200  # the session the browser came with ended
    # a token planted in the browser before sign-in is never adopted (no fixation)
    planted = "A" * 43
    form = requests.get(site.url + "/masuk/", headers=HTML, cookies={session.COOKIE: planted},
                        timeout=30)
    csrf = form_token(form.text)
    r = requests.post(site.url + "/masuk/", headers=HTML, allow_redirects=False, timeout=30,
                      data={"csrf": csrf, "login": "pic-x", "password": PASSWORD},
                      cookies={session.COOKIE: planted, session.CSRF_COOKIE: csrf})
    assert r.status_code == 303
    assert set_cookies(r)[session.COOKIE].split(";")[0] != f"{session.COOKIE}={planted}"
    assert requests.get(site.url + "/masuk/", headers=HTML, cookies={session.COOKIE: planted},
                        allow_redirects=False, timeout=30).status_code == 200


# -- expiry ---------------------------------------------------------------------
def test_idle_expiry(site: Site) -> None:
    browser, _ = sign_in(site.url, "pic-x")
    idle = site.web.sessions.limits.idle
    try:
        site.clock.offset += idle - 30
        assert signed_in_as(site, browser) == "/opd/"  # used: the idle time starts again
        site.clock.offset += idle - 30
        assert signed_in_as(site, browser) == "/opd/"
        site.clock.offset += idle
        assert signed_in_as(site, browser) is None
    finally:
        site.clock.offset = 0


def test_absolute_expiry(site: Site) -> None:
    browser, _ = sign_in(site.url, "pic-x")
    limits = site.web.sessions.limits
    assert (limits.idle, limits.absolute) == (2 * 3600, 12 * 3600)
    try:
        while site.clock.offset + 3600 < limits.absolute:
            site.clock.offset += 3600  # busy all day: never idle
            assert signed_in_as(site, browser) == "/opd/"
        site.clock.offset = limits.absolute
        assert signed_in_as(site, browser) is None
    finally:
        site.clock.offset = 0


# -- CSRF -----------------------------------------------------------------------
def test_every_post_needs_the_token(site: Site) -> None:
    browser, _ = sign_in(site.url, "pic-x")
    other, _ = sign_in(site.url, "pic-y")
    theirs = form_token(other.get(site.url + "/keluar/", timeout=30).text)
    for data in ({}, {"csrf": ""}, {"csrf": "x" * 43}, {"csrf": theirs}):
        r = browser.post(site.url + "/keluar/", data=data, allow_redirects=False, timeout=30)
        assert r.status_code == 403, (data, r.status_code)
        assert "Formulir ini sudah kedaluwarsa atau tidak dikirim dari halaman Kalender OPD" \
            in r.text
        assert session.COOKIE not in set_cookies(r)
    assert signed_in_as(site, browser) == "/opd/"  # none of them signed the browser out
    ics = event_ics(uuid.uuid4().hex, "20310105T090000", "20310105T100000", "Tanpa token")
    r = browser.post(site.url + "/uji/tulis/dinkes/tanpa-token.ics", data={"ics": ics},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 403  # refused before the page runs: nothing is written
    assert requests.get(site.url + "/opd/dinkes/tanpa-token.ics", auth=("pic-x", PASSWORD),
                        timeout=30).status_code == 404


def test_sign_in_post_needs_the_form_cookie(site: Site) -> None:
    form = requests.get(site.url + "/masuk/", headers=HTML, timeout=30)
    data = {"csrf": form_token(form.text), "login": "pic-x", "password": PASSWORD}
    r = requests.post(site.url + "/masuk/", data=data, headers=HTML, allow_redirects=False,
                      timeout=30)  # a page elsewhere posting the form: it has no cookie
    assert r.status_code == 403 and session.COOKIE not in set_cookies(r)


# -- where to go next -----------------------------------------------------------
@pytest.mark.parametrize("lanjut", ["//evil.example/", "/\\evil.example", "https://evil.example/",
                                    "/\r\nLocation: http://evil.example/", "javascript:alert(1)",
                                    "evil.example", "/\t/evil.example", "/keluar/"])
def test_no_open_redirect(site: Site, lanjut: str) -> None:
    _, r = sign_in(site.url, "pic-x", lanjut=lanjut)
    assert r.status_code == 303 and r.headers["Location"] == "/opd/", r.headers["Location"]


def test_lanjut_goes_on_to_the_page(site: Site) -> None:
    r = requests.get(site.url + "/uji/pimpinan/?tanggal=2031-01-05", headers=HTML,
                     allow_redirects=False, timeout=30)
    assert r.status_code == 303
    assert r.headers["Location"] == "/masuk/?lanjut=%2Fuji%2Fpimpinan%2F%3Ftanggal%3D2031-01-05"
    browser, r = sign_in(site.url, "pimpinan-a", lanjut="/uji/pimpinan/?tanggal=2031-01-05")
    assert r.headers["Location"] == "/uji/pimpinan/?tanggal=2031-01-05"
    assert browser.get(site.url + r.headers["Location"], timeout=30).text == "halo pimpinan-a"
    pic, _ = sign_in(site.url, "pic-x")
    denied = pic.get(site.url + "/uji/pimpinan/", timeout=30)
    assert denied.status_code == 403
    assert "Halaman ini hanya untuk pimpinan dan admin." in denied.text
    assert 'aria-label="Menu ruang kerja"' in denied.text  # still signed in: the menu stays


# -- browsers and CalDAV clients on calendar paths ---------------------------------
@pytest.mark.parametrize("path", ["/opd/dinkes/", "/ruang/ruang-joyoboyo/", "/pic-x/",
                                  "/opd/", "/pimpinan/agenda/"])
def test_a_browser_is_sent_to_the_form_not_a_prompt(site: Site, path: str) -> None:
    r = requests.get(site.url + path, headers=HTML, allow_redirects=False, timeout=30)
    if path == "/opd/":  # the PIC's home page: it asks for a session itself
        assert r.status_code in (303, 200)
        assert "WWW-Authenticate" not in r.headers
        return
    assert r.status_code == 303 and "WWW-Authenticate" not in r.headers
    assert r.headers["Location"] == "/masuk/?lanjut=" + path.replace("/", "%2F")
    browser, _ = sign_in(site.url, "pic-x")
    r = browser.get(site.url + path, allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/opd/"


@pytest.mark.parametrize("path", ["/opd/dinkes/", "/opd/", "/pimpinan/", "/admin/", "/"])
def test_caldav_clients_keep_their_answers(site: Site, path: str) -> None:
    anonymous = requests.request("PROPFIND", site.url + path, headers={"Depth": "0"},
                                 timeout=30)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic realm=")
    login = "admin-a" if path != "/opd/dinkes/" else "pic-x"
    r = requests.request("PROPFIND", site.url + path, headers={"Depth": "0"},
                         auth=(login, PASSWORD), allow_redirects=False, timeout=30)
    assert r.status_code in (207, 403, 404), (path, r.status_code)  # Radicale's answer
    assert not r.headers.get("Content-Type", "").startswith("text/html")
    plain = requests.get(site.url + path, timeout=30)  # a client's GET asks for no HTML
    assert plain.status_code == 401 and "WWW-Authenticate" in plain.headers


def test_an_unknown_page_is_not_found_not_a_sign_in(site: Site) -> None:
    r = requests.get(site.url + "/kegiatan/tidak-ada", headers=HTML, allow_redirects=False,
                     timeout=30)
    assert r.status_code == 404 and "Halaman tidak ditemukan" in r.text


def test_a_browser_with_basic_credentials_still_reaches_caldav(site: Site) -> None:
    r = requests.get(site.url + "/opd/dinkes/", headers=HTML, auth=("pic-x", PASSWORD),
                     allow_redirects=False, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/calendar")
    public = requests.get(site.url + "/publik/agenda/", headers=HTML, timeout=30)
    assert public.status_code == 200  # anonymous may read it: no detour


# -- form posts -------------------------------------------------------------------
def test_form_limits(site: Site) -> None:
    browser, _ = sign_in(site.url, "pic-x")
    token = form_token(browser.get(site.url + "/keluar/", timeout=30).text)
    big = browser.post(site.url + "/keluar/", data={"csrf": token, "x": "a" * 70_000},
                       allow_redirects=False, timeout=30)
    assert big.status_code == 413 and "lebih dari 64 KB" in big.text
    multipart = browser.post(site.url + "/keluar/", files={"csrf": (None, token)},
                             allow_redirects=False, timeout=30)
    assert multipart.status_code == 415
    get = browser.get(site.url + "/uji/tulis/dinkes/x.ics", allow_redirects=False, timeout=30)
    assert get.status_code == 405 and get.headers["Allow"] == "POST"
    assert signed_in_as(site, browser) == "/opd/"


# -- sessions that end with their account ------------------------------------------
def test_a_removed_account_is_signed_out(site: Site) -> None:
    browser, r = sign_in(site.url, "pic-hapus")
    assert r.status_code == 303 and signed_in_as(site, browser) == "/opd/"
    assert cli.main(["user", "remove", "pic-hapus", "--dir", str(site.dep.root)]) == 0
    assert signed_in_as(site, browser) is None
    left = sqlite3.connect(site.dep.database).execute(
        "SELECT COUNT(*) FROM web_sessions WHERE login = 'pic-hapus'").fetchone()
    assert left == (0,)


def test_a_new_password_ends_the_old_sessions(site: Site,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    browser, _ = sign_in(site.url, "pic-ganti")
    assert signed_in_as(site, browser) == "/opd/"
    monkeypatch.setattr("sys.stdin", io.StringIO("kata-sandi-baru-2\n"))
    assert cli.main(["user", "passwd", "pic-ganti", "--dir", str(site.dep.root),
                     "--password-stdin"]) == 0
    assert signed_in_as(site, browser) is None
    fresh, r = sign_in(site.url, "pic-ganti", "kata-sandi-baru-2")
    assert r.status_code == 303 and signed_in_as(site, fresh) == "/opd/"


# -- writing through the CalDAV application ----------------------------------------
def write(site: Site, browser: requests.Session, opd: str, name: str, ics: str
          ) -> dict[str, Any]:
    """The test page's PUT through internal.call; its JSON answer."""
    token = form_token(browser.get(site.url + "/keluar/", timeout=30).text)
    r = browser.post(site.url + f"/uji/tulis/{opd}/{name}", data={"csrf": token, "ics": ics},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_a_page_writes_as_the_signed_in_pic(site: Site) -> None:
    browser, _ = sign_in(site.url, "pic-x")
    uid = uuid.uuid4().hex
    ics = event_ics(uid, "20310106T090000", "20310106T110000", "Rapat Web Dinkes",
                    "Ruang Kilisuci")
    done = write(site, browser, "dinkes", f"{uid}.ics", ics)
    assert done["status"] == 201 and done["etag"]
    stored = requests.get(site.url + f"/opd/dinkes/{uid}.ics", auth=("pic-x", PASSWORD),
                          timeout=30)
    assert stored.status_code == 200 and "Rapat Web Dinkes" in stored.text
    [entry] = [e for e in audit.entries(site.dep.database, opd="dinkes") if e.href == f"{uid}.ics"]
    assert (entry.actor, entry.action) == ("pic-x", "create")
    # the rights are the PIC's own: another OPD's calendar is refused
    other = write(site, browser, "dinsos", f"{uid}.ics", ics)
    assert other["status"] == 403


def test_kalender_log_names_the_pic(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    browser, _ = sign_in(site.url, "pic-xz")
    uid = uuid.uuid4().hex
    assert write(site, browser, "diskominfo", f"{uid}.ics",
                 event_ics(uid, "20310107T090000", "20310107T100000", "Rapat Log"))["status"] \
        == 201
    capsys.readouterr()
    assert cli.main(["log", "--opd", "diskominfo", "--dir", str(site.dep.root)]) == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if f"{uid}.ics" in x]
    assert " pic-xz " in line and " create " in line


def test_a_clash_through_the_page_is_recorded_like_caldav(site: Site) -> None:
    first = uuid.uuid4().hex
    assert requests.put(site.url + f"/opd/dinkes/{first}.ics", auth=("pic-x", PASSWORD),
                        data=event_ics(first, "20310108T090000", "20310108T110000",
                                       "Rapat Pertama", "Ruang Joyoboyo").encode(),
                        headers={"Content-Type": "text/calendar"}, timeout=30).status_code == 201
    browser, _ = sign_in(site.url, "pic-y")
    uid = uuid.uuid4().hex
    done = write(site, browser, "dinsos", f"{uid}.ics",
                 event_ics(uid, "20310108T100000", "20310108T120000", "Sosialisasi Web",
                           "Ruang Joyoboyo"))
    assert done["status"] == 403 and "no-venue-clash" in done["body"]
    refused.RECORDER.join()
    db = sqlite3.connect(site.dep.database)
    assert db.execute("SELECT actor, reason FROM refusals WHERE uid = ?", (uid,)).fetchall() \
        == [("pic-y", "Jadwal Bentrok")]
    assert db.execute("SELECT opd, kind, actor, title FROM notices WHERE uid = ?",
                      (uid,)).fetchall() == [("dinsos", "ditolak", "pic-y", "Sosialisasi Web")]


def test_a_ticket_is_for_its_own_request_only(site: Site) -> None:
    secret = tickets.issue("pic-x")
    try:
        assert tickets.valid("pic-x", secret) and not tickets.valid("pic-y", secret)
        # sent from elsewhere (the server's worker threads, not this one): no login
        r = requests.request("PROPFIND", site.url + "/pic-x/", auth=("pic-x", secret),
                             headers={"Depth": "0"}, timeout=30)
        assert r.status_code == 401
    finally:
        tickets.revoke(secret)
    assert not tickets.valid("pic-x", secret)


def test_internal_call_needs_a_session(site: Site) -> None:
    request = site.web.request({"REQUEST_METHOD": "GET", "PATH_INFO": "/", "REMOTE_ADDR": "::1",
                                "wsgi.input": io.BytesIO(), "SERVER_NAME": "localhost",
                                "SERVER_PORT": "80", "wsgi.url_scheme": "http"})
    with pytest.raises(session.LoginRequired):
        internal.call(request, "GET", "/opd/dinkes/")


# -- the throttle ----------------------------------------------------------------
@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A deployment whose throttle stops a login after 3 failures."""
    dep = make_deployment(tmp_path_factory.mktemp("throttle") / "kediri",
                          {"pic-tebak": ("pic", ("dinkes",))})
    text = dep.config.read_text("utf-8")
    dep.config.write_text(text.replace("kalender_login_failures = 10",
                                       "kalender_login_failures = 3"), encoding="utf-8")
    served = serve_in_thread(dep)
    live = next(served)
    try:
        yield Site(dep, live.url, None, Clock())  # type: ignore[arg-type]
    finally:
        served.close()


def test_repeated_wrong_passwords_are_throttled(guarded: Site) -> None:
    for _ in range(3):
        _, r = sign_in(guarded.url, "pic-tebak", "tebakan-salah")
        assert r.status_code == 200 and "Login atau kata sandi salah." in r.text
    _, r = sign_in(guarded.url, "pic-tebak", PASSWORD)  # even the right one, for now
    assert r.status_code == 429
    assert "Terlalu banyak percobaan masuk yang gagal; tunggu" in r.text
    assert int(r.headers["Retry-After"]) > 0 and session.COOKIE not in set_cookies(r)
    # the same throttle as CalDAV's: a calendar app is held too
    dav = requests.request("PROPFIND", guarded.url + "/pic-tebak/", auth=("pic-tebak", PASSWORD),
                           headers={"Depth": "0"}, timeout=30)
    assert dav.status_code == 429


def test_session_limits_from_the_config(site: Site, tmp_path: Path) -> None:
    assert session.limits(load_configuration(site.dep)) == session.Limits(7200, 43200, False)
    dep = make_deployment(tmp_path / "kediri", {})
    text = dep.config.read_text("utf-8")
    dep.config.write_text(text.replace("\n[rights]\n", "\nkalender_session_idle = 600\n"
                                       "kalender_session_max = 3600\n"
                                       "kalender_session_secure = yes\n\n[rights]\n"),
                          encoding="utf-8")
    limits = session.limits(load_configuration(dep))
    assert limits == session.Limits(600, 3600, True)
    # Secure even over plain HTTP (a TLS proxy in front that waitress does not trust)
    web = WebApp(site.web.dav, sessions=session.Store(dep.database, dep.htpasswd, limits))
    answer: dict[str, Any] = {}
    web({"REQUEST_METHOD": "GET", "PATH_INFO": "/masuk/", "HTTP_ACCEPT": "text/html",
         "REMOTE_ADDR": "127.0.0.1", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
         "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO()},
        lambda status, headers: answer.update(status=status, headers=headers))
    [cookie] = [v for k, v in answer["headers"] if k == "Set-Cookie"]
    assert answer["status"].startswith("200") and "secure" in attributes(cookie)
    dep.config.write_text(text.replace("\n[rights]\n", "\nkalender_session_idle = dua jam"
                                       "\n\n[rights]\n"), encoding="utf-8")
    with pytest.raises(ValueError, match="kalender_session_idle"):
        session.limits(load_configuration(dep))
