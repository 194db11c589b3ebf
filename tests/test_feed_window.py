"""The public feed that fits (issue 12 item 3): its window, compact copies, views on request.

PICs write with CalDAV into a server of its own, one sync pass renders the feeds, then
anonymous GETs of ``/publik/agenda/`` with and without ``?dari=``, ``?sampai=``,
``?kategori=``, ``?opd=`` and ``?penuh=1``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import icalendar
import pytest
import requests

from kalender_sync.occurrences import WIB
from kalender_sync.service import SyncService
from tests.conftest import LiveServer, event_ics, make_deployment, serve_in_thread
from tests.test_gate import dav_error

TODAY = dt.datetime.now(WIB).date()
PAST, AHEAD = 7, 60  # the default window: 7 WIB days back, 60 ahead (README)
#: every day of this range gets one activity: a month and more around today
SEEDED = range(-12, AHEAD + 7)
TAG = uuid.uuid4().hex[:6]
CATEGORY = "Kesehatan Ibu dan Anak"


def day(offset: int) -> dt.date:
    """The WIB day ``offset`` days from today."""
    return TODAY + dt.timedelta(days=offset)


def title(offset: int) -> str:
    """The SUMMARY of the seeded activity of day ``offset``."""
    return f"Kegiatan {TAG} hari {offset:+d}"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own, seeded with one activity a day and a weekly series."""
    dep = make_deployment(tmp_path_factory.mktemp("window") / "kediri")
    for server in serve_in_thread(dep):
        for offset in SEEDED:
            extra = f"CATEGORIES:{CATEGORY}" if offset in (-10, 3) else ""
            put(server, "pic-x" if offset % 2 else "pic-y", offset,
                event_ics(f"{TAG}-{offset}@test", f"{day(offset):%Y%m%d}T090000",
                          f"{day(offset):%Y%m%d}T100000", title(offset), extra=extra))
        # a weekly series begun long before the window, still running in it
        start = day(-70)
        put(server, "pic-x", 1000, event_ics(
            f"{TAG}-senam@test", f"{start:%Y%m%d}T060000", f"{start:%Y%m%d}T070000",
            f"Senam {TAG}", extra="RRULE:FREQ=WEEKLY;COUNT=20"))
        yield server


@pytest.fixture(scope="module")
def sync(live: LiveServer) -> Iterator[SyncService]:
    """The sync service, one pass done."""
    service = SyncService(live.dep, live.url)
    service.run_once()
    yield service
    service.close()


def put(live: LiveServer, login: str, offset: int, body: str) -> None:
    """PUT into the PIC's OPD calendar, which must succeed."""
    opd = {"pic-x": "dinkes", "pic-y": "dinsos"}[login]
    r = live.request(login, "PUT", f"/opd/{opd}/{TAG}-{offset}.ics", data=body.encode(),
                     headers={"Content-Type": "text/calendar"})
    assert r.status_code in (201, 204), r.text


def get(live: LiveServer, query: str = "", **headers: str) -> requests.Response:
    """Anonymous GET of the public agenda's feed."""
    return live.request(None, "GET", "/publik/agenda/" + query, headers=headers)


def summaries(r: requests.Response) -> set[str]:
    """The SUMMARY of every VEVENT of a 200 feed answer."""
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("text/calendar")
    return {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(r.content).walk("VEVENT")}


def seeded(r: requests.Response) -> set[int]:
    """The day offsets of the one-off activities in a feed."""
    prefix = f"Kegiatan {TAG} hari "
    return {int(s.removeprefix(prefix)) for s in summaries(r) if s.startswith(prefix)}


def test_default_window_bounds(live: LiveServer, sync: SyncService) -> None:
    """7 WIB days back to 60 ahead: the days inside, none outside, the running series too."""
    r = get(live)
    assert seeded(r) == set(range(-PAST, AHEAD))
    assert f"Senam {TAG}" in summaries(r)
    assert seeded(get(live, "?penuh=1")) == set(SEEDED)


def test_default_feed_of_a_month_stays_within_the_window(live: LiveServer,
                                                         sync: SyncService) -> None:
    """Every VEVENT overlaps the window and every activity of the next 30 days is there."""
    body = get(live).content
    first = dt.datetime.combine(day(-PAST), dt.time(0), WIB)
    end = dt.datetime.combine(day(AHEAD), dt.time(0), WIB)
    for event in icalendar.Calendar.from_ical(body).walk("VEVENT"):
        if event.get("RRULE") is None:
            assert first <= event["DTSTART"].dt < end, event["SUMMARY"]
    assert set(range(0, 31)) <= seeded(get(live))


def test_json_lists_the_same_window(live: LiveServer, sync: SyncService) -> None:
    """/publik/agenda.json's days are the feed's (one constant)."""
    r = live.request(None, "GET", "/publik/agenda.json")
    assert r.status_code == 200
    data = r.json()
    assert (data["from"], data["to"]) == (str(day(-PAST)), str(day(AHEAD - 1)))
    names = {e["name"] for e in data["events"]}
    assert title(-PAST) in names and title(AHEAD - 1) in names
    assert title(-PAST - 1) not in names and title(AHEAD) not in names


def test_feed_is_compact(live: LiveServer, sync: SyncService) -> None:
    """One VCALENDAR head, one VTIMEZONE per TZID, no default-valued lines, the OPD named."""
    text = get(live, "?penuh=1").text
    assert text.count("BEGIN:VCALENDAR") == 1 and text.count("PRODID:") == 1
    assert text.count("VERSION:") == 1
    assert text.count("TZID:Asia/Jakarta\r\n") == 1
    assert "SEQUENCE:0\r\n" not in text and "TRANSP:OPAQUE\r\n" not in text
    unfolded = text.replace("\r\n ", "")
    assert unfolded.count("Penyelenggara: ") == unfolded.count("BEGIN:VEVENT")


def test_range(live: LiveServer, sync: SyncService) -> None:
    """?dari=&sampai= any range of WIB days (both ends included), outside the window too."""
    assert seeded(get(live, f"?dari={day(-12)}&sampai={day(-9)}")) == {-12, -11, -10, -9}
    assert seeded(get(live, f"?dari={day(AHEAD + 2)}&sampai={day(AHEAD + 6)}")) == set(
        range(AHEAD + 2, AHEAD + 7))
    # one end given: the other is the window's
    assert seeded(get(live, f"?dari={day(-12)}")) == set(range(-12, AHEAD))
    assert seeded(get(live, f"?sampai={day(2)}")) == set(range(-PAST, 3))
    three_years = day(-3 * 365)
    assert seeded(get(live, f"?dari={three_years}&sampai={day(0)}")) == set(range(-12, 1))
    assert seeded(get(live, f"?dari={day(-11)}&sampai={day(-11)}&opd=dinkes")) == {-11}
    assert seeded(get(live, f"?dari={day(-11)}&sampai={day(-11)}&opd=dinsos")) == set()


@pytest.mark.parametrize(("query", "words"), [
    ("?dari=2026-13-01", "tidak dapat dibaca"),
    ("?dari=01-12-2026&sampai=2026-12-02", "tidak dapat dibaca"),
    ("?sampai=2026-02-30", "tidak dapat dibaca"),
    ("?dari=", "tidak dapat dibaca"),
    ("?dari=2026-12-10&sampai=2026-12-01", "sebelum"),
    ("?dari=2020-01-01&sampai=2026-01-01", "terlalu panjang"),
    ("?kategori=" + "a" * 300, "terlalu panjang"),
])
def test_bad_range_is_400(live: LiveServer, sync: SyncService, query: str, words: str) -> None:
    """400 with an Indonesian sentence in a DAV:error, never a 500."""
    r = get(live, query)
    assert r.status_code == 400, r.text[:300]
    condition, message = dav_error(r)
    assert condition == "valid-feed-query" and words in message


def test_category(live: LiveServer, sync: SyncService) -> None:
    """?kategori= (case-insensitive) of the PIC's own and the organiser's categories."""
    assert seeded(get(live, "?kategori=kesehatan%20IBU%20dan%20anak")) == {3}
    assert seeded(get(live, "?kategori=Kesehatan+Ibu+dan+Anak&penuh=1")) == {-10, 3}
    assert seeded(get(live, f"?kategori={CATEGORY}&dari={day(-12)}&sampai={day(-9)}")) == {-10}
    organiser = next(e for e in icalendar.Calendar.from_ical(get(live, "?opd=dinsos").content)
                     .walk("VEVENT"))
    name = organiser["CATEGORIES"].cats[-1]
    assert seeded(get(live, f"?kategori={name.upper()}")) == {
        x for x in range(-PAST, AHEAD) if x % 2 == 0}
    r = get(live, "?kategori=Kategori%20Antah%20Berantah")
    assert r.status_code == 404
    assert dav_error(r)[0] == "feed-exists"


def test_views_answer_304_and_follow_changes(live: LiveServer, sync: SyncService) -> None:
    """ETag and 304 on ?kategori= and ?dari=&sampai=; a new ETag when the agenda changes."""
    queries = [f"?kategori={CATEGORY}", f"?dari={day(1)}&sampai={day(5)}"]
    tags = {"": get(live).headers["ETag"]}
    for q, days in zip(queries, ({3}, {1, 2, 3, 4, 5}), strict=True):
        first = get(live, q)
        assert seeded(first) == days
        tags[q] = first.headers["ETag"]
        assert get(live, q).headers["ETag"] == tags[q]
        assert get(live, q, **{"If-None-Match": tags[q]}).status_code == 304
        assert get(live, q, **{"If-Modified-Since": first.headers["Last-Modified"]}
                   ).status_code == 304
    assert len(set(tags.values())) == 3  # each view its own ETag
    put(live, "pic-x", 2000, event_ics(
        f"{TAG}-baru@test", f"{day(4):%Y%m%d}T130000", f"{day(4):%Y%m%d}T140000",
        f"Posyandu {TAG}", extra=f"CATEGORIES:{CATEGORY}"))
    sync.run_once()
    for q in queries:
        changed = get(live, q, **{"If-None-Match": tags[q]})
        assert changed.status_code == 200 and changed.headers["ETag"] != tags[q]
        assert f"Posyandu {TAG}" in summaries(changed)


def test_subscribe_section_names_the_category_feed(live: LiveServer, sync: SyncService) -> None:
    """The agenda page filtered on a category offers that category's feed."""
    html = {"Accept": "text/html"}
    page = live.request(None, "GET", f"/?kategori={CATEGORY}", headers=html).text
    assert "/publik/agenda/?kategori=Kesehatan%20Ibu%20dan%20Anak" in page
    plain = live.request(None, "GET", "/", headers=html).text
    assert "/publik/agenda/?kategori=" not in plain
