"""The workspace's views in a real browser: headless Debian Chromium, signed in by the form.

The deployment of ``tests/test_web_views.py`` (PICs' CalDAV writes, one
refused, one sync pass); Chromium signs in at ``/masuk/`` as a PIC, a
pimpinan and an admin and reads ``/opd/``, ``/pimpinan/``,
``/pimpinan/cetak/`` and ``/admin/``: axe-core's WCAG 2.1 AA rules, a phone's
width without sideways scrolling, no console or CSP error, and the leaders'
sheet printed (print media, an A4 PDF). Screenshots go to
``$RESULTS_DIR/screenshots`` (tests/browser_support.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests import browser_support
from tests import test_web_views as data
from tests.browser_support import (
    assert_no_horizontal_scroll,
    axe_violations,
    page_problems,
    screenshot,
)
from tests.conftest import PASSWORD

# fixtures used here (pytest finds fixtures among a module's names)
browser = browser_support.browser
open_page = browser_support.open_page
views = data.views
DAY = data.DAY.isoformat()


def signed_in(views: data.Views, open_page: Callable[..., Any], login: str, path: str,
              size: str = "phone") -> Any:
    """A browser page signed in as ``login`` through the form, then at ``path``."""
    page = open_page(views.live.url + "/masuk/?lanjut=" + quote(path, safe=""), size)
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click(".formulir-masuk button[type=submit]")
    assert page.url == views.live.url + path, page.url
    return page


def clean(page: Any) -> None:
    """No console error (a CSP refusal among them), script error or dialog on ``page``."""
    problems = [p for p in page_problems(page) if not p.endswith("/favicon.ico)")]
    assert problems == [], problems


PAGES = [("pic-x", "/opd/"), ("pimpinan-a", f"/pimpinan/?tanggal={DAY}"),
         ("pimpinan-a", f"/pimpinan/?tanggal={DAY}&minggu=1"),
         ("pimpinan-a", f"/pimpinan/cetak/?tanggal={DAY}"), ("admin-a", "/admin/"),
         ("admin-a", "/opd/?opd=dinsos")]


@pytest.mark.parametrize("size", ["phone", "desktop"])
@pytest.mark.parametrize(("login", "path"), PAGES)
def test_axe_and_phone_width(views: data.Views, open_page: Any, login: str, path: str,
                             size: str) -> None:
    """WCAG 2.1 AA by axe-core (no serious or critical violation); 360 px without scrolling."""
    page = signed_in(views, open_page, login, path, size)
    assert page.evaluate("document.documentElement.lang") == "id"
    found = axe_violations(page)
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)
    if size == "phone":
        assert_no_horizontal_scroll(page)
    clean(page)
    screenshot(page, f"ws-{login}-{path.strip('/')}-{size}")


def test_pic_home_in_the_browser(views: data.Views, open_page: Any) -> None:
    """The PIC's list, its Bentrok notice and a new set of private links by the button."""
    page = signed_in(views, open_page, "pic-y", "/opd/")
    body = page.inner_text("body")
    assert "Rapat Tertutup Zebra" in body and "Rahasia" in body
    assert "Rapat Bentrok Dinsos" in page.inner_text(".pemberitahuan")
    before = page.inner_text("#langganan .tautan-daftar")
    with page.expect_navigation():
        page.click("#langganan button[type=submit]")
    assert "Tautan langganan dibuat ulang" in page.inner_text("#langganan")
    assert page.inner_text("#langganan .tautan-daftar") != before
    clean(page)


def test_leaders_sheet_printed(views: data.Views, open_page: Any, tmp_path: Path) -> None:
    """/pimpinan/cetak/ with print media: the table without the screen's navigation; A4 PDF."""
    page = signed_in(views, open_page, "pimpinan-a", f"/pimpinan/cetak/?tanggal={DAY}",
                     "desktop")
    page.emulate_media(media="print")
    assert page.evaluate("() => matchMedia('print').matches")
    assert not page.locator(".cetak-nav").is_visible()  # the screen-only part
    assert page.locator("h1").inner_text() == "Agenda Pimpinan"
    heads = [page.locator("thead th").nth(i).inner_text()
             for i in range(page.locator("thead th").count())]
    assert heads == ["No", "Waktu", "Kegiatan", "Tempat", "Penyelenggara", "Keterangan"]
    rows = page.locator("tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert len(texts) == 3 and "Ruang Kilisuci" in texts[0] and "[Rahasia]" in texts[1]
    clean(page)
    screenshot(page, "ws-pimpinan-cetak-print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 1
    (tmp_path / "agenda-pimpinan.pdf").write_bytes(pdf)
