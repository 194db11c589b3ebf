"""From iCalendar as real clients write it to bookings: instants, venues, persons, refusals."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from kalender.clash.extract import Extracted, Limits, extract
from kalender.errors import BadCalendarError, TooManyOccurrencesError, UnknownTimezoneError
from tests.test_match import MATCHER

FIXTURES = Path(__file__).parent / "fixtures" / "ics"
WIB = timezone(timedelta(hours=7))
DAY = 86400


def wib(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch seconds of a wall-clock time in Kediri (computed without the code under test)."""
    return int(datetime(year, month, day, hour, minute, tzinfo=WIB).timestamp())


NOW = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())  # 07:00 WIB, 1 Jan 2025


def run(name: str, now: int = NOW, **kw: Any) -> Extracted:
    return extract((FIXTURES / name).read_bytes(), "dinkes", MATCHER, now=now, **kw)


def ics(*events: str, header: str = "") -> str:
    """A CRLF calendar with one VEVENT per argument, all with the same UID."""
    body = "".join("BEGIN:VEVENT\nUID:uji@kedirikota.go.id\nDTSTAMP:20250101T000000Z\n"
                   f"{e.strip()}\nEND:VEVENT\n" for e in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Uji//ID\n{header}{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n")


def spans(result: Extracted) -> list[tuple[int, int]]:
    return [(b.start, b.end) for b in result.bookings]


def test_fixtures_use_both_line_endings() -> None:
    kinds = {b"\r\n" in p.read_bytes() for p in FIXTURES.glob("*.ics")}
    assert kinds == {True, False}


def test_thunderbird_rrule_exdate_and_moved_override() -> None:
    result = run("thunderbird_weekly_override.ics")
    assert result.uid == "tb-rakor-stunting-0001@kedirikota.go.id"
    assert spans(result) == [
        (wib(2025, 1, 6, 9), wib(2025, 1, 6, 11)),
        (wib(2025, 1, 13, 13), wib(2025, 1, 13, 15)),  # moved to the afternoon
        # 20 January is an EXDATE
        (wib(2025, 1, 27, 9), wib(2025, 1, 27, 11)),
        (wib(2025, 2, 3, 9), wib(2025, 2, 3, 11)),
        (wib(2025, 2, 10, 9), wib(2025, 2, 10, 11)),  # COUNT=6 ends here
    ]
    moved = result.bookings[1]
    assert moved.recurrence_id == wib(2025, 1, 13, 9)
    assert moved.venues == {"ruang-kilisuci"} and moved.persons == {"wali-kota"}
    assert moved.title == "Rakor Percepatan Penurunan Stunting (dipindah siang)"
    first = result.bookings[0]
    assert first.venues == {"ruang-joyoboyo"} and first.persons == {"sekda", "kadinkes"}
    assert first.recurrence_id == first.start and first.opd == "dinkes"


def test_outlook_windows_tzid_and_room_attendee() -> None:
    result = run("outlook_exchange_windows_tzid.ics")
    (booking,) = result.bookings
    assert result.uid.startswith("040000008200E0007") and result.uid.endswith("7D8E9F")
    assert (booking.start, booking.end) == (wib(2025, 1, 15, 14), wib(2025, 1, 15, 16))
    assert booking.recurrence_id is None  # not a recurring event
    assert booking.venues == {"ruang-joyoboyo"} and booking.persons == {"wali-kota"}
    assert booking.title == "Rapat Evaluasi Kinerja OPD" and not booking.private


def test_outlook_display_name_unbounded_rule_stops_at_horizon() -> None:
    # The horizon counts from the series' start (3 Jan), which is later than now.
    short = run("outlook12_display_name.ics", horizon_days=30)
    assert [b.start for b in short.bookings] == [wib(2025, 1, d, 8) for d in (3, 10, 17, 24, 31)]
    assert short.horizon == wib(2025, 1, 3, 8) + 30 * 86400 and short.recurring
    assert all(b.private for b in short.bookings)  # CLASS:PRIVATE
    full = run("outlook12_display_name.ics")
    assert len(full.bookings) == 105  # every Friday from 3 Jan 2025 to before 3 Jan 2027
    assert full.bookings[-1].start == wib(2027, 1, 1, 8)


def test_outlook_kuala_lumpur_is_utc_plus_8() -> None:
    (booking,) = run("outlook12_kuala_lumpur.ics").bookings
    assert booking.start == wib(2025, 1, 16, 9)  # 10:00 in Kuala Lumpur


def test_apple_structured_location() -> None:
    (booking,) = run("apple_structured_location.ics").bookings
    assert (booking.start, booking.end) == (wib(2025, 1, 14, 9), wib(2025, 1, 14, 10, 30))
    assert booking.venues == {"ruang-joyoboyo"}
    assert booking.persons == {"wali-kota", "wakil-wali-kota"}


def test_apple_offset_with_seconds() -> None:
    (booking,) = run("apple_tzoffset_seconds.ics").bookings
    # 08:00 at +07:07:12 is 7 min 12 s before 08:00 WIB
    assert booking.start == wib(2025, 1, 10, 8) - 432
    assert booking.end - booking.start == 3600


def test_davx5_duration_and_utc_exdates() -> None:
    result = run("davx5_duration_xlic.ics")
    assert spans(result) == [(wib(2025, m, d, 15, 30), wib(2025, m, d, 17))
                             for m, d in ((1, 7), (1, 21), (2, 4))]  # UNTIL is inclusive
    assert result.bookings[0].persons == {"wakil-wali-kota", "kadinkes"}


def test_evolution_freeassociation_tzid() -> None:
    (booking,) = run("evolution_freeassociation.ics").bookings
    assert booking.start == wib(2025, 1, 17, 7) and booking.venues == {"alun-alun"}


def test_google_utc_times_and_moved_recurrence_id() -> None:
    result = run("google_xwr_moved.ics")
    assert [b.start for b in result.bookings] == [
        wib(2025, 1, 7, 9), wib(2025, 1, 14, 11), wib(2025, 1, 21, 9), wib(2025, 1, 28, 9)]
    moved = result.bookings[1]
    assert moved.recurrence_id == wib(2025, 1, 14, 9)  # RECURRENCE-ID:20250114T020000Z
    assert moved.persons == {"wali-kota", "sekda", "kadinkes"}
    assert result.bookings[0].persons == {"wali-kota", "sekda"}


def test_google_x_wr_timezone_keeps_local_time_across_dst() -> None:
    result = run("google_utc_xwr_berlin.ics", now=wib(2025, 3, 1))
    utc = [datetime.fromtimestamp(b.start, UTC).hour for b in result.bookings]
    assert utc == [8, 8, 7]  # 09:00 in Berlin, before and after 30 March
    assert result.locations == ("Zoom Meeting",)
    assert all(b.venues == frozenset() for b in result.bookings)


def test_floating_time_is_wib() -> None:
    (booking,) = run("floating.ics").bookings
    assert (booking.start, booking.end) == (wib(2025, 1, 8, 9), wib(2025, 1, 8, 10))


def test_all_day_blocks_whole_days_in_wib() -> None:
    (booking,) = run("allday.ics").bookings
    assert (booking.start, booking.end) == (wib(2025, 1, 11), wib(2025, 1, 13))


def test_exdate_in_utc_against_zoned_dtstart() -> None:
    # 06:30 WIB on 13 January is 23:30 UTC on the 12th: matched by instant, not by date
    assert [b.start for b in run("nextcloud_exdate_utc.ics").bookings] == [
        wib(2025, 1, 6, 6, 30), wib(2025, 1, 20, 6, 30), wib(2025, 1, 27, 6, 30)]


def test_cancelled_and_transparent_overrides_do_not_block() -> None:
    result = run("cancelled_override.ics")
    assert spans(result) == [(wib(2025, 1, 8, 13), wib(2025, 1, 8, 14))]
    assert result.locations == ("Zoom",)


def test_trailing_space_tzid_resolves_instead_of_floating() -> None:
    (booking,) = run("trailing_space_tzid.ics").bookings
    assert booking.start == wib(2025, 1, 21, 17) and booking.private  # CONFIDENTIAL


def test_unknown_tzid_without_vtimezone() -> None:
    with pytest.raises(UnknownTimezoneError) as info:
        run("unknown_tzid.ics")
    assert info.value.tzid == "Kediri Standard Time"


def test_secondly_rule_is_refused_quickly() -> None:
    began = time.perf_counter()
    with pytest.raises(TooManyOccurrencesError) as info:
        run("secondly.ics")
    assert time.perf_counter() - began < 1
    assert info.value.limit == 5000


@pytest.mark.parametrize(("name", "words"), [
    ("malformed_syntax.ics", "bukan format iCalendar"),
    ("malformed_no_dtstart.ics", "DTSTART"),
    ("malformed_dtend_before_dtstart.ics", "DTEND"),
    ("malformed_two_uids.ics", "satu UID"),
    ("malformed_rrule.ics", "RRULE"),
])
def test_malformed_fixtures(name: str, words: str) -> None:
    with pytest.raises(BadCalendarError) as info:
        run(name)
    assert words in info.value.message and info.value.status == 400


def test_vtodo_only_gives_no_bookings() -> None:
    assert run("vtodo_only.ics") == Extracted("todo-laporan-2025@kedirikota.go.id", (), ())


@pytest.mark.parametrize(("props", "expected"), [
    # a DATE without DTEND lasts one day; a DATE-TIME without end lasts zero: no booking
    ("DTSTART;VALUE=DATE:20250115", [(wib(2025, 1, 15), wib(2025, 1, 16))]),
    ("DTSTART:20250115T090000", []),
    ("DTSTART:20250115T090000\nDTEND:20250115T090000", []),
    ("DTSTART:20250115T090000\nDURATION:PT45M", [(wib(2025, 1, 15, 9), wib(2025, 1, 15, 9, 45))]),
    ("DTSTART:20250115T090000\nDTEND:20250115T100000\nTRANSP:TRANSPARENT", []),
    ("DTSTART:20250115T090000\nDTEND:20250115T100000\nSTATUS:CANCELLED", []),
    # history before now - 1 day does not block; yesterday still does
    ("DTSTART:20241230T080000\nDTEND:20241230T090000", []),
    ("DTSTART:20241231T080000\nDTEND:20241231T090000",
     [(wib(2024, 12, 31, 8), wib(2024, 12, 31, 9))]),
    # floating UNTIL is WIB too: the 09:00 occurrence of the 20th is (not) included
    ("DTSTART:20250106T090000\nDTEND:20250106T100000\nRRULE:FREQ=WEEKLY;UNTIL=20250120T090000",
     [(wib(2025, 1, d, 9), wib(2025, 1, d, 10)) for d in (6, 13, 20)]),
    ("DTSTART:20250106T090000\nDTEND:20250106T100000\nRRULE:FREQ=WEEKLY;UNTIL=20250120T080000",
     [(wib(2025, 1, d, 9), wib(2025, 1, d, 10)) for d in (6, 13)]),
    # a DATE UNTIL with a zoned DTSTART includes that whole day
    ("DTSTART;TZID=Asia/Jakarta:20250106T190000\nDTEND;TZID=Asia/Jakarta:20250106T200000\n"
     "RRULE:FREQ=WEEKLY;UNTIL=20250113", [(wib(2025, 1, d, 19), wib(2025, 1, d, 20))
                                         for d in (6, 13)]),
    # RDATE (zoned, and as a PERIOD) adds occurrences
    ("DTSTART;TZID=Asia/Jakarta:20250106T090000\nDTEND;TZID=Asia/Jakarta:20250106T100000\n"
     "RDATE;TZID=Asia/Jakarta:20250108T130000\nRDATE;VALUE=PERIOD:20250110T010000Z/PT3H",
     [(wib(2025, 1, 6, 9), wib(2025, 1, 6, 10)), (wib(2025, 1, 8, 13), wib(2025, 1, 8, 14)),
      (wib(2025, 1, 10, 8), wib(2025, 1, 10, 11))]),
    # Outlook writes UNTIL in local time without Z: the 13 January occurrence is included
    ("DTSTART;TZID=SE Asia Standard Time:20250106T090000\nDURATION:PT1H\n"
     "RRULE:FREQ=WEEKLY;UNTIL=20250113T090000", [(wib(2025, 1, d, 9), wib(2025, 1, d, 10))
                                                 for d in (6, 13)]),
    # BYSETPOS: the last working day of each month
    ("DTSTART:20250131T150000\nDURATION:PT1H\n"
     "RRULE:FREQ=MONTHLY;COUNT=3;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
     [(wib(2025, m, d, 15), wib(2025, m, d, 16)) for m, d in ((1, 31), (2, 28), (3, 31))]),
    # rules that can never match (30 February, a 6th Monday) only keep DTSTART, quickly
    ("DTSTART:20250106T090000\nDTEND:20250106T100000\nRRULE:FREQ=WEEKLY;BYDAY=MO;BYSETPOS=2",
     [(wib(2025, 1, 6, 9), wib(2025, 1, 6, 10))]),
    ("DTSTART:20250106T090000\nDTEND:20250106T100000\nRRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
     [(wib(2025, 1, 6, 9), wib(2025, 1, 6, 10))]),
    ("DTSTART:20250106T090000\nDTEND:20250106T100000\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
     [(wib(2025, 1, 6, 9), wib(2025, 1, 6, 10))]),
])
def test_edge_cases(props: str, expected: list[tuple[int, int]]) -> None:
    began = time.perf_counter()
    assert spans(extract(ics(props), "dinkes", MATCHER, now=NOW)) == expected
    assert time.perf_counter() - began < 1


def test_this_and_future_override_moves_the_rest() -> None:
    data = ics("DTSTART:20250106T090000\nDTEND:20250106T100000\nRRULE:FREQ=WEEKLY;COUNT=3",
               "RECURRENCE-ID;RANGE=THISANDFUTURE:20250113T090000\n"
               "DTSTART:20250113T100000\nDTEND:20250113T110000")
    assert [b.start for b in extract(data, "dinkes", MATCHER, now=NOW).bookings] == [
        wib(2025, 1, 6, 9), wib(2025, 1, 13, 10), wib(2025, 1, 20, 10)]


def test_orphan_override_without_master() -> None:
    data = ics("RECURRENCE-ID;TZID=Asia/Jakarta:20250113T090000\n"
               "DTSTART;TZID=Asia/Jakarta:20250113T090000\nDTEND;TZID=Asia/Jakarta:20250113T100000")
    (booking,) = extract(data, "dinkes", MATCHER, now=NOW).bookings
    assert booking.recurrence_id == booking.start == wib(2025, 1, 13, 9)


@pytest.mark.parametrize(("props", "words"), [
    ("DTSTART:20250106T090000\nRRULE:FREQ=WEEKLY;COUNT=3;UNTIL=20250120T090000Z", "COUNT"),
    ("DTSTART:20250106T090000\nDURATION:-PT1H", "DURATION"),
    ("DTSTART:20250106T090000\nRRULE:FREQ=WEEKLY;INTERVAL=0", "RRULE"),
])
def test_bad_rules(props: str, words: str) -> None:
    with pytest.raises(BadCalendarError) as info:
        extract(ics(props), "dinkes", MATCHER, now=NOW)
    assert words in info.value.message


def test_limits() -> None:
    daily = ics("DTSTART:20250106T090000\nDTEND:20250106T100000\nRRULE:FREQ=DAILY")
    with pytest.raises(TooManyOccurrencesError) as info:
        extract(daily, "dinkes", MATCHER, now=NOW, max_occurrences=100)
    assert info.value.limit == 100
    # 90 days from the series start (6 January), which is later than now
    assert len(extract(daily, "dinkes", MATCHER, now=NOW, horizon_days=90).bookings) == 90
    six_a_day = daily.replace("FREQ=DAILY", "FREQ=DAILY;BYHOUR=8,9,10,11,12,13")
    # 5 on 6 January 2025 (from 09:00), 6 a day from 7 January 2025 to 5 January 2027,
    # then 08:00 on 6 January 2027: the 2-year horizon ends at the series start + 730 days
    assert len(extract(six_a_day, "dinkes", MATCHER, now=NOW).bookings) == 5 + 6 * 729 + 1
    seven_a_day = "FREQ=DAILY;BYHOUR=7,8,9,10,11,12,13"
    for rule in ("FREQ=MINUTELY", "FREQ=HOURLY;BYMINUTE=0,30", seven_a_day):
        began = time.perf_counter()
        with pytest.raises(TooManyOccurrencesError):
            extract(daily.replace("FREQ=DAILY", rule), "dinkes", MATCHER, now=NOW)
        assert time.perf_counter() - began < 0.5


def test_unknown_x_wr_timezone_and_broken_vtimezone() -> None:
    with pytest.raises(UnknownTimezoneError):
        extract(ics("DTSTART:20250106T090000Z", header="X-WR-TIMEZONE:Asia/Kediri\n"),
                "dinkes", MATCHER, now=NOW)
    broken = "BEGIN:VTIMEZONE\nTZID:Rusak\nEND:VTIMEZONE\n"
    with pytest.raises(BadCalendarError):
        extract(ics("DTSTART;TZID=Rusak:20250106T090000", header=broken),
                "dinkes", MATCHER, now=NOW)


def test_accepts_str_bytes_and_calendar_without_changing_it() -> None:
    text = (FIXTURES / "outlook12_kuala_lumpur.ics").read_text("utf-8")
    calendar = Calendar.from_ical(text)
    before = calendar.to_ical()
    results = [extract(d, "dinkes", MATCHER, now=NOW) for d in (text, text.encode(), calendar)]
    assert results[0] == results[1] == results[2]
    assert calendar.to_ical() == before


def test_not_a_calendar() -> None:
    for data in ("", "hello", "BEGIN:VTODO\r\nUID:x\r\nEND:VTODO\r\n"):
        with pytest.raises(BadCalendarError):
            extract(data, "dinkes", MATCHER, now=NOW)


def test_weekly_event_over_two_years_takes_a_few_ms() -> None:
    data = (FIXTURES / "outlook12_display_name.ics").read_bytes()
    extract(data, "dinkes", MATCHER, now=NOW)  # warm caches
    began = time.perf_counter()
    for _ in range(10):
        extract(data, "dinkes", MATCHER, now=NOW)
    assert (time.perf_counter() - began) / 10 < 0.05


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.ics")
                                        if not p.name.startswith(("malformed", "unknown",
                                                                  "secondly"))))
def test_client_payloads_pass_the_write_checks(name: str) -> None:
    """What real clients write passes the checks made before Radicale stores an item."""
    stored = run(name)
    assert run(name, limits=Limits(radicale_limit=10000)) == stored


@pytest.mark.parametrize(("rule", "kept"), [
    ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", True),  # every working day (Thunderbird)
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE", True),  # every other week
    ("FREQ=MONTHLY;INTERVAL=3;BYDAY=1MO", True),  # each quarter's first Monday
    ("FREQ=MONTHLY;BYMONTHDAY=31", True),  # months without a 31st are skipped
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", True),  # leap days only
    ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", False),  # a sixth Monday never comes
])
def test_write_checks_keep_ordinary_rules(rule: str, kept: bool) -> None:
    data = ics(f"DTSTART:20250106T090000\nDTEND:20250106T100000\nRRULE:{rule}")
    began = time.perf_counter()
    if kept:
        assert extract(data, "dinkes", MATCHER, now=NOW,
                       limits=Limits(radicale_limit=10000)).bookings
    else:
        with pytest.raises(BadCalendarError, match="tidak pernah"):
            extract(data, "dinkes", MATCHER, now=NOW, limits=Limits(radicale_limit=10000))
    print(f"{rule}: {time.perf_counter() - began:.3f} s")
