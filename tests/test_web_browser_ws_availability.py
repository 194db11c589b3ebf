"""``/ketersediaan/`` in a real browser (issue 10, items 2 and 7).

Headless Debian Chromium (tests/browser_support.py): signed in through the
form, the page passes axe-core's WCAG 2.1 AA rules on a phone and on a wide
screen, never scrolls sideways at 360 px (the wide table scrolls inside its
own box), shows a list per venue on a phone and a table on a wide screen,
and the "Cari waktu kosong" form, filled through its labels, lists free
times whose "Pesan waktu ini" opens the activity form with them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests import browser_support
from tests.browser_support import (
    assert_no_horizontal_scroll,
    axe_violations,
    page_problems,
    screenshot,
)
from tests.conftest import PASSWORD, LiveServer, event_ics, make_deployment, serve_in_thread

browser = browser_support.browser
open_page = browser_support.open_page

WIB = dt.timezone(dt.timedelta(hours=7))
TODAY = dt.datetime.now(WIB).date()
DAY = TODAY + dt.timedelta(days=(1 - TODAY.weekday()) % 7 + 35)  # a Tuesday ahead


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment with a public and a private booking on DAY."""
    dep = make_deployment(tmp_path_factory.mktemp("web-sedia") / "kediri")
    for server in serve_in_thread(dep):
        for start, end, summary, location, extra in [
            ("0900", "1100", "Rapat Stunting", "Ruang Joyoboyo",
             "DESCRIPTION:Pejabat: Wali Kota Kediri"),
            ("1300", "1500", "Rapat Rahasia Zebra", "Ruang Kilisuci", "CLASS:PRIVATE"),
        ]:
            uid = uuid.uuid4().hex
            body = event_ics(uid, f"{DAY:%Y%m%d}T{start}00", f"{DAY:%Y%m%d}T{end}00",
                             summary=summary, location=location, extra=extra)
            r = server.request("pic-x", "PUT", f"/opd/dinkes/{uid}.ics", data=body.encode(),
                               headers={"Content-Type": "text/calendar"})
            assert r.status_code == 201, r.text
        yield server


def clean(page: Any) -> None:
    """No console error (a CSP refusal among them), script error or dialog on ``page``."""
    problems = [p for p in page_problems(page) if not p.endswith("/favicon.ico)")]
    assert problems == [], problems


def signed_in(open_page: Callable[..., Any], live: LiveServer, size: str) -> Any:
    """A page signed in as Dinsos' PIC, on the day's availability."""
    target = f"/ketersediaan/?tanggal={DAY.isoformat()}"
    page = open_page(live.url + "/masuk/?lanjut=" + quote(target, safe=""), size)
    page.get_by_label("Login").fill("pic-y")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_load_state("load")
    if urlsplit(page.url).path != "/ketersediaan/":
        page.goto(live.url + target, wait_until="load")
    return page


def test_phone_list_search_and_booking_link(live: LiveServer,
                                            open_page: Callable[..., Any]) -> None:
    page = signed_in(open_page, live, "phone")
    assert page.get_by_role("heading", level=1).inner_text() == \
        "Ketersediaan tempat dan pejabat"
    joyoboyo = page.locator(".sedia-baris", has=page.locator("#sedia-tempat-ruang-joyoboyo"))
    assert "09.00-11.00 WIB Rapat Stunting" in joyoboyo.inner_text()
    body = page.locator("main").inner_text()
    assert "Terpakai - Dinas Kesehatan Kota Kediri" in body and "Zebra" not in body
    assert page.locator(".sedia-tabel").first.is_visible() is False  # the list on a phone
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    screenshot(page, "ws-ketersediaan-phone")

    page.get_by_label("Lama kegiatan").select_option(label="2 jam")
    page.get_by_role("combobox", name="Tempat").select_option(label="Ruang Joyoboyo")
    page.get_by_label("Dari tanggal").fill(DAY.isoformat())
    page.get_by_label("Sampai tanggal").fill(DAY.isoformat())
    page.get_by_role("button", name="Cari waktu kosong").click()
    page.wait_for_load_state("load")
    first = page.get_by_role("link", name="Pesan waktu ini").first
    assert "07.00-09.00 WIB" in page.locator(".hasil-kosong").inner_text()
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    screenshot(page, "ws-ketersediaan-cari-phone")
    first.click()
    page.wait_for_load_state("load")
    query = parse_qs(urlsplit(page.url).query)
    assert urlsplit(page.url).path == "/kegiatan/baru/"
    assert query == {"tanggal": [DAY.isoformat()], "mulai": ["07.00"], "selesai": ["09.00"],
                     "ruang": ["ruang-joyoboyo"]}
    clean(page)


def test_wide_screen_table(live: LiveServer, open_page: Callable[..., Any]) -> None:
    page = signed_in(open_page, live, "desktop")
    table = page.get_by_role("table", name="Pemakaian tempat, ")
    assert table.count() == 1 and table.is_visible()
    assert page.locator(".sedia-daftar").first.is_visible() is False
    row = table.get_by_role("row", name="Ruang Joyoboyo")
    assert "Rapat Stunting" in row.inner_text()
    assert table.get_by_role("columnheader", name="09.00").count() == 1
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    screenshot(page, "ws-ketersediaan-desktop")
    page.goto(live.url + f"/ketersediaan/?tanggal={DAY.isoformat()}&minggu=1", wait_until="load")
    assert "Rapat Stunting" in page.get_by_role("table", name="Pemakaian tempat, ").inner_text()
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    clean(page)


def test_phone_week_fits(live: LiveServer, open_page: Callable[..., Any]) -> None:
    page = signed_in(open_page, live, "phone")
    page.goto(live.url + f"/ketersediaan/?tanggal={DAY.isoformat()}&minggu=1", wait_until="load")
    assert "Rapat Stunting" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    screenshot(page, "ws-ketersediaan-minggu-phone")
    clean(page)
