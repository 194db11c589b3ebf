"""Signing in to the web workspace in a real browser (issue 10, items 1 and 7).

Headless Debian Chromium (tests/browser_support.py) at a phone's width: the
sign-in form passes axe-core's WCAG 2.1 AA rules (also with its error
message), fits 360 px, raises no CSP refusal or script error; a wrong
password keeps the login typed; the right one signs in and goes on to the
page asked for; a calendar address opened in the browser leads to the form,
never to a Basic-auth prompt; signing out through the menu ends the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests import browser_support
from tests.browser_support import (
    assert_no_horizontal_scroll,
    axe_violations,
    page_problems,
    screenshot,
)
from tests.conftest import PASSWORD, LiveServer, make_deployment, serve_in_thread

browser = browser_support.browser
open_page = browser_support.open_page

ACCOUNTS = {"pic-dinkes": ("pic", ("dinkes",)), "pimpinan-a": ("pimpinan", ())}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment with a PIC and a leader, served for the module."""
    dep = make_deployment(tmp_path_factory.mktemp("web-login") / "kediri", ACCOUNTS)
    yield from serve_in_thread(dep)


def clean(page: Any) -> None:
    """No console error (a CSP refusal among them), script error or dialog on ``page``."""
    problems = [p for p in page_problems(page) if not p.endswith("/favicon.ico)")]
    assert problems == [], problems


def fill(page: Any, login: str, password: str) -> None:
    """Type into the form through its labels, as a person does, and send it."""
    page.get_by_label("Login").fill(login)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_load_state("load")


def test_sign_in_form_on_a_phone(live: LiveServer, open_page: Callable[..., Any]) -> None:
    page = open_page(live.url + "/masuk/", "phone")
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.get_by_role("heading", level=1).inner_text() == "Masuk ke Kalender OPD"
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    screenshot(page, "ws-masuk-phone")
    fill(page, "pic-dinkes", "bukan-sandinya")
    assert urlsplit(page.url).path == "/masuk/"
    alert = page.get_by_role("alert")
    assert alert.inner_text() == "Login atau kata sandi salah."
    assert page.get_by_label("Login").input_value() == "pic-dinkes"
    assert page.get_by_label("Kata sandi").input_value() == ""
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    screenshot(page, "ws-masuk-salah-phone")
    clean(page)


def test_a_calendar_address_leads_to_the_form_then_on(live: LiveServer,
                                                      open_page: Callable[..., Any]) -> None:
    page = open_page(size="phone")
    response = page.goto(live.url + "/pimpinan/agenda/", wait_until="load")
    assert response is not None and response.status == 200  # the form, not a 401 prompt
    assert urlsplit(page.url).path == "/masuk/"
    assert "lanjut=%2Fpimpinan%2Fagenda%2F" in page.url
    # signing in goes on to the page asked for: the leaders' own page for this account
    fill(page, "pimpinan-a", PASSWORD)
    assert urlsplit(page.url).path == "/pimpinan/"
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["kalender_sesi"]["httpOnly"] and cookies["kalender_sesi"]["sameSite"] == "Lax"
    clean(page)


def test_menu_and_sign_out(live: LiveServer, open_page: Callable[..., Any]) -> None:
    page = open_page(live.url + "/masuk/?lanjut=/keluar/", "phone")
    fill(page, "pic-dinkes", PASSWORD)
    assert urlsplit(page.url).path == "/opd/"  # /keluar/ is no place to go on to
    page.goto(live.url + "/keluar/", wait_until="load")
    nav = page.get_by_role("navigation", name="Menu ruang kerja")
    for name in ("Agenda", "Ketersediaan", "Kegiatan baru", "OPD saya"):
        assert nav.get_by_role("link", name=name).count() == 1, name
    assert nav.get_by_role("link", name="Admin").count() == 0
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    screenshot(page, "ws-keluar-phone")
    nav.get_by_role("button", name="Keluar").click()
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path == "/"
    assert "kalender_sesi" not in {c["name"] for c in page.context.cookies()}
    page.goto(live.url + "/masuk/", wait_until="load")
    assert page.get_by_label("Kata sandi").count() == 1  # signed out: the form again
    clean(page)
