"""Entering an activity in a real browser (issue 10, item 3): headless Debian Chromium.

A PIC signs in with the /masuk/ form, fills the activity form as a person
does (date and time pickers, the venue list, the key persons' boxes), meets
a clash: the reason beside the venue field, the live check (kegiatan.js)
saying the same before submitting, a suggestion clicked; axe-core's WCAG 2.1
AA rules on the form with and without errors; a phone's width. What was
saved is read back through CalDAV. Screenshots go to ``$RESULTS_DIR/screenshots``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import icalendar
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


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own, served over HTTP."""
    dep = make_deployment(tmp_path_factory.mktemp("browser-booking") / "kediri")
    yield from serve_in_thread(dep)


def signed_in(site: LiveServer, open_page: Any, login: str = "pic-x",
              size: str = "phone") -> Any:
    """A page signed in through the form, on the activity form."""
    page = open_page(site.url + "/masuk/?lanjut=/kegiatan/baru/", size)
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit] >> text=Masuk")
    page.wait_for_url("**/kegiatan/baru/")
    return page


def fill(page: Any, day: str, start: str, end: str, venue: str, title: str,
         persons: tuple[str, ...] = ()) -> None:
    """Fill the activity form as a person does."""
    page.fill("#judul", title)
    page.fill("#tanggal", day)
    page.fill("#mulai", start)
    page.fill("#selesai", end)
    page.select_option("#ruang", venue)
    for person in persons:
        page.check(f"#pejabat-{person}")


def unexpected(page: Any) -> list[str]:
    """The page's problems but Chromium's note on a refused form's own 4xx answer."""
    return [p for p in page_problems(page)
            if not (p.startswith("console: Failed to load resource: the server responded with a "
                                 "status of 4") and p.endswith("/kegiatan/baru/)"))]


def saved(site: LiveServer, url: str) -> icalendar.cal.Component:
    """The VEVENT the form saved (the UID from /opd/?tersimpan=<uid>), read by CalDAV."""
    (uid,) = parse_qs(urlsplit(url).query)["tersimpan"]
    r = site.request("pic-x", "GET", f"/opd/dinkes/{uid.split('@')[0]}.ics")
    assert r.status_code == 200
    return icalendar.Calendar.from_ical(r.text).walk("VEVENT")[0]


def test_fill_and_submit_the_form(site: LiveServer, open_page: Any) -> None:
    page = signed_in(site, open_page, size="desktop")
    assert axe_violations(page) == []
    fill(page, "2031-04-01", "13:00", "15:00", "ruang-command-center", "Rapat Koordinasi PPDB",
         ("wali-kota", "sekda"))
    page.fill("#narasumber", "Kepala Sekolah SMPN 1")
    page.fill("#deskripsi", "Bahan:\nData pendaftar tahun lalu.")
    page.check("#kelas-internal")
    page.locator("#periksa").get_by_text("tidak ada bentrok").wait_for()
    page.click("button:text('Simpan kegiatan')")
    page.wait_for_url("**/opd/?tersimpan=*")
    event = saved(site, page.url)
    assert str(event["LOCATION"]) == "Ruang Command Center, Balai Kota Kediri"
    assert event["DTSTART"].to_ical() == b"20310401T130000"
    assert str(event["CLASS"]) == "CONFIDENTIAL"
    assert str(event["DESCRIPTION"]) == (
        "Pejabat: Wali Kota Kediri; Sekretaris Daerah Kota Kediri\n"
        "Narasumber: Kepala Sekolah SMPN 1\n\nBahan:\nData pendaftar tahun lalu.")
    # the edit page: the same form, filled, with the delete form below
    name = str(event["UID"]).split("@")[0] + ".ics"
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{site.url}/kegiatan/ubah/dinkes/{name}")
    assert page.input_value("#judul") == "Rapat Koordinasi PPDB"
    assert page.is_checked("#pejabat-sekda") and page.is_checked("#kelas-internal")
    assert page.input_value("#deskripsi") == "Bahan:\nData pendaftar tahun lalu."
    assert page.locator("button.bahaya").inner_text() == "Hapus kegiatan"
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    screenshot(page, "kegiatan-ubah-ponsel")
    assert unexpected(page) == []


def test_a_clash_beside_the_field_and_a_suggestion_clicked(site: LiveServer,
                                                            open_page: Any) -> None:
    assert site.request("pic-y", "PUT", f"/opd/dinsos/{uuid.uuid4().hex}.ics", data=event_ics(
        uuid.uuid4().hex, "20310402T090000", "20310402T110000", "Rapat Bansos",
        "Ruang Joyoboyo").encode(), headers={"Content-Type": "text/calendar"}).status_code == 201
    page = signed_in(site, open_page)
    fill(page, "2031-04-02", "10:00", "11:00", "ruang-joyoboyo", "Sosialisasi Gizi")
    # the live check says it before submitting
    live = page.locator("#periksa")
    live.get_by_text("Ruang Joyoboyo sudah dipakai Dinas Sosial Kota Kediri").wait_for()
    assert live.get_attribute("aria-live") == "polite"
    screenshot(page, "kegiatan-periksa-bentrok")
    page.click("button:text('Simpan kegiatan')")
    page.wait_for_load_state()
    beside = page.locator(".isian:has(> #ruang) > #galat-ruang")  # in the field's own box
    assert beside.count() == 1
    assert beside.text_content().startswith(
        "Kesalahan: Ruang Joyoboyo sudah dipakai Dinas Sosial Kota Kediri untuk \"Rapat Bansos\"")
    assert page.get_attribute("#ruang", "aria-invalid") == "true"
    assert "galat-ruang" in (page.get_attribute("#ruang", "aria-describedby") or "")
    assert page.input_value("#judul") == "Sosialisasi Gizi"  # the input stays
    field_box, error_box = page.locator("#ruang").bounding_box(), beside.bounding_box()
    assert error_box["y"] > field_box["y"] and error_box["y"] - field_box["y"] < 200
    assert axe_violations(page) == []
    assert_no_horizontal_scroll(page)
    screenshot(page, "kegiatan-bentrok-ponsel")
    page.click("button.tawaran:text('Pakai 11.00-12.00 di Ruang Joyoboyo')")
    page.wait_for_url("**/kegiatan/baru/?*")
    assert (page.input_value("#mulai"), page.input_value("#selesai"),
            page.input_value("#judul")) == ("11:00", "12:00", "Sosialisasi Gizi")
    page.click("button:text('Simpan kegiatan')")
    page.wait_for_url("**/opd/?tersimpan=*")
    assert saved(site, page.url)["DTSTART"].to_ical() == b"20310402T110000"
    assert unexpected(page) == []


def test_the_live_checks_suggestion_fills_the_form(site: LiveServer, open_page: Any) -> None:
    assert site.request("pic-y", "PUT", f"/opd/dinsos/{uuid.uuid4().hex}.ics", data=event_ics(
        uuid.uuid4().hex, "20310403T090000", "20310403T120000", "Pelatihan",
        "Gedung Nasional Indonesia").encode(),
        headers={"Content-Type": "text/calendar"}).status_code == 201
    page = signed_in(site, open_page)
    fill(page, "2031-04-03", "10:00", "11:00", "gni", "Lomba Cerdas Cermat")
    live = page.locator("#periksa")
    live.get_by_text("Gedung Nasional Indonesia sudah dipakai").wait_for()
    choice = live.locator("button.tawaran").first
    label = choice.inner_text()
    choice.click()
    live.get_by_text("tidak ada bentrok").wait_for()
    changed = (page.input_value("#mulai"), page.input_value("#ruang"))
    assert changed != ("10:00", "gni"), label
    assert axe_violations(page) == []
    page.click("button:text('Simpan kegiatan')")
    page.wait_for_url("**/opd/?tersimpan=*")
    assert unexpected(page) == []


def test_the_form_without_javascript(site: LiveServer, open_page: Any) -> None:
    page = open_page(site.url + "/masuk/?lanjut=/kegiatan/baru/", "phone",
                     java_script_enabled=False)
    page.fill("#login", "pic-x")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit] >> text=Masuk")
    page.wait_for_url("**/kegiatan/baru/")
    fill(page, "2031-04-04", "08:00", "07:00", "lain", "Kunjungan Kerja")
    page.click("button:text('Simpan kegiatan')")
    page.wait_for_load_state()
    assert page.locator("#galat-selesai").text_content() == (
        "Kesalahan: Jam selesai harus setelah jam mulai (08.00).")
    assert page.locator("#galat-lokasi").text_content() == (
        "Kesalahan: Tulis nama dan alamat lokasi lain.")
    assert page.locator("#periksa").inner_text() == ""
    # (no axe here: page.evaluate cannot run in a page with JavaScript turned off)
    page.fill("#selesai", "09:30")
    page.fill("#lokasi", "Kantor Kecamatan Mojoroto")
    page.click("button:text('Simpan kegiatan')")
    page.wait_for_url("**/opd/?tersimpan=*")
    assert str(saved(site, page.url)["LOCATION"]) == "Kantor Kecamatan Mojoroto"
