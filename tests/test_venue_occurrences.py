"""A venue calendar holds only the occurrences at that venue (issue 12 item 5)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import icalendar
import pytest
import recurring_ical_events

from kalender.clash.match import Matcher
from kalender.clash.rules import Venue
from kalender_sync.plan import targets
from kalender_sync.service import SyncService
from kalender_sync.transform import Source, output_href, output_uid, parse
from tests.conftest import LiveServer, make_deployment, serve_in_thread

MATCHER = Matcher((Venue("ruang-joyoboyo", "Ruang Joyoboyo", "Balai Kota Kediri"),
                   Venue("ruang-kilisuci", "Ruang Kilisuci", "Balai Kota Kediri"),
                   Venue("gor-joyoboyo", "GOR Joyoboyo", "Gelanggang Olahraga Jayabaya")), ())
FIRST = dt.date.today() + dt.timedelta(days=14)


def day(week: int) -> str:
    """The series' date of occurrence ``week`` (0-based), as iCalendar text."""
    return (FIRST + dt.timedelta(weeks=week)).strftime("%Y%m%d")


def series(uid: str, *, tzid: str = "Asia/Jakarta", where: str = "Ruang Joyoboyo",
           klass: str = "PUBLIC", moved: dict[int, str] | None = None,
           zone: bool = True) -> str:
    """A weekly series of 5 at ``where``, week 1 excluded, overrides per week -> LOCATION."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//tests//ID"]
    if zone and tzid == "Asia/Jakarta":
        lines += ["BEGIN:VTIMEZONE", "TZID:Asia/Jakarta", "BEGIN:STANDARD",
                  "DTSTART:19700101T000000", "TZOFFSETFROM:+0700", "TZOFFSETTO:+0700",
                  "TZNAME:WIB", "END:STANDARD", "END:VTIMEZONE"]
    lines += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
              f"DTSTART;TZID={tzid}:{day(0)}T090000", f"DTEND;TZID={tzid}:{day(0)}T100000",
              "RRULE:FREQ=WEEKLY;COUNT=5", f"EXDATE;TZID={tzid}:{day(1)}T090000",
              "SUMMARY:Rapat Koordinasi Mingguan", f"LOCATION:{where}", f"CLASS:{klass}",
              "END:VEVENT"]
    for week, location in (moved or {}).items():
        lines += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
                  f"RECURRENCE-ID;TZID={tzid}:{day(week)}T090000",
                  f"DTSTART;TZID={tzid}:{day(week)}T130000",
                  f"DTEND;TZID={tzid}:{day(week)}T140000",
                  f"SUMMARY:Rapat Koordinasi (minggu {week})", f"LOCATION:{location}",
                  "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def copies(text: str, uid: str = "rapat@test") -> dict[tuple[str, str], icalendar.Calendar]:
    """targets() of a dinkes source, parsed back from text as a subscriber would."""
    src = Source("dinkes", "Dinas Kesehatan Kota Kediri", "rapat.ics", uid, text)
    return {k: icalendar.Calendar.from_ical(v.to_ical())
            for k, v in targets(src, parse(src), MATCHER).items()}


def starts(cal: icalendar.Calendar) -> list[str]:
    """Local start times (YYYYMMDDTHHMM) of every occurrence of a copy, sorted."""
    return sorted(o["DTSTART"].dt.strftime("%Y%m%dT%H%M")
                  for o in recurring_ical_events.of(cal).between(FIRST, FIRST + dt.timedelta(100)))


def venue(out: dict[tuple[str, str], icalendar.Calendar], vid: str
          ) -> dict[str, icalendar.Calendar]:
    """href -> copy of one venue calendar."""
    return {href: cal for (calendar, href), cal in out.items() if calendar == f"ruang/{vid}"}


def test_override_moved_elsewhere_leaves_and_arrives() -> None:
    """Week 2 moved to Kilisuci: Joyoboyo's series excludes it, Kilisuci holds it alone."""
    out = copies(series("rapat@test", moved={2: "Ruang Kilisuci", 3: "Ruang Joyoboyo"}))
    href = output_href("dinkes", "rapat@test")
    (here,) = venue(out, "ruang-joyoboyo").values()
    assert list(venue(out, "ruang-joyoboyo")) == [href]
    # weeks 0 and 4 as in the series, week 3 moved within the venue, week 1 excluded
    assert starts(here) == [f"{day(0)}T0900", f"{day(3)}T1300", f"{day(4)}T0900"]
    master = next(e for e in here.walk("VEVENT") if e.get("RECURRENCE-ID") is None)
    assert master["RRULE"]["COUNT"] == [5]
    assert len([e for e in here.walk("VEVENT") if e.get("RECURRENCE-ID") is not None]) == 1

    there = venue(out, "ruang-kilisuci")
    base = href.removesuffix(".ics")
    assert list(there) == [f"{base}-{day(2)}T090000.ics"]
    (alone,) = there[f"{base}-{day(2)}T090000.ics"].walk("VEVENT")
    assert alone.get("RECURRENCE-ID") is None and alone.get("RRULE") is None
    assert str(alone["UID"]) == f"{base}-{day(2)}T090000@kalender-opd"
    assert str(alone["UID"]) != output_uid("dinkes", "rapat@test")
    assert starts(there[f"{base}-{day(2)}T090000.ics"]) == [f"{day(2)}T1300"]
    # the leaders' and the public copies still hold the whole series
    assert len(starts(out[("pimpinan/agenda", href)])) == 4
    assert len(starts(out[("publik/agenda", href)])) == 4


def test_override_moved_into_a_venue_of_another_series() -> None:
    """A series at GOR with one week in Joyoboyo: that week arrives in Joyoboyo only."""
    out = copies(series("rapat@test", where="GOR Joyoboyo", moved={4: "Ruang Joyoboyo"}))
    (joyoboyo,) = venue(out, "ruang-joyoboyo").values()
    assert starts(joyoboyo) == [f"{day(4)}T1300"]
    assert starts(next(iter(venue(out, "gor-joyoboyo").values()))) == [
        f"{day(0)}T0900", f"{day(2)}T0900", f"{day(3)}T0900"]
    assert venue(out, "ruang-kilisuci") == {}


def test_series_without_moves_is_copied_whole() -> None:
    """No override elsewhere: one copy, every exception intact (as before)."""
    out = copies(series("rapat@test", moved={3: "Ruang Joyoboyo"}))
    (here,) = venue(out, "ruang-joyoboyo").values()
    assert starts(here) == [f"{day(0)}T0900", f"{day(2)}T0900", f"{day(3)}T1300",
                            f"{day(4)}T0900"]


def test_moved_override_of_a_private_series_stays_private() -> None:
    """The standalone override keeps the series' class: only 'Terpakai - <OPD>' shows."""
    out = copies(series("rapat@test", klass="PRIVATE", moved={2: "Ruang Kilisuci"}))
    (alone,) = next(iter(venue(out, "ruang-kilisuci").values())).walk("VEVENT")
    assert str(alone["SUMMARY"]) == "Terpakai - Dinas Kesehatan Kota Kediri"
    assert "Rapat" not in alone.to_ical().decode()


def test_excluded_occurrence_keeps_its_zone() -> None:
    """The EXDATE put in place of a moved occurrence is zoned, never floating (RFC 5545 §3.3.5)."""
    out = copies(series("rapat@test", tzid="WIB", zone=False, moved={2: "Ruang Kilisuci"}))
    (here,) = venue(out, "ruang-joyoboyo").values()
    text = here.to_ical().decode()
    assert f"EXDATE;TZID=Asia/Jakarta:{day(2)}T090000" in text
    assert "TZID=WIB" not in text and "TZID:Asia/Jakarta" in text
    assert starts(here) == [f"{day(0)}T0900", f"{day(3)}T0900", f"{day(4)}T0900"]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own."""
    dep = make_deployment(tmp_path_factory.mktemp("venues") / "kediri")
    yield from serve_in_thread(dep)


def occurrences(live: LiveServer, path: str, uid_prefix: str) -> list[str]:
    """Start times of every occurrence in a venue feed whose UID starts with ``uid_prefix``."""
    r = live.request("pic-y", "GET", path)
    assert r.status_code == 200, r.text
    cal = icalendar.Calendar.from_ical(r.content)
    mine = icalendar.Calendar()
    for event in cal.walk("VEVENT"):
        if str(event["UID"]).startswith(uid_prefix):
            mine.add_component(event)
    for zone in cal.walk("VTIMEZONE"):
        mine.add_component(zone)
    return starts(mine)


def test_venue_feeds_through_the_server(live: LiveServer) -> None:
    """PUT a series with a moved week, sync, read /ruang/...; move it back: it leaves again."""
    uid = f"{uuid.uuid4()}@test"
    prefix = output_uid("dinkes", uid).split("@")[0]
    service = SyncService(live.dep, live.url)
    try:
        def put_and_sync(text: str) -> None:
            r = live.request("pic-x", "PUT", "/opd/dinkes/mingguan.ics", data=text.encode(),
                             headers={"Content-Type": "text/calendar"})
            assert r.status_code in (201, 204), r.text
            service.run_once()

        put_and_sync(series(uid, moved={2: "Ruang Kilisuci"}))
        assert occurrences(live, "/ruang/ruang-joyoboyo/", prefix) == [
            f"{day(0)}T0900", f"{day(3)}T0900", f"{day(4)}T0900"]
        assert occurrences(live, "/ruang/ruang-kilisuci/", prefix) == [f"{day(2)}T1300"]

        put_and_sync(series(uid, moved={2: "Ruang Joyoboyo"}))
        assert occurrences(live, "/ruang/ruang-joyoboyo/", prefix) == [
            f"{day(0)}T0900", f"{day(2)}T1300", f"{day(3)}T0900", f"{day(4)}T0900"]
        assert occurrences(live, "/ruang/ruang-kilisuci/", prefix) == []
    finally:
        service.close()
