"""The activity form (kalender.web.workspace compose, icalform, refusal): numbers and strings.

The shipped registries (radicale_config/venues.csv, persons.csv) are the
choices; the clash engine's own matcher and extractor read what the form
writes, so "recognised" means what the server will check.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from importlib import resources

import icalendar
import pytest

from kalender import places
from kalender.admin import cli
from kalender.clash.extract import extract
from kalender.clash.match import Matcher
from kalender.clash.rules import Person
from kalender.dav import answers
from kalender.deployment import CachedRegistry, Deployment
from kalender.web.workspace import compose, icalform, refusal
from kalender.web.workspace.compose import Choices, Entry

NOW = dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
WIB = dt.timezone(dt.timedelta(hours=7))


def _choices(extra: tuple[Person, ...] = ()) -> Choices:
    shipped = resources.files("kalender_config")
    venues = places.parse_venues(io.StringIO(shipped.joinpath("venues.csv").read_text("utf-8")))
    persons = places.parse_persons(io.StringIO(shipped.joinpath("persons.csv").read_text("utf-8")))
    persons += list(extra)
    return Choices({v.id: v for v in venues}, {p.id: p for p in persons},
                   Matcher(venues, persons))


KAPOLRES = Person("kapolres", "Kepala Kepolisian Resor Kediri Kota",
                  ("kapolres@polri.example",), ("Kapolresta",))
CHOICES = _choices((KAPOLRES,))


def form(**fields: str | list[str]) -> compose.Values:
    """Form values as a browser posts them: a complete valid entry, changed by ``fields``."""
    base: dict[str, list[str]] = {
        "judul": ["Rapat Koordinasi Stunting"], "tanggal": ["2026-12-03"], "mulai": ["13.00"],
        "selesai": ["15:00"], "ruang": ["ruang-joyoboyo"], "lokasi": [""], "tautan": [""],
        "pejabat": ["wali-kota", "sekda"], "narasumber": ["Dr. Budi (Universitas Airlangga)"],
        "deskripsi": ["Bahan: laporan triwulan.\nPeserta membawa data."],
        "kelas": ["publik"], "kategori": ["Kesehatan, Rapat"], "ulang": ["tidak"],
        "ulang_sampai": [""]}
    for name, value in fields.items():
        base[name] = value if isinstance(value, list) else [value]
    return compose.values_of(base)


def read(opds: tuple[str, ...] = ("dinkes",), initial: compose.Values | None = None,
         **fields: str | list[str]) -> tuple[Entry | None, dict[str, str]]:
    return compose.read(form(**fields), CHOICES, list(opds), initial)


def entry(**fields: str | list[str]) -> Entry:
    found, errors = read(**fields)
    assert errors == {} and found is not None
    return found


def vevent(text: str) -> icalendar.Event:
    return next(iter(icalendar.Calendar.from_ical(text).walk("VEVENT")))


# -- reading the form -------------------------------------------------------
def test_a_complete_form_reads_into_an_entry() -> None:
    e = entry()
    assert (e.judul, e.tanggal, e.mulai, e.selesai) == (
        "Rapat Koordinasi Stunting", dt.date(2026, 12, 3), dt.time(13), dt.time(15))
    assert (e.ruang, e.opd, e.pejabat, e.kelas, e.klass) == (
        "ruang-joyoboyo", "dinkes", ("wali-kota", "sekda"), "publik", "PUBLIC")
    assert e.kategori == ("Kesehatan", "Rapat")
    assert e.deskripsi == "Bahan: laporan triwulan.\nPeserta membawa data."


@pytest.mark.parametrize(("text", "expected"), [
    ("13.00", dt.time(13)), ("13:00", dt.time(13)), ("9.30", dt.time(9, 30)),
    ("09:05", dt.time(9, 5)), ("13:00:00", dt.time(13)), (" 8.15 WIB ", dt.time(8, 15)),
    ("7", dt.time(7)),
])
def test_times_with_a_dot_or_a_colon(text: str, expected: dt.time) -> None:
    assert entry(mulai=text, selesai="23.59").mulai == expected


@pytest.mark.parametrize("text", ["25.00", "13.60", "13,00", "jam satu", "13.0", "-1"])
def test_a_time_that_is_no_time_is_refused(text: str) -> None:
    found, errors = read(mulai=text)
    assert found is None
    assert errors["mulai"] == f'Jam mulai "{text}" tidak valid; tulis seperti 13.00 atau 13:00.'


@pytest.mark.parametrize("end", ["13.00", "12:59", "08.00"])
def test_the_end_comes_after_the_start(end: str) -> None:
    assert read(selesai=end)[1] == {"selesai": "Jam selesai harus setelah jam mulai (13.00)."}


def test_missing_fields_say_what_to_fill() -> None:
    found, errors = read(judul="  ", tanggal="", mulai="", selesai="", ruang="")
    assert found is None
    assert errors == {"judul": "Judul kegiatan wajib diisi.", "tanggal": "Tanggal wajib diisi.",
                      "mulai": "Jam mulai wajib diisi.", "selesai": "Jam selesai wajib diisi.",
                      "ruang": "Pilih tempat kegiatan: ruang terdaftar, lokasi lain, atau "
                               "daring."}


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "besok", "2026-2-3"])
def test_a_date_must_exist(day: str) -> None:
    assert read(tanggal=day)[1]["tanggal"].startswith(f'Tanggal "{day}" bukan tanggal yang ada')


def test_an_indonesian_written_date_is_read_too() -> None:
    assert entry(tanggal="3/12/2026").tanggal == dt.date(2026, 12, 3)
    assert entry(tanggal="03-12-2026").tanggal == dt.date(2026, 12, 3)


def test_title_is_one_line_and_bounded() -> None:
    assert entry(judul="Rapat\n  Pleno ").judul == "Rapat Pleno"
    assert read(judul="x" * 201)[1] == {
        "judul": "Judul terlalu panjang; paling banyak 200 karakter."}


def test_venue_must_be_registered_or_other_or_online() -> None:
    assert read(ruang="ruang-rahasia")[1] == {
        "ruang": "Tempat yang dipilih tidak terdaftar; pilih dari daftar tempat."}
    assert read(ruang="lain")[1] == {"lokasi": "Tulis nama dan alamat lokasi lain."}
    assert entry(ruang="lain", lokasi="Hotel Insumo,  Jl. Urip").lokasi == "Hotel Insumo, Jl. Urip"
    assert read(ruang="daring")[1] == {"tautan": "Tulis tautan rapat daring, diawali https://."}
    e = entry(ruang="daring", tautan="https://zoom.us/j/123?pwd=x", lokasi="ignored")
    assert (e.ruang, e.tautan, e.lokasi) == ("daring", "https://zoom.us/j/123?pwd=x", "")


@pytest.mark.parametrize("link", ["zoom.us/j/1", "ftp://x.example/", "javascript:alert(1)",
                                  "https://", "https://a b.example/", "https://x/" + "a" * 2000])
def test_an_online_link_is_a_web_address(link: str) -> None:
    assert read(ruang="daring", tautan=link)[1] == {
        "tautan": "Tautan harus alamat web lengkap yang diawali http:// atau https://, "
                  "tanpa spasi."}


def test_key_persons_are_registered_ids_in_registry_order() -> None:
    assert entry(pejabat=["sekda", "wali-kota", "sekda"]).pejabat == ("wali-kota", "sekda")
    assert read(pejabat=["wali-kota", "presiden"])[1] == {
        "pejabat": "Pejabat yang dipilih tidak terdaftar: presiden; pilih dari daftar pejabat."}
    assert entry(pejabat=[]).pejabat == ()


def test_free_text_naming_a_key_person_asks_for_the_person_field() -> None:
    errors = read(narasumber="Wali Kota Kediri; Dr. Budi")[1]
    assert errors == {"narasumber": "Narasumber menyebut pejabat terdaftar (Wali Kota Kediri); "
                                    "pilih pejabat itu di kolom Pejabat agar jadwalnya "
                                    "diperiksa."}
    errors = read(deskripsi="Agenda:\nHadir: Sekda dan Kepala Dinkes")[1]
    assert set(errors) == {"deskripsi"} and "Sekretaris Daerah Kota Kediri" in errors["deskripsi"]
    # an unlabelled line is never read as a person (docs/konvensi-pic.md)
    assert entry(deskripsi="Wali Kota akan memberi sambutan.").pejabat == ("wali-kota", "sekda")


@pytest.mark.parametrize(("kelas", "klass"), [("publik", "PUBLIC"), ("internal", "CONFIDENTIAL"),
                                              ("rahasia", "PRIVATE")])
def test_classes(kelas: str, klass: str) -> None:
    assert entry(kelas=kelas).klass == klass


def test_an_unknown_class_is_refused() -> None:
    assert read(kelas="PUBLIC")[1] == {
        "kelas": "Pilih sifat kegiatan: Publik, Internal atau Rahasia."}


def test_repetition_needs_an_end_after_the_day_within_two_years() -> None:
    assert read(ulang="mingguan")[1] == {
        "ulang_sampai": "Tanggal akhir pengulangan wajib diisi."}
    assert read(ulang="bulanan", ulang_sampai="2026-12-03")[1] == {
        "ulang_sampai": "Tanggal akhir pengulangan harus setelah tanggal kegiatan "
                        "(3 Desember 2026)."}
    assert read(ulang="mingguan", ulang_sampai="2028-12-03")[1] == {
        "ulang_sampai": "Pengulangan paling lama dua tahun: paling akhir 2 Desember 2028."}
    e = entry(ulang="mingguan", ulang_sampai="2028-12-02")
    assert (e.ulang, e.ulang_sampai) == ("mingguan", dt.date(2028, 12, 2))
    assert read(ulang="harian")[1] == {
        "ulang": "Pilih pengulangan: tidak berulang, mingguan atau bulanan."}
    assert read(ulang="asal")[1] == {
        "ulang": "Pilih pengulangan: tidak berulang, mingguan atau bulanan."}


def test_the_opd_is_checked_against_the_account_not_the_page() -> None:
    assert entry().opd == "dinkes"  # a PIC of one OPD: no field needed
    forbidden = {"opd": "Akun Anda tidak berhak mengisi kalender OPD ini; pilih OPD Anda sendiri."}
    assert read(opd="dinsos") == (None, forbidden)
    assert read(("dinkes", "diskominfo"))[1] == {"opd": "Pilih OPD penyelenggara."}
    found, _ = read(("dinkes", "diskominfo"), opd="diskominfo")
    assert found is not None and found.opd == "diskominfo"


def test_an_edit_left_as_it_was_is_not_judged_again() -> None:
    # a multi-day event made in an app reads back as 14.00-10.00: kept while untouched
    initial = form(mulai="14.00", selesai="10.00", ruang="", pejabat=[])
    initial["opd"] = "dinkes"
    found, errors = read(initial=initial, mulai="14:00", selesai="10.00", ruang="", pejabat=[],
                         judul="Judul baru")
    assert errors == {} and found is not None and found.judul == "Judul baru"
    found, errors = read(initial=initial, mulai="14.00", selesai="11.00", ruang="", pejabat=[])
    assert found is None and set(errors) == {"selesai"}  # the place is still as it was


# -- writing iCalendar ----------------------------------------------------------
def test_a_new_event_as_icalendar() -> None:
    e = entry(ulang="mingguan", ulang_sampai="2027-01-28", kelas="internal")
    uid = icalform.new_uid()
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}@kalender-opd", uid)
    assert icalform.file_name(uid) == uid.split("@")[0] + ".ics"
    text = icalform.build(e, CHOICES, uid, NOW)
    lines = text.replace("\r\n ", "").split("\r\n")
    for line in ["BEGIN:VTIMEZONE", "TZID:Asia/Jakarta", "TZOFFSETTO:+0700", f"UID:{uid}",
                 "SUMMARY:Rapat Koordinasi Stunting",
                 "DTSTART;TZID=Asia/Jakarta:20261203T130000",
                 "DTEND;TZID=Asia/Jakarta:20261203T150000",
                 "LOCATION:Ruang Joyoboyo\\, Balai Kota Kediri", "CLASS:CONFIDENTIAL",
                 "CATEGORIES:Kesehatan,Rapat", "RRULE:FREQ=WEEKLY;UNTIL=20270128T165959Z",
                 "DTSTAMP:20261101T080000Z", "SEQUENCE:0"]:
        assert line in lines
    event = vevent(text)
    assert str(event["DESCRIPTION"]) == (
        "Pejabat: Wali Kota Kediri; Sekretaris Daerah Kota Kediri\n"
        "Narasumber: Dr. Budi (Universitas Airlangga)\n\n"
        "Bahan: laporan triwulan.\nPeserta membawa data.")
    assert "ATTENDEE" not in event and "URL" not in event  # no e-mail registered for them
    assert "<" not in text  # plain lines: every app shows them as written


def test_the_clash_engine_reads_what_the_form_writes() -> None:
    text = icalform.build(entry(), CHOICES, "x@kalender-opd", NOW)
    event = vevent(text)
    assert CHOICES.matcher.venues(event) == (frozenset({"ruang-joyoboyo"}), ())
    assert CHOICES.matcher.persons(event) == {"wali-kota", "sekda"}
    assert CHOICES.matcher.unknown_persons(event) == ("Dr. Budi (Universitas Airlangga)",)
    found = extract(text, "dinkes", CHOICES.matcher, now=int(NOW.timestamp()))
    (booking,) = found.bookings
    start = int(dt.datetime(2026, 12, 3, 13, tzinfo=WIB).timestamp())
    assert (booking.start, booking.end, booking.opd, booking.uid) == (
        start, start + 7200, "dinkes", "x@kalender-opd")
    assert booking.venues == {"ruang-joyoboyo"} and booking.persons == {"wali-kota", "sekda"}
    assert found.locations == ()


@pytest.mark.parametrize("venue", sorted(CHOICES.venues))
def test_every_registered_venue_is_recognised_from_its_location(venue: str) -> None:
    event = vevent(icalform.build(entry(ruang=venue), CHOICES, "v@kalender-opd", NOW))
    assert CHOICES.matcher.venues(event) == (frozenset({venue}), ())


@pytest.mark.parametrize("person", sorted(CHOICES.persons))
def test_every_key_person_is_recognised(person: str) -> None:
    e = entry(pejabat=[person, "wali-kota"] if person != "wali-kota" else [person])
    event = vevent(icalform.build(e, CHOICES, "p@kalender-opd", NOW))
    assert CHOICES.matcher.persons(event) == set(e.pejabat)


def test_a_person_with_an_email_is_also_an_attendee() -> None:
    event = vevent(icalform.build(entry(pejabat=["kapolres"]), CHOICES, "a@kalender-opd", NOW))
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:kapolres@polri.example"
    assert dict(attendee.params) == {"CN": KAPOLRES.title, "ROLE": "REQ-PARTICIPANT"}
    assert CHOICES.matcher.persons(event) == {"kapolres"}


def test_a_title_with_a_comma_is_written_by_an_alias() -> None:
    odd = Person("kadis", "Kepala Dinas Kesehatan, Pengendalian Penduduk dan KB", (),
                 ("Kepala Dinkes",))
    choices = _choices((odd,))
    found, errors = compose.read(form(pejabat=["kadis"]), choices, ["dinkes"])
    assert errors == {} and found is not None
    event = vevent(icalform.build(found, choices, "c@kalender-opd", NOW))
    assert str(event["DESCRIPTION"]).startswith("Pejabat: Kepala Dinkes\n")
    assert choices.matcher.persons(event) == {"kadis"}


def test_online_and_other_places() -> None:
    e = entry(ruang="daring", tautan="https://zoom.us/j/99", pejabat=[])
    event = vevent(icalform.build(e, CHOICES, "d@kalender-opd", NOW))
    assert (str(event["LOCATION"]), str(event["URL"])) == ("Daring", "https://zoom.us/j/99")
    assert str(event["DESCRIPTION"]).startswith(
        "Narasumber: Dr. Budi (Universitas Airlangga)\nTautan: https://zoom.us/j/99\n\n")
    assert CHOICES.matcher.venues(event) == (frozenset(), ("Daring",))
    other = vevent(icalform.build(entry(ruang="lain", lokasi="Hotel Insumo Kediri"), CHOICES,
                                  "o@kalender-opd", NOW))
    assert str(other["LOCATION"]) == "Hotel Insumo Kediri" and "URL" not in other


def test_what_the_form_writes_reads_back_as_the_same_form() -> None:
    for e in [entry(), entry(ruang="daring", tautan="https://meet.google.com/abc-defg-hij"),
              entry(ruang="lain", lokasi="Aula Hotel", pejabat=[], narasumber="", deskripsi=""),
              entry(ulang="bulanan", ulang_sampai="2027-06-03", kelas="rahasia", kategori=""),
              entry(pejabat=["kapolres", "asisten-1"])]:
        text = icalform.build(e, CHOICES, "r@kalender-opd", NOW)
        back = icalform.form_values(text, CHOICES)
        assert back == {**compose.values_from_entry(e), "opd": ""}
        assert compose.read({**back, "opd": "dinkes"}, CHOICES, ["dinkes"]) == (e, {})


# -- events made in apps --------------------------------------------------------
APP_EVENT = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN\r
BEGIN:VTIMEZONE\r
TZID:SE Asia Standard Time\r
BEGIN:STANDARD\r
DTSTART:16010101T000000\r
TZOFFSETFROM:+0700\r
TZOFFSETTO:+0700\r
END:STANDARD\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
UID:app-1\r
DTSTAMP:20261001T000000Z\r
SEQUENCE:3\r
SUMMARY:Musrenbang Kecamatan\r
DTSTART;TZID=SE Asia Standard Time:20261207T090000\r
DTEND;TZID=SE Asia Standard Time:20261207T113000\r
RRULE:FREQ=WEEKLY;COUNT=4\r
EXDATE;TZID=SE Asia Standard Time:20261214T090000\r
LOCATION:R. Kilisuci Balaikota\r
X-APPLE-STRUCTURED-LOCATION;VALUE=URI;X-TITLE=Ruang Kilisuci:geo:-7.8,112.0\r
CLASS:PRIVATE\r
CATEGORIES:Perencanaan\r
CATEGORIES:Musrenbang\r
ORGANIZER;CN=PIC Bappeda:mailto:pic@bappeda.example\r
ATTENDEE;CN=Kapolresta;PARTSTAT=ACCEPTED:mailto:kapolres@polri.example\r
ATTENDEE;CN=Camat Kota;PARTSTAT=NEEDS-ACTION:mailto:camat@kota.example\r
ATTENDEE;CUTYPE=ROOM;CN=Ruang Kilisuci:mailto:ruang.kilisuci@kota.example\r
DESCRIPTION:Narasumber: Wali Kota Kediri\\; Prof. Sari\\nHadir: Wakil Wali K\r
 ota dan Kepala Bappeda\\n\\nMembahas usulan 2027.\\nAbaikan bentrok: uji\r
X-MOZ-GENERATION:7\r
ATTACH:https://kota.example/undangan.pdf\r
BEGIN:VALARM\r
ACTION:DISPLAY\r
DESCRIPTION:Pengingat\r
TRIGGER:-PT30M\r
END:VALARM\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:app-1\r
DTSTAMP:20261001T000000Z\r
RECURRENCE-ID;TZID=SE Asia Standard Time:20261221T090000\r
SUMMARY:Musrenbang Kecamatan (dipindah)\r
DTSTART;TZID=SE Asia Standard Time:20261221T130000\r
DTEND;TZID=SE Asia Standard Time:20261221T153000\r
LOCATION:Ruang Kilisuci\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_an_app_event_reads_into_the_form() -> None:
    values = icalform.form_values(APP_EVENT, CHOICES)
    assert values == {
        **compose.empty(), "status": "",  # no STATUS, no protocol lines, a link ATTACH only
        "judul": "Musrenbang Kecamatan", "tanggal": "2026-12-07", "mulai": "09.00",
        "selesai": "11.30", "ruang": "ruang-kilisuci", "lokasi": "", "tautan": "",
        "pejabat": ["wali-kota", "wakil-wali-kota", "kapolres"], "narasumber": "Prof. Sari",
        "opd": "", "deskripsi": "Hadir: Kepala Bappeda\n\nMembahas usulan 2027.\n"
                                "Abaikan bentrok: uji",
        "kelas": "rahasia", "kategori": "Perencanaan, Musrenbang", "ulang": "mingguan",
        "ulang_sampai": "2026-12-28"}


@pytest.mark.parametrize(("rule", "ulang", "until"), [
    ("FREQ=WEEKLY;UNTIL=20261228T020000Z", "mingguan", "2026-12-28"),
    ("FREQ=WEEKLY;BYDAY=MO;UNTIL=20261228", "mingguan", "2026-12-28"),
    ("FREQ=MONTHLY;BYMONTHDAY=7", "bulanan", ""),
    ("FREQ=WEEKLY;BYDAY=MO,WE", "asal", ""),
    ("FREQ=WEEKLY;INTERVAL=2", "asal", ""),
    ("FREQ=DAILY;COUNT=5", "asal", ""),
    ("FREQ=MONTHLY;BYDAY=1MO", "asal", ""),
    ("FREQ=MONTHLY;COUNT=3", "asal", ""),
])
def test_repetitions_the_form_can_say_and_those_it_keeps(rule: str, ulang: str,
                                                          until: str) -> None:
    text = APP_EVENT.replace("RRULE:FREQ=WEEKLY;COUNT=4", f"RRULE:{rule}")
    values = icalform.form_values(text, CHOICES)
    assert (values["ulang"], values["ulang_sampai"]) == (ulang, until)


def test_google_html_description_all_day_and_online_events() -> None:
    google = icalform.form_values(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:g\r\nDTSTAMP:20261001T000000Z\r\n"
        "DTSTART;VALUE=DATE:20261210\r\nDTEND;VALUE=DATE:20261212\r\nSUMMARY:Pameran\r\n"
        "LOCATION:Zoom\r\nURL:https://zoom.us/j/5\r\n"
        "DESCRIPTION:Pimpinan: Sekda<br>Agenda &amp; tata tertib<br><b>Penting</b>\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n", CHOICES)
    assert (google["tanggal"], google["mulai"], google["selesai"]) == ("2026-12-10", "", "")
    assert (google["ruang"], google["tautan"]) == ("daring", "https://zoom.us/j/5")
    assert google["pejabat"] == ["sekda"]
    assert google["deskripsi"] == "Agenda & tata tertib\nPenting"
    assert google["kelas"] == "publik" and google["ulang"] == "tidak"


# -- editing ------------------------------------------------------------------------
def _edit(text: str, **fields: str | list[str]) -> str:
    initial = icalform.form_values(text, CHOICES)
    values = {**initial, "opd": "bappeda"}
    for name, value in fields.items():
        values[name] = value
    found, errors = compose.read(values, CHOICES, ["bappeda"], initial)
    assert errors == {} and found is not None
    return icalform.apply(found, text, CHOICES, NOW)


def _unfolded(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_an_edit_left_unchanged_returns_the_stored_text() -> None:
    assert _edit(APP_EVENT) == APP_EVENT


def _props(component: icalendar.cal.Component) -> dict[str, list[tuple[bytes, dict[str, str]]]]:
    """Every property of a component: value as written and parameters (quoting aside)."""
    found: dict[str, list[tuple[bytes, dict[str, str]]]] = {}
    for name, value in component.property_items(recursive=False):
        if name not in ("BEGIN", "END"):
            found.setdefault(name, []).append((value.to_ical(),
                                               dict(getattr(value, "params", {}))))
    return found


def test_changing_the_title_keeps_everything_else() -> None:
    changed = _edit(APP_EVENT, judul="Musrenbang Kecamatan Kota")
    before_calendar = icalendar.Calendar.from_ical(APP_EVENT)
    after_calendar = icalendar.Calendar.from_ical(changed)
    (before, before_override), (after, after_override) = (
        list(before_calendar.walk("VEVENT")), list(after_calendar.walk("VEVENT")))
    old, new = _props(before), _props(after)
    assert new.pop("SUMMARY") == [(b"Musrenbang Kecamatan Kota", {})]
    assert new.pop("SEQUENCE") == [(b"4", {})]
    assert new.pop("DTSTAMP") == new.pop("LAST-MODIFIED") == [(b"20261101T080000Z", {})]
    for name in ("SUMMARY", "SEQUENCE", "DTSTAMP"):
        old.pop(name)
    assert new == old  # ORGANIZER, ATTENDEEs, ATTACH, X-..., EXDATE, RRULE: as written
    assert [_props(a) for a in after.subcomponents] == [_props(a) for a in before.subcomponents]
    assert _props(after_override) == _props(before_override)
    assert [_props(z) for z in after_calendar.walk("VTIMEZONE")] == [
        _props(z) for z in before_calendar.walk("VTIMEZONE")]


def test_moving_a_series_moves_its_exceptions_along() -> None:
    changed = _edit(APP_EVENT, mulai="10.00", selesai="12.30")
    lines = _unfolded(changed)
    assert "DTSTART;TZID=Asia/Jakarta:20261207T100000" in lines
    assert "DTEND;TZID=Asia/Jakarta:20261207T123000" in lines
    assert "TZID:Asia/Jakarta" in lines  # its VTIMEZONE added; the app's own one stays
    found = extract(changed, "bappeda", CHOICES.matcher, now=int(NOW.timestamp()))
    starts = sorted(dt.datetime.fromtimestamp(b.start, WIB).strftime("%m-%d %H.%M")
                    for b in found.bookings)
    # 14 Dec stays excluded, 21 Dec stays moved to 13.00 (not doubled at 10.00)
    assert starts == ["12-07 10.00", "12-21 13.00", "12-28 10.00"]


def test_changing_the_venue_drops_what_named_the_old_one() -> None:
    changed = _edit(APP_EVENT, ruang="ruang-command-center")
    event = vevent(changed)
    assert str(event["LOCATION"]) == "Ruang Command Center, Balai Kota Kediri"
    assert "X-APPLE-STRUCTURED-LOCATION" not in event
    assert CHOICES.matcher.venues(event) == (frozenset({"ruang-command-center"}), ())
    assert [str(a) for a in event["ATTENDEE"]] == ["mailto:kapolres@polri.example",
                                                   "mailto:camat@kota.example"]
    assert str(event["DESCRIPTION"]).startswith("Narasumber: Wali Kota Kediri; Prof. Sari")


def test_taking_a_person_off_removes_their_invitation_only() -> None:
    changed = _edit(APP_EVENT, pejabat=["wali-kota"])
    event = vevent(changed)
    assert [str(a) for a in event["ATTENDEE"]] == [
        "mailto:camat@kota.example", "mailto:ruang.kilisuci@kota.example"]
    assert str(event["DESCRIPTION"]) == (
        "Pejabat: Wali Kota Kediri\nNarasumber: Prof. Sari\n\nHadir: Kepala Bappeda\n\n"
        "Membahas usulan 2027.\nAbaikan bentrok: uji")
    assert CHOICES.matcher.persons(event) == {"wali-kota"}
    assert (str(event["X-MOZ-GENERATION"]), str(event["ATTACH"]), str(event["ORGANIZER"])) == (
        "7", "https://kota.example/undangan.pdf", "mailto:pic@bappeda.example")
    assert [c.name for c in event.subcomponents] == ["VALARM"]


def test_ending_the_repetition_drops_the_series_parts() -> None:
    calendar = icalendar.Calendar.from_ical(_edit(APP_EVENT, ulang="tidak"))
    (event,) = calendar.walk("VEVENT")
    assert "RRULE" not in event and "EXDATE" not in event
    assert [c.name for c in event.subcomponents] == ["VALARM"]


def test_an_app_repetition_the_form_cannot_say_is_kept() -> None:
    text = APP_EVENT.replace("RRULE:FREQ=WEEKLY;COUNT=4", "RRULE:FREQ=WEEKLY;BYDAY=MO,TH")
    changed = _edit(text, judul="Musrenbang")
    assert "RRULE:FREQ=WEEKLY;BYDAY=MO,TH" in _unfolded(changed)
    values = icalform.form_values(changed, CHOICES)
    assert values["ulang"] == "asal"


def test_an_all_day_event_stays_all_day_while_its_times_are_left_empty() -> None:
    text = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:h\r\n"
            "DTSTAMP:20261001T000000Z\r\nDTSTART;VALUE=DATE:20261210\r\n"
            "DTEND;VALUE=DATE:20261211\r\nSUMMARY:Hari Jadi\r\nLOCATION:Alun-Alun Kediri\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")
    changed = _edit(text, judul="Hari Jadi Kota", kelas="internal")
    assert "DTSTART;VALUE=DATE:20261210" in _unfolded(changed)
    assert "CLASS:CONFIDENTIAL" in _unfolded(changed)
    initial = icalform.form_values(text, CHOICES)
    _, errors = compose.read({**initial, "tanggal": "2026-12-11", "opd": "x"}, CHOICES, ["x"],
                             initial)
    assert errors == {"mulai": "Jam mulai wajib diisi.", "selesai": "Jam selesai wajib diisi."}


def test_an_entry_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry().judul = "x"  # type: ignore[misc]


def test_moving_to_and_from_an_online_meeting() -> None:
    online = _edit(APP_EVENT, ruang="daring", tautan="https://meet.google.com/abc-defg-hij")
    event = vevent(online)
    assert (str(event["LOCATION"]), str(event["URL"])) == (
        "Daring", "https://meet.google.com/abc-defg-hij")
    assert "Tautan: https://meet.google.com/abc-defg-hij" in str(event["DESCRIPTION"])
    assert CHOICES.matcher.venues(event)[0] == frozenset()
    values = icalform.form_values(online, CHOICES)
    assert (values["ruang"], values["tautan"]) == ("daring", "https://meet.google.com/abc-defg-hij")
    assert "Tautan" not in values["deskripsi"]
    back = vevent(_edit(online, ruang="gni"))
    assert "URL" not in back and "Tautan" not in str(back["DESCRIPTION"])
    assert str(back["LOCATION"]) == "Gedung Nasional Indonesia (GNI)"


# -- refusals as the form shows them ---------------------------------------------
@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> CachedRegistry:
    root = tmp_path_factory.mktemp("compose") / "kediri"
    assert cli.main(["init", str(root)]) == 0
    return CachedRegistry(Deployment(root))


def test_a_clash_answer_becomes_sentences_beside_fields_and_offers(
        registry: CachedRegistry) -> None:
    body = answers.dav_error(answers.k("no-venue-clash"), "Ruang Kilisuci sudah dipakai ...", [
        (answers.k("clash"), {"kind": "venue", "resource": "ruang-kilisuci", "opd": "dinsos",
                              "start": "20310305T020000Z", "end": "20310305T040000Z",
                              "occurrence-start": "20310305T030000Z",
                              "occurrence-end": "20310305T040000Z",
                              "title": "Sosialisasi Bansos"}),
        (answers.k("clash"), {"kind": "person", "resource": "sekda", "opd": "dinsos",
                              "start": "20310305T020000Z", "end": "20310305T040000Z"}),
        (answers.k("free-time"), {"start": "2031-03-05T11:00:00+07:00",
                                  "end": "2031-03-05T12:00:00+07:00",
                                  "venue": "ruang-kilisuci"}),
        (answers.k("free-time"), {"start": "2031-03-06T10:00:00+07:00",
                                  "end": "2031-03-06T11:00:00+07:00"}),
        (answers.k("free-venue"), {"id": "ruang-joyoboyo", "name": "Ruang Joyoboyo"}),
        (answers.k("free-venue"), {"id": "tidak-terdaftar", "name": "X"})])
    found = refusal.of_answer(403, body, registry, dt.date(2031, 3, 5))
    assert found.message == "Ruang Kilisuci sudah dipakai ..."
    assert found.errors == {
        "ruang": 'Ruang Kilisuci sudah dipakai Dinas Sosial Kota Kediri untuk "Sosialisasi '
                 'Bansos" pada Rabu 5 Mar 2031 09.00-11.00 WIB.',
        "pejabat": "Sekretaris Daerah Kota Kediri sudah dijadwalkan hadir di kegiatan tertutup "
                   "(Dinas Sosial Kota Kediri) pada Rabu 5 Mar 2031 09.00-11.00 WIB."}
    assert [(o.label, o.fields()) for o in found.offers] == [
        ("Pakai 11.00-12.00 di Ruang Kilisuci",
         {"tanggal": "2031-03-05", "mulai": "11.00", "selesai": "12.00",
          "ruang": "ruang-kilisuci"}),
        ("Pakai 10.00-11.00, Kamis 6 Mar 2031",
         {"tanggal": "2031-03-06", "mulai": "10.00", "selesai": "11.00"}),
        ("Pakai Ruang Joyoboyo", {"ruang": "ruang-joyoboyo"})]


def test_other_refusals_become_one_sentence(registry: CachedRegistry) -> None:
    assert refusal.of_answer(412, b"", registry).message == (
        "Kegiatan ini baru saja diubah di tempat lain; muat ulang halaman, lalu ulangi "
        "perubahan Anda.")
    many = answers.dav_error(answers.k("max-instances"), "Kegiatan berulang ini ...")
    assert refusal.of_answer(400, many, registry).errors == {"ulang": "Kegiatan berulang ini ..."}
    for body in (b"", b"<html>oops</html>", b"not xml", b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>"):
        assert refusal.of_answer(502, body, registry) == refusal.Refusal(
            "Kegiatan tidak tersimpan (kode 502); coba lagi.")


# -- issue 11: status, stand-ins, protocol details, the invitation PDF ----------------
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PEMDA = {"status": "tentatif", "diwakili_wali-kota": "wakil-wali-kota",
         "diwakili_lain_wali-kota": "", "diwakili_sekda": "lain",
         "diwakili_lain_sekda": "Kabag Umum (Sdr. Budi)", "pakaian": "PDH Khaki",
         "nomor_surat": "005/123/419.42/2026", "perihal": "Undangan Rakor Stunting",
         "narahubung": "Budi 081234567890", "sambutan": "ya"}


@dataclasses.dataclass(frozen=True)
class _Upload:
    filename: str
    content_type: str
    data: bytes


def test_status_stand_ins_and_protocol_are_written_as_apps_show_them() -> None:
    e = entry(**PEMDA)
    assert e.status == "tentatif"
    assert e.wakil == (("wali-kota", "wakil-wali-kota", "Wakil Wali Kota Kediri"),
                       ("sekda", "", "Kabag Umum (Sdr. Budi)"))
    event = vevent(icalform.build(e, CHOICES, "s@kalender-opd", NOW))
    assert str(event["STATUS"]) == "TENTATIVE"
    assert str(event["DESCRIPTION"]).split("\n") == [
        "Pejabat: Wali Kota Kediri; Sekretaris Daerah Kota Kediri",
        "Wali Kota Kediri diwakili oleh Wakil Wali Kota Kediri",
        "Sekretaris Daerah Kota Kediri diwakili oleh Kabag Umum (Sdr. Budi)",
        "Narasumber: Dr. Budi (Universitas Airlangga)",
        "Pakaian: PDH Khaki", "Nomor surat: 005/123/419.42/2026",
        "Perihal: Undangan Rakor Stunting", "Narahubung: Budi 081234567890", "Sambutan: Ya",
        "", "Bahan: laporan triwulan.", "Peserta membawa data."]
    # the clash engine checks the stand-in; both key persons are free for the time
    assert CHOICES.matcher.persons(event) == {"wakil-wali-kota"}


@pytest.mark.parametrize(("status", "value"), [
    ("definitif", "CONFIRMED"), ("tentatif", "TENTATIVE"), ("batal", "CANCELLED")])
def test_statuses(status: str, value: str) -> None:
    event = vevent(icalform.build(entry(status=status), CHOICES, "t@kalender-opd", NOW))
    assert str(event["STATUS"]) == value


def test_pemda_fields_read_back_as_the_same_form() -> None:
    for fields in (PEMDA, {"status": "batal", "sambutan": "tidak", "pakaian": "Batik"},
                   {"diwakili_kapolres": "asisten-1", "pejabat": ["kapolres"]}):
        e = entry(**fields)
        back = icalform.form_values(icalform.build(e, CHOICES, "r@kalender-opd", NOW), CHOICES)
        assert back == {**compose.values_from_entry(e), "opd": ""}
        assert compose.read({**back, "opd": "dinkes"}, CHOICES, ["dinkes"]) == (e, {})
        for key, value in fields.items():  # what the PIC chose, as the edit form shows it
            if key.startswith("diwakili_"):
                prefix = "diwakili_lain" if key.startswith("diwakili_lain_") else "diwakili"
                assert back[prefix].get(key[len(prefix) + 1:], "") == value, key
            else:
                assert back[key] == value, key


def test_stand_in_mistakes_are_said_beside_the_person() -> None:
    assert read(**{"diwakili_sekda": "sekda"})[1] == {
        "diwakili_sekda": "Sekretaris Daerah Kota Kediri tidak dapat mewakili dirinya sendiri."}
    assert "tidak terdaftar" in read(**{"diwakili_sekda": "bupati"})[1]["diwakili_sekda"]
    assert "Tulis nama" in read(**{"diwakili_sekda": "lain"})[1]["diwakili_sekda"]
    # a registered person typed as free text is that person; one not chosen is ignored
    e = entry(**{"diwakili_sekda": "lain", "diwakili_lain_sekda": "Asisten I",
                 "diwakili_asisten-2": "wakil-wali-kota"})
    assert e.wakil == (("sekda", "asisten-1", CHOICES.persons["asisten-1"].title),)


def test_protocol_mistakes() -> None:
    errors = read(sambutan="mungkin", pakaian="x" * 101, status="ditunda")[1]
    assert set(errors) == {"sambutan", "pakaian", "status"}


APP_PEMDA = APP_EVENT.replace(
    "DESCRIPTION:Narasumber: Wali Kota Kediri\\; Prof. Sari\\nHadir: Wakil Wali K\r\n"
    " ota dan Kepala Bappeda\\n\\nMembahas usulan 2027.\\nAbaikan bentrok: uji\r\n",
    "DESCRIPTION:Hadir: Wali Kota\\n- pakaian : pdh\\nNo. Surat: 005/9\\nHal: Undangan"
    "\\nCP: Sari 0812\\nSambutan: -\\nWali Kota diwakili oleh Wakil Walikota\\n\\nMembahas "
    "usulan 2027.\r\n")


def test_lines_typed_in_an_app_fill_the_fields() -> None:
    assert "pdh" in APP_PEMDA
    values = icalform.form_values(APP_PEMDA, CHOICES)
    assert (values["pakaian"], values["nomor_surat"], values["perihal"], values["narahubung"],
            values["sambutan"]) == ("PDH", "005/9", "Undangan", "Sari 0812", "tidak")
    assert values["diwakili"] == {"wali-kota": "wakil-wali-kota"}
    assert values["pejabat"] == ["wali-kota", "kapolres"]
    assert values["deskripsi"] == "Membahas usulan 2027."
    assert values["status"] == ""  # no STATUS: the form shows Definitif, the edit keeps none


def test_an_edit_keeps_no_status_unless_it_is_changed() -> None:
    assert "STATUS" not in vevent(_edit(APP_EVENT, judul="Musrenbang"))
    assert "STATUS" not in vevent(_edit(APP_EVENT, judul="Musrenbang", status="definitif"))
    assert str(vevent(_edit(APP_EVENT, status="tentatif"))["STATUS"]) == "TENTATIVE"
    cancelled = _edit(_edit(APP_EVENT, status="batal"), status="definitif")
    assert str(vevent(cancelled)["STATUS"]) == "CONFIRMED"


def test_changing_a_protocol_detail_keeps_the_rest_of_the_description() -> None:
    changed = vevent(_edit(APP_PEMDA, pakaian="Batik"))
    lines = str(changed["DESCRIPTION"]).split("\n")
    assert "Pakaian: Batik" in lines and "Sambutan: Tidak" in lines
    assert "Wali Kota Kediri diwakili oleh Wakil Wali Kota Kediri" in lines
    assert lines[-1] == "Membahas usulan 2027."
    assert [c.name for c in changed.subcomponents] == ["VALARM"]  # kept as the app wrote it


def _attach(text: str) -> list[tuple[bytes, dict[str, str]]]:
    return [(a.to_ical(), dict(a.params)) for a in icalform.as_list(vevent(text).get("ATTACH"))]


def test_the_invitation_is_an_inline_pdf_attachment() -> None:
    upload = _Upload("Undangan Rakor.pdf", "application/pdf", PDF)
    e, errors = compose.read(form(undangan_publik="ya"), CHOICES, ["dinkes"], upload=upload)
    assert errors == {} and e is not None
    text = icalform.build(e, CHOICES, "u@kalender-opd", NOW)
    assert "ATTACH;ENCODING=BASE64;FMTTYPE=application/pdf;VALUE=BINARY;X-FILENAME=Undanga" \
        in text.replace("\r\n ", "")
    ((data, params),) = _attach(text)
    assert params == {"ENCODING": "BASE64", "FMTTYPE": "application/pdf", "VALUE": "BINARY",
                      "X-FILENAME": "Undangan Rakor.pdf", "X-KALENDER-PUBLIK": "TRUE"}
    assert icalendar.vBinary.from_ical(data.decode()) == PDF
    values = icalform.form_values(text, CHOICES)
    assert (values["lampiran"], values["undangan_publik"]) == ("Undangan Rakor.pdf", "ya")
    # an edit without a file keeps it; unticking "publik" only drops the mark
    assert _edit(text, judul="Rakor") != text and _attach(_edit(text, judul="Rakor")) == \
        _attach(text)
    ((_, private),) = _attach(_edit(text, undangan_publik=""))
    assert "X-KALENDER-PUBLIK" not in private
    # "hapus lampiran" removes it, and only it (an app's link stays)
    linked = _edit(APP_EVENT, judul="Rakor")
    assert _attach(_edit(linked, hapus_lampiran="ya")) == _attach(linked)
    assert _attach(_edit(text, hapus_lampiran="ya")) == []


def test_a_new_file_replaces_the_stored_one() -> None:
    first = compose.read(form(), CHOICES, ["dinkes"],
                         upload=_Upload("a.pdf", "application/pdf", PDF))[0]
    assert first is not None
    text = icalform.build(first, CHOICES, "u@kalender-opd", NOW)
    initial = icalform.form_values(text, CHOICES)
    second, errors = compose.read({**initial, "opd": "dinkes"}, CHOICES, ["dinkes"], initial,
                                  _Upload("b.pdf", "application/pdf", PDF + b"%b\n"))
    assert errors == {} and second is not None
    ((data, params),) = _attach(icalform.apply(second, text, CHOICES, NOW))
    assert params["X-FILENAME"] == "b.pdf"
    assert icalendar.vBinary.from_ical(data.decode()).endswith(b"%b\n")


@pytest.mark.parametrize(("upload", "sentence"), [
    (_Upload("surat.docx", "application/msword", b"PK\x03\x04 word"), "harus berupa PDF"),
    (_Upload("surat.pdf", "application/pdf", b"<html>not a pdf</html>"), "harus berupa PDF"),
    (_Upload("foto.png", "image/png", PDF), "harus berupa PDF"),
    (_Upload("surat.pdf", "application/pdf", b""), "kosong"),
    (_Upload("besar.pdf", "application/pdf", PDF + b"0" * (2 * 1024 * 1024)), "2 MB"),
])
def test_only_a_pdf_of_at_most_two_megabytes(upload: _Upload, sentence: str) -> None:
    e, errors = compose.read(form(), CHOICES, ["dinkes"], upload=upload)
    assert e is None and sentence in errors["undangan"]


def test_a_pdf_the_browser_did_not_type_is_read_by_its_signature() -> None:
    e = compose.read(form(), CHOICES, ["dinkes"],
                     upload=_Upload('C:"x"\x01.pdf', "application/octet-stream", PDF))[0]
    assert e is not None and e.undangan is not None and e.undangan.filename == "C:x.pdf"
