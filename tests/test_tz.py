"""TZID resolution: every spelling real clients send, and refusal of the unknown."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from icalendar import Calendar, Component, Timezone

from kalender.clash.tz import JAKARTA, resolve_tzid
from kalender.errors import UnknownTimezoneError

WINTER = datetime(2025, 1, 15, 12, 0)  # wall-clock times used to read the offset
SUMMER = datetime(2025, 7, 15, 12, 0)


def offset(tzid: str, when: datetime = WINTER, zones: dict[str, Component] | None = None
           ) -> timedelta | None:
    return when.replace(tzinfo=resolve_tzid(tzid, zones or {})).utcoffset()


def vtimezones(text: str) -> dict[str, Component]:
    """The VTIMEZONEs of a calendar text, keyed by TZID as written."""
    calendar = Calendar.from_ical(text.replace("\n", "\r\n"))
    return {str(c["TZID"]): c for c in calendar.walk("VTIMEZONE")}


def vtimezone(tzid: str, offset_to: str, extra: str = "") -> str:
    return (f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VTIMEZONE\nTZID:{tzid}\n{extra}"
            f"BEGIN:STANDARD\nDTSTART:19000101T000000\nTZOFFSETFROM:{offset_to}\n"
            f"TZOFFSETTO:{offset_to}\nEND:STANDARD\nEND:VTIMEZONE\nEND:VCALENDAR\n")


WIB, WITA, WIT = timedelta(hours=7), timedelta(hours=8), timedelta(hours=9)


@pytest.mark.parametrize(("tzid", "expected"), [
    # IANA names, also with the noise clients wrap around them
    ("Asia/Jakarta", WIB), ("Asia/Makassar", WITA), ("Asia/Jayapura", WIT),
    ("Asia/Pontianak", WIB), (" Asia/Jakarta ", WIB), ('"Asia/Jakarta"', WIB),
    ("asia/jakarta", WIB), ("Asia/Jakarta:", WIB), ("UTC", timedelta(0)),
    ("Etc/GMT-7", WIB),
    # Windows ids (icalendar's CLDR table; SE Asia is pinned to Jakarta)
    ("SE Asia Standard Time", WIB), ("W. Europe Standard Time", timedelta(hours=1)),
    ("Singapore Standard Time", WITA), ("Tokyo Standard Time", WIT),
    ("Pacific Standard Time:", timedelta(hours=-8)),  # Thunderbird's trailing colon
    ("Arabian Standard Time", timedelta(hours=4)),
    # Outlook display names, with and without the "(UTC+hh:mm)" prefix
    ("(UTC+07:00) Bangkok, Hanoi, Jakarta", WIB), ("(GMT+07.00) Bangkok, Hanoi, Jakarta", WIB),
    ("Bangkok, Hanoi, Jakarta", WIB), ("Kuala Lumpur, Singapore", WITA),
    ('"Kuala Lumpur, Singapore"', WITA), ("Canberra, Melbourne, Sydney", timedelta(hours=11)),
    ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", timedelta(hours=1)),
    ("Mitteleuropäische Zeit ", timedelta(hours=1)),  # localized, trailing space
    ("Екатеринбург", timedelta(hours=5)),  # Outlook 12, 8-bit Cyrillic
    # Indonesian names
    ("WIB", WIB), ("WITA", WITA), ("WIT", WIT), ("Waktu Indonesia Tengah", WITA),
    # Evolution / libical globally unique ids
    ("/freeassociation.sourceforge.net/Tzfile/Asia/Jakarta", WIB),
    ("/freeassociation.sourceforge.net/Asia/Jakarta", WIB),
    ("/freeassociation.sourceforge.net/Tzfile/Europe/Vienna", timedelta(hours=1)),
    ("/mozilla.org/20070129_1/America/Argentina/Buenos_Aires", timedelta(hours=-3)),
    # an explicit fixed offset is unambiguous
    ("UTC+07:00", WIB), ("GMT+0530", timedelta(hours=5, minutes=30)),
])
def test_names_resolve_without_vtimezone(tzid: str, expected: timedelta) -> None:
    assert offset(tzid) == expected


def test_dst_zones_are_real_zones_not_fixed_offsets() -> None:
    assert offset("W. Europe Standard Time", SUMMER) == timedelta(hours=2)
    assert offset("/freeassociation.sourceforge.net/Tzfile/Europe/Vienna", SUMMER) == \
        timedelta(hours=2)


@pytest.mark.parametrize("tzid", [
    "Kediri Standard Time", "", "   ", "Asia/Kediri", "../../etc/passwd", "/Asia/Nowhere",
    "GMT +0100 (Standard) / GMT +0200 (Daylight)",
])
def test_unknown_without_vtimezone_raises(tzid: str) -> None:
    with pytest.raises(UnknownTimezoneError) as info:
        resolve_tzid(tzid, {})
    assert info.value.tzid == tzid.strip()
    assert info.value.status == 400


def test_x_lic_location_names_the_zone() -> None:
    zones = vtimezones(vtimezone("Zona Kantor", "+0000", "X-LIC-LOCATION:Asia/Makassar\n"))
    assert offset("Zona Kantor", zones=zones) == WITA  # X-LIC-LOCATION beats the definition


def test_embedded_definition_with_seconds_in_the_offset() -> None:
    # Batavia Mean Time, +07:07:12, as Apple writes offsets with seconds (+023017)
    zones = vtimezones(vtimezone("Asia/Batavia", "+070712"))
    assert offset("Asia/Batavia", zones=zones) == timedelta(hours=7, minutes=7, seconds=12)


def test_exchange_cdo_name_resolves_through_its_definition() -> None:
    tzid = "GMT +0700 (Standard) / GMT +0700 (Daylight)"
    assert offset(tzid, zones=vtimezones(vtimezone(tzid, "+0700"))) == WIB


def test_definition_is_found_despite_trailing_space_and_quotes() -> None:
    # Thunderbird: the VTIMEZONE keeps "Zeit " while icalendar strips the parameter.
    zones = vtimezones(vtimezone("Waktu Kediri – WIB ", "+0700"))
    assert offset("Waktu Kediri – WIB", zones=zones) == WIB
    assert offset('"Waktu Kediri – WIB"', zones=zones) == WIB


def test_escaped_comma_in_vtimezone_matches_quoted_parameter() -> None:
    zones = vtimezones(vtimezone("Kantor Cabang\\, Makassar", "+0800"))
    assert offset("Kantor Cabang, Makassar", zones=zones) == WITA


def test_known_name_wins_over_contradicting_definition() -> None:
    # khal's sample: "New Zealand Standard Time" whose VTIMEZONE says CET (+01:00);
    # Apple's: an IANA TZID whose VTIMEZONE says +02:30:17.
    zones = vtimezones(vtimezone("New Zealand Standard Time", "+0100"))
    assert offset("New Zealand Standard Time", zones=zones) == timedelta(hours=13)
    zones = vtimezones(vtimezone("Europe/Moscow", "+023017"))
    assert offset("Europe/Moscow", zones=zones) == timedelta(hours=3)


def test_definition_without_rules_is_unknown() -> None:
    empty = Timezone()
    empty.add("TZID", "Rusak")  # built by hand: icalendar's parser itself rejects it
    with pytest.raises(UnknownTimezoneError):
        resolve_tzid("Rusak", {"Rusak": empty})


def test_jakarta_is_wib() -> None:
    assert WINTER.replace(tzinfo=JAKARTA).utcoffset() == WIB
    assert SUMMER.replace(tzinfo=JAKARTA).utcoffset() == WIB
