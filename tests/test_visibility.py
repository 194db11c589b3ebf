"""The one visibility rule (RFC 5545 §3.8.1.3), as plain values: class, audience, what is shown."""

from __future__ import annotations

import icalendar
import pytest

from kalender import visibility as v
from kalender.visibility import CONFIDENTIAL, PRIVATE, PUBLIC, Audience, Shown


@pytest.mark.parametrize(("value", "expected"), [
    (None, PUBLIC),  # no CLASS: the RFC's default
    ("PUBLIC", PUBLIC), ("public", PUBLIC), (" Public ", PUBLIC),
    ("CONFIDENTIAL", CONFIDENTIAL), ("confidential\t", CONFIDENTIAL),
    ("PRIVATE", PRIVATE), ("PRIVATE ", PRIVATE), ("Private", PRIVATE),
    # unknown values are treated as PRIVATE (§3.8.1.3), an empty one too
    ("X-RAHASIA", PRIVATE), ("PUBLIK", PRIVATE), ("", PRIVATE), ("PUBLIC;X", PRIVATE),
    (icalendar.vText("CONFIDENTIAL"), CONFIDENTIAL),
])
def test_class_of_value(value: object, expected: str) -> None:
    assert v.class_of_value(value) == expected


@pytest.mark.parametrize(("own", "series", "expected"), [
    (None, None, PUBLIC), ("PRIVATE", None, PRIVATE),  # a master, or an override alone
    # an override is at least as restricted as its series...
    (None, PUBLIC, PUBLIC), (None, CONFIDENTIAL, CONFIDENTIAL), (None, PRIVATE, PRIVATE),
    ("PUBLIC", CONFIDENTIAL, CONFIDENTIAL), ("PUBLIC", PRIVATE, PRIVATE),
    ("CONFIDENTIAL", PRIVATE, PRIVATE),
    # ... and may be more restricted
    ("CONFIDENTIAL", PUBLIC, CONFIDENTIAL), ("PRIVATE", PUBLIC, PRIVATE),
    ("PRIVATE", CONFIDENTIAL, PRIVATE), ("X-RAHASIA", PUBLIC, PRIVATE),
    ("private ", CONFIDENTIAL, PRIVATE),
])
def test_event_class(own: str | None, series: str | None, expected: str) -> None:
    component = {"CLASS": own} if own is not None else {}
    assert v.event_class(component, series) == expected


@pytest.mark.parametrize(("classes", "expected"), [
    ((PUBLIC, PUBLIC), PUBLIC), ((PUBLIC, CONFIDENTIAL), CONFIDENTIAL),
    ((PRIVATE, CONFIDENTIAL), PRIVATE), ((), PUBLIC), (("X-UNKNOWN", PUBLIC), "X-UNKNOWN"),
])
def test_stricter(classes: tuple[str, ...], expected: str) -> None:
    assert v.stricter(*classes) == expected


#: Every class for every audience.
SHOWN = [
    (PUBLIC, Audience.PUBLIC, Shown.PUBLIC),
    (CONFIDENTIAL, Audience.PUBLIC, Shown.BUSY),
    (PRIVATE, Audience.PUBLIC, Shown.HIDDEN),
    (PUBLIC, Audience.OTHER_OPD, Shown.PUBLIC),
    (CONFIDENTIAL, Audience.OTHER_OPD, Shown.OCCUPIED),
    (PRIVATE, Audience.OTHER_OPD, Shown.OCCUPIED),
    *[(c, a, Shown.FULL) for c in (PUBLIC, CONFIDENTIAL, PRIVATE)
      for a in (Audience.LEADERS, Audience.OWNER)],
    ("X-RAHASIA", Audience.PUBLIC, Shown.HIDDEN),  # a raw unknown value is PRIVATE too
    ("X-RAHASIA", Audience.OTHER_OPD, Shown.OCCUPIED),
]


@pytest.mark.parametrize(("cls", "audience", "expected"), SHOWN)
def test_shown(cls: str, audience: Audience, expected: Shown) -> None:
    assert v.shown(cls, audience) is expected
    assert v.title_shown(cls, audience) == (expected in (Shown.FULL, Shown.PUBLIC))


@pytest.mark.parametrize(("level", "expected"), [
    (Shown.BUSY, "Kegiatan internal - Dinas Sosial"),
    (Shown.OCCUPIED, "Terpakai - Dinas Sosial"),
    (Shown.FULL, None), (Shown.PUBLIC, None), (Shown.HIDDEN, None),
])
def test_label(level: Shown, expected: str | None) -> None:
    assert v.label(level, "Dinas Sosial") == expected


def test_what_each_level_keeps() -> None:
    busy, occupied, public = v.KEPT[Shown.BUSY], v.KEPT[Shown.OCCUPIED], v.KEPT[Shown.PUBLIC]
    assert busy is not None and occupied is not None and public is not None
    assert {"DTSTART", "RRULE", "EXDATE", "RECURRENCE-ID"} <= busy
    assert not {"SUMMARY", "DESCRIPTION", "LOCATION"} & busy
    assert occupied == busy | {"LOCATION"}
    assert {"SUMMARY", "DESCRIPTION", "LOCATION"} <= public
    assert not {"ATTENDEE", "ORGANIZER", "ATTACH", "CONTACT", "COMMENT"} & public
    assert v.KEPT[Shown.FULL] is None and v.KEPT[Shown.HIDDEN] == frozenset()


def _calendar(*events: str) -> icalendar.Calendar:
    body = "".join(f"BEGIN:VEVENT\r\nUID:u\r\n{e}END:VEVENT\r\n" for e in events)
    return icalendar.Calendar.from_ical(f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{body}"
                                        "END:VCALENDAR\r\n")


@pytest.mark.parametrize(("events", "series", "expected"), [
    # a CONFIDENTIAL series: overrides without CLASS, or PUBLIC, inherit it
    (("CLASS:CONFIDENTIAL\r\n", "RECURRENCE-ID:20300108T090000\r\n",
      "RECURRENCE-ID:20300115T090000\r\nCLASS:PUBLIC\r\n",
      "RECURRENCE-ID:20300122T090000\r\nCLASS:PRIVATE\r\n"),
     CONFIDENTIAL, [CONFIDENTIAL, CONFIDENTIAL, CONFIDENTIAL, PRIVATE]),
    # the master may come after its overrides
    (("RECURRENCE-ID:20300108T090000\r\n", "CLASS:X-RAHASIA\r\n"), PRIVATE, [PRIVATE, PRIVATE]),
    # a PUBLIC series with one private occurrence
    (("", "RECURRENCE-ID:20300108T090000\r\nCLASS:PRIVATE\r\n"), PUBLIC, [PUBLIC, PRIVATE]),
    # overrides alone (no master): each judged by itself
    (("RECURRENCE-ID:20300108T090000\r\n",
      "RECURRENCE-ID:20300115T090000\r\nCLASS:PRIVATE\r\n"), None, [PUBLIC, PRIVATE]),
])
def test_classes_of_a_calendar(events: tuple[str, ...], series: str | None,
                               expected: list[str]) -> None:
    pairs = v.classes_of(_calendar(*events))
    assert [cls for _, cls in pairs] == expected
    assert v.series_class([e for e, _ in pairs]) == series


@pytest.mark.parametrize(("text", "kept", "gone"), [
    ("Hubungi budi.santoso@kedirikota.go.id", "[alamat disembunyikan]", "kedirikota.go.id"),
    ("Undangan: mailto:sekretariat@example.org", "[alamat disembunyikan]", "sekretariat"),
    ("Rapat gizi\nAbaikan bentrok: diminta Sekda", "Rapat gizi", "Sekda"),
    ("Gabung https://us02web.zoom.us/j/123?pwd=abc\nPasscode: 4455", "[tautan rapat disembunyikan]",
     "4455"),
    ("Meeting ID: 987 654\nKode sandi: x1", "", "987"),
    ("Narasumber: Wali Kota", "Narasumber: Wali Kota", "disembunyikan"),
])
def test_public_text(text: str, kept: str, gone: str) -> None:
    scrubbed = v.public_text(text)
    assert kept in scrubbed and gone not in scrubbed


@pytest.mark.parametrize(("text", "gone", "kept"), [
    ("Rapat\nNarahubung: Budi 081234567890", "0812", "Rapat"),
    ("Rapat\nKontak : Siti (0354) 682955", "682955", "Rapat"),
    ("Rapat\nCP: Andi 0813", "Andi", "Rapat"),
    ("Rapat\nNomor surat: 005/123/419.42/2026", "005/123", "Rapat"),
    ("Rapat\nNo. Surat: 005/9/2026", "005/9", "Rapat"),
    ("Rapat\nLampiran: daftar hadir", "daftar hadir", "Rapat"),
    ("Rapat<br>Narahubung: Budi 0812<br>Pakaian: PDH", "0812", "Pakaian: PDH"),
    # words that only begin like a hidden label stay
    ("CPNS angkatan 2026\nKontaknya lewat bagian umum", "[", "CPNS angkatan 2026"),
])
def test_protocol_lines_never_public(text: str, gone: str, kept: str) -> None:
    scrubbed = v.public_text(text)
    assert gone not in scrubbed and kept in scrubbed


@pytest.mark.parametrize(("status", "pending", "expected"), [
    (None, False, False), ("CONFIRMED", False, False), ("CANCELLED", False, False),
    ("TENTATIVE", False, True), (" tentative ", False, True),
    (None, True, True), ("CONFIRMED", True, True),
])
def test_held(status: str | None, pending: bool, expected: bool) -> None:
    component = {"STATUS": status} if status is not None else {}
    assert v.held(component, pending) is expected


@pytest.mark.parametrize(("cls", "audience", "expected"), [
    *[(c, Audience.PUBLIC, Shown.HIDDEN) for c in (PUBLIC, CONFIDENTIAL, PRIVATE)],
    (PUBLIC, Audience.OTHER_OPD, Shown.PUBLIC),  # a hold still takes the venue
    (CONFIDENTIAL, Audience.OTHER_OPD, Shown.OCCUPIED),
    (PUBLIC, Audience.LEADERS, Shown.FULL), (PRIVATE, Audience.OWNER, Shown.FULL),
])
def test_a_held_event_is_hidden_from_the_public_only(cls: str, audience: Audience,
                                                      expected: Shown) -> None:
    assert v.shown(cls, audience, held=True) is expected
