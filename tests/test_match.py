"""Recognising Kota Kediri venues and key persons in what each client can set."""

from __future__ import annotations

from pathlib import Path

import pytest
from icalendar import Calendar, Event, vCalAddress, vText

from kalender.clash.match import Matcher
from kalender.clash.rules import Person, Venue
from kalender.clash.words import normalise

FIXTURES = Path(__file__).parent / "fixtures" / "ics"

# A slice of the Kota Kediri registry (names and aliases as in the research CSV).
VENUES = (
    Venue("ruang-joyoboyo", "Ruang Joyoboyo", "Balai Kota Kediri", (
        "Ruang Joyoboyo Balai Kota Kediri", "R. Joyoboyo", "Ruang Rapat Joyoboyo",
        "Ruang Joyoboyo Pemkot Kediri", "Ruang Joyoboyo Balaikota Kediri",
        "Ruang Jayabaya (probable alias)")),
    Venue("ruang-kilisuci", "Ruang Kilisuci", "Balai Kota Kediri", (
        "Ruang Kilisuci Balaikota Kediri", "Ruang Kilisuci Pemerintah Kota Kediri",
        "R. Kilisuci")),
    Venue("ruang-command-center", "Ruang Command Center", "Balai Kota Kediri", (
        "Command Center Balaikota Kediri", "Ruang Command Center Balaikota Kediri")),
    Venue("halaman-balai-kota", "Halaman Balai Kota Kediri", "Balai Kota Kediri", (
        "Halaman Balaikota Kediri", "Balai Kota Kediri", "Balaikota Kediri")),
    Venue("gni", "Gedung Nasional Indonesia", "Gedung Nasional Indonesia (GNI)", (
        "GNI", "Gedung GNI", "GNI Kota Kediri")),
    Venue("gni-timur", "Sayap Timur GNI", "Gedung Nasional Indonesia (GNI)", parent="gni"),
    Venue("gor-joyoboyo", "GOR Joyoboyo", "Gelanggang Olahraga Jayabaya", (
        "GOR Jayabaya", "Gelanggang Olahraga Jayabaya")),
    Venue("alun-alun", "Alun-Alun Kota Kediri", "Alun-Alun Kota Kediri", ("Alun-alun Kediri",)),
    Venue("rumah-dinas-wali-kota", "Rumah Dinas Wali Kota Kediri",
          "Rumah Dinas Wali Kota Kediri", ("Rumdin Wali Kota Kediri",)),
    Venue("selomangleng", "Kawasan Wisata Selomangleng", "Goa Selomangleng",
          ("Goa Selomangleng", "Selomangleng")),
    Venue("taman-sekartaji", "Taman Sekartaji", "Taman Sekartaji", ("Taman Sekar Taji",)),
    Venue("mpp", "Mal Pelayanan Publik Kota Kediri", "Dhoho Plaza lantai 2",
          ("MPP Kota Kediri", "Mall Pelayanan Publik Kota Kediri")),
)
PERSONS = (
    Person("wali-kota", "Wali Kota Kediri", ("walikota@kedirikota.go.id",), ("Mbak Wali",)),
    Person("wakil-wali-kota", "Wakil Wali Kota Kediri"),
    Person("pj-wali-kota", "Penjabat (Pj) Wali Kota Kediri"),
    Person("sekda", "Sekretaris Daerah Kota Kediri", ("sekda@kedirikota.go.id",)),
    Person("asisten-1", "Asisten Pemerintahan dan Kesejahteraan Rakyat (Asisten I) "
           "Sekretariat Daerah Kota Kediri"),
    Person("kadinkes", "Kepala Dinas Kesehatan Kota Kediri", (), ("Kepala Dinkes",)),
)
MATCHER = Matcher(VENUES, PERSONS)


def fixture_event(name: str, index: int = 0) -> Event:
    calendar = Calendar.from_ical((FIXTURES / name).read_bytes())
    return calendar.walk("VEVENT")[index]


def event(**props: object) -> Event:
    ev = Event()
    for name, value in props.items():
        for v in value if isinstance(value, list) else [value]:
            ev.add(name.replace("_", "-"), v)
    return ev


def attendee(address: str, **params: str) -> vCalAddress:
    value = vCalAddress(address)
    for key, param in params.items():
        value.params[key] = param
    return value


@pytest.mark.parametrize(("text", "expected"), [
    ("R. Joyoboyo Balaikota Kediri", "ruang joyoboyo balaikota"),
    ("Ruang Joyoboyo, Balai Kota Kediri", "ruang joyoboyo balaikota"),
    ("R Joyoboyo", "ruang joyoboyo"),
    ("Ruang Joyoboyo Pemkot Kediri", "ruang joyoboyo"),
    ("Ruang Kilisuci Pemerintah Kota Kediri", "ruang kilisuci"),
    ("Gd. Nasional Indonesia", "gedung nasional indonesia"),
    ("  ALUN-ALUN   Kota Kediri ", "alun alun"),
    ("Wali Kota Kediri", "walikota"), ("Walikota", "walikota"),
    ("Wakil Wali Kota Kediri", "wakil walikota"), ("Wawali", "wakil walikota"),
    ("Penjabat (Pj) Wali Kota Kediri", "penjabat walikota"), ("Pj. Wali Kota", "penjabat walikota"),
    ("Sekda", "sekretaris daerah"), ("Sekretaris Daerah (Sekda)", "sekretaris daerah"),
    ("Kediri", "kediri"), ("Kota Kediri", "kota"),
])
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(("location", "expected"), [
    ("Ruang Joyoboyo", {"ruang-joyoboyo"}),
    ("R. Joyoboyo Balaikota Kediri", {"ruang-joyoboyo"}),
    ("r.joyoboyo", {"ruang-joyoboyo"}),
    ("Ruang Jayabaya", {"ruang-joyoboyo"}),  # alias with a "(probable alias)" note
    # several parts: the most specific wins over the building that contains it
    ("Ruang Joyoboyo, Balai Kota Kediri", {"ruang-joyoboyo"}),
    ("Balai Kota Kediri; R. Kilisuci; Jl. Basuki Rahmat No. 15", {"ruang-kilisuci"}),
    ("Balai Kota Kediri", {"halaman-balai-kota"}),
    ("Sayap Timur GNI, GNI", {"gni-timur"}),  # the part wins over its hall
    ("Ruang Joyoboyo; Ruang Kilisuci", {"ruang-joyoboyo", "ruang-kilisuci"}),
    # the examples of docs/konvensi-pic.md
    ("Ruang Command Center, Balai Kota Kediri", {"ruang-command-center"}),
    ("R. Kilisuci Balaikota", {"ruang-kilisuci"}),
    ("Gedung Nasional Indonesia", {"gni"}),
    # contained as whole words
    ("Lantai 2 R. Kilisuci (samping lift)", {"ruang-kilisuci"}),
    ("Pendopo Alun-alun Kediri sisi barat", {"alun-alun"}),
    ("Mall Pelayanan Publik, Dhoho Plaza", {"mpp"}),
    # outside places
    ("Hotel Insumo Palace", set()), ("Zoom Meeting", set()), ("Joyoboyo", set()),
    ("GNIX", set()),
])
def test_location_text(location: str, expected: set[str]) -> None:
    venues, unmatched = MATCHER.venues(event(location=location))
    assert venues == expected
    assert unmatched == (() if expected else (" ".join(location.split()),))


def test_unmatched_locations_are_reported_once_each() -> None:
    ev = event(location="Hotel Insumo Palace\nJl. Urip Sumoharjo",
               attendee=attendee("mailto:aula@hotel.example", CUTYPE="ROOM", CN="Aula Hotel"))
    assert MATCHER.venues(ev) == (frozenset(), ("Hotel Insumo Palace Jl. Urip Sumoharjo",
                                                "Aula Hotel"))


def test_apple_structured_location_title_is_more_specific_than_address() -> None:
    venues, unmatched = MATCHER.venues(fixture_event("apple_structured_location.ics"))
    assert venues == {"ruang-joyoboyo"}  # LOCATION only says "Balai Kota Kediri\nJl. ..."
    assert unmatched == ()


def test_outlook_room_attendee_by_cn_or_mailbox() -> None:
    ev = fixture_event("outlook_exchange_windows_tzid.ics")
    del ev["LOCATION"]
    assert MATCHER.venues(ev) == ({"ruang-joyoboyo"}, ())
    by_mailbox = event(attendee=attendee("MAILTO:r.kilisuci@kedirikota.go.id", CUTYPE="RESOURCE",
                                         CN="Booking 42"))
    assert MATCHER.venues(by_mailbox) == ({"ruang-kilisuci"}, ())


def test_outlook_persons_from_attendees() -> None:
    # Wali Kota by address (case differs), the declined Sekda and the room are skipped
    assert MATCHER.persons(fixture_event("outlook_exchange_windows_tzid.ics")) == {"wali-kota"}


@pytest.mark.parametrize(("params", "expected"), [
    ({"CN": "Sekda"}, {"sekda"}),
    ({"CN": "Wali Kota Kediri", "PARTSTAT": "ACCEPTED"}, {"wali-kota"}),
    ({"CN": "Wali Kota Kediri", "PARTSTAT": "DECLINED"}, set()),
    ({"CN": "Wali Kota Kediri", "CUTYPE": "ROOM"}, set()),
    ({"CN": "Staf Sekretariat Wali Kota"}, set()),  # a CN must match exactly
])
def test_attendee_cn(params: dict[str, str], expected: set[str]) -> None:
    assert MATCHER.persons(event(attendee=attendee("mailto:x@example.org", **params))) == expected


@pytest.mark.parametrize(("description", "expected"), [
    ("Narasumber: Wali Kota Kediri; Kepala Dinkes", {"wali-kota", "kadinkes"}),
    ("Pimpinan: Sekda", {"sekda"}),
    ("HADIR: Walikota, Wawali dan Sekda", {"wali-kota", "wakil-wali-kota", "sekda"}),
    ("Agenda rapat\n- Hadir: Pj. Wali Kota & Sekda\nCatatan: bawa laporan",
     {"pj-wali-kota", "sekda"}),
    ("Pimpinan upacara: Sekda", {"sekda"}),
    ("Dihadiri oleh: Mbak Wali", {"wali-kota"}),
    # a partial title: "Pemerintahan" is a distinctive word of Asisten I alone
    ("Pejabat: Asisten Pemerintahan dan Kesejahteraan Rakyat", {"asisten-1"}),
    ("Pejabat: Asisten Pemerintahan dan Kesejahteraan Rakyat (Asisten I) Sekretariat "
     "Daerah Kota Kediri", {"asisten-1"}),  # " dan " inside a title is not a separator
    ("Narasumber: Wali Kota Kediri (Vinanda Prameswari)", {"wali-kota"}),
    ("Pimpinan: Sekda\nNarasumber: Wali Kota Kediri; Kepala Dinkes\n"
     "Hadir: Wakil Wali Kota dan Asisten I", {"sekda", "wali-kota", "kadinkes",
                                              "wakil-wali-kota", "asisten-1"}),
    ("Narasumber: Wakil Wali Kota Kediri", {"wakil-wali-kota"}),  # not also the Wali Kota
    ("Wali Kota Kediri akan hadir", set()),  # no label, no match
    ("Catatan: Sekda berhalangan", set()),  # another label
    ("Narasumber: Wali Kota<br>Hadir: Sekda &amp; Kepala Dinkes",
     {"wali-kota", "sekda", "kadinkes"}),  # Google's HTML
])
def test_description_labels(description: str, expected: set[str]) -> None:
    assert MATCHER.persons(event(description=description)) == expected


@pytest.mark.parametrize(("name", "venues", "persons"), [
    ("thunderbird_weekly_override.ics", {"ruang-joyoboyo"}, {"sekda", "kadinkes"}),
    ("outlook12_display_name.ics", {"gni"}, {"asisten-1"}),
    ("outlook12_kuala_lumpur.ics", {"ruang-command-center"}, {"wali-kota"}),
    ("davx5_duration_xlic.ics", {"gor-joyoboyo"}, {"wakil-wali-kota", "kadinkes"}),
    ("evolution_freeassociation.ics", {"alun-alun"}, {"sekda"}),
    ("google_xwr_moved.ics", {"ruang-command-center"}, {"wali-kota", "sekda", "kadinkes"}),
    ("floating.ics", {"ruang-joyoboyo"}, {"wali-kota"}),
    ("trailing_space_tzid.ics", {"rumah-dinas-wali-kota"}, {"sekda"}),
])
def test_each_client_fixture(name: str, venues: set[str], persons: set[str]) -> None:
    ev = fixture_event(name)
    assert MATCHER.venues(ev) == (venues, ())
    assert MATCHER.persons(ev) == persons


def test_override_is_matched_on_its_own_properties() -> None:
    override = fixture_event("thunderbird_weekly_override.ics", index=1)
    assert MATCHER.venues(override) == ({"ruang-kilisuci"}, ())
    assert MATCHER.persons(override) == {"wali-kota"}


def test_empty_registry_and_empty_event() -> None:
    assert Matcher([], []).venues(event(location="Ruang Joyoboyo")) == (
        frozenset(), ("Ruang Joyoboyo",))
    assert MATCHER.venues(event(summary="Rapat")) == (frozenset(), ())
    assert MATCHER.persons(event(summary="Rapat")) == frozenset()
    assert MATCHER.venues(event(location=vText("   "))) == (frozenset(), ())
