"""``kalender init --demo``: a living city, accepted by the guard, with refused attempts."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
from collections import Counter
from dataclasses import dataclass

import icalendar
import pytest
from radicale import storage as radicale_storage

from kalender import audit
from kalender.admin import cli, provision
from kalender.clash.extract import extract
from kalender.clash.match import Matcher
from kalender.clash.rules import find_clashes
from kalender.deployment import Deployment

WIB = dt.timezone(dt.timedelta(hours=7))
KEY_PERSONS = ("wali-kota", "wakil-wali-kota", "sekda", "asisten-1", "asisten-2", "asisten-3")
LABEL = re.compile(r"^\W*(?:narasumber|pimpinan|hadir|peserta|pejabat|dihadiri)"
                   r"(?:\s+[^\W\d_]+){0,2}\s*:\s*(.*)$", re.I)


@dataclass(frozen=True)
class Demo:
    """A demo deployment, what init printed and the stored items."""

    dep: Deployment
    output: str
    today: dt.date
    items: list[tuple[str, str]]  # (OPD id, iCalendar text)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    root = tmp_path_factory.mktemp("demo") / "kediri"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["init", str(root), "--demo"]) == 0
    dep = Deployment(root)
    items: list[tuple[str, str]] = []
    with provision.storage_locked(dep) as store:
        for opd in dep.opds():
            col = next(iter(store.discover(opd.href)))
            assert isinstance(col, radicale_storage.BaseCollection)
            items += [(opd.id, item.serialize()) for item in col.get_all()]
    return Demo(dep, out.getvalue(), dt.datetime.now(WIB).date(), items)


def events(demo: Demo) -> list[tuple[str, icalendar.cal.Component]]:
    """(OPD, VEVENT) of every stored component, overrides included."""
    return [(opd, e) for opd, text in demo.items
            for e in icalendar.Calendar.from_ical(text).walk("VEVENT")]


def masters(demo: Demo) -> list[tuple[str, icalendar.cal.Component]]:
    """(OPD, VEVENT) of every stored activity (no RECURRENCE-ID overrides)."""
    return [(opd, e) for opd, e in events(demo) if "RECURRENCE-ID" not in e]


def day_of(event: icalendar.cal.Component) -> dt.date:
    """The WIB date an event starts on."""
    start = event["DTSTART"].dt
    return start.astimezone(WIB).date() if isinstance(start, dt.datetime) else start


def matcher(demo: Demo) -> Matcher:
    return Matcher(demo.dep.venues(), demo.dep.persons())


def test_a_month_back_and_a_month_ahead(demo: Demo) -> None:
    days = [day_of(e) for _, e in masters(demo)]
    assert len(days) >= 60
    assert min(days) <= demo.today - dt.timedelta(days=25)
    assert max(days) >= demo.today + dt.timedelta(days=25)
    assert sum(d < demo.today for d in days) >= 20 and sum(d > demo.today for d in days) >= 20


def test_titles_are_unique_and_most_are_on_working_days(demo: Demo) -> None:
    found = masters(demo)
    titles = Counter(str(e["SUMMARY"]) for _, e in found)
    assert titles.most_common(1)[0][1] == 1, titles.most_common(3)
    weekend = [str(e["SUMMARY"]) for _, e in found if day_of(e).weekday() >= 5]
    assert 3 <= len(weekend) <= len(found) // 4, weekend
    assert any("Car Free Day" in t for t in weekend) and any("Festival" in t for t in weekend)


def test_most_opds_and_venues_are_used(demo: Demo) -> None:
    opds = {opd for opd, _ in demo.items}
    assert len(opds) >= 0.8 * len(demo.dep.opds())
    m = matcher(demo)
    venues = {v for _, e in events(demo) for v in m.venues(e)[0]}
    assert len(venues) >= 0.8 * len(demo.dep.venues())


def test_a_weekly_series_with_a_moved_and_a_cancelled_occurrence(demo: Demo) -> None:
    series = [icalendar.Calendar.from_ical(text).walk("VEVENT") for _, text in demo.items
              if "RRULE:" in text]
    with_overrides = [s for s in series if any("RECURRENCE-ID" in e for e in s)]
    assert with_overrides
    overrides = [e for e in with_overrides[0] if "RECURRENCE-ID" in e]
    assert any(str(e.get("STATUS", "")) == "CANCELLED" for e in overrides)
    assert any(e["DTSTART"].dt != e["RECURRENCE-ID"].dt for e in overrides)
    master = next(e for e in with_overrides[0] if "RECURRENCE-ID" not in e)
    assert master["RRULE"]["FREQ"] == ["WEEKLY"]


def test_public_internal_and_private_activities(demo: Demo) -> None:
    classes = Counter(str(e.get("CLASS", "PUBLIC")) for _, e in masters(demo))
    assert classes["PUBLIC"] > classes["CONFIDENTIAL"] >= 3 and classes["PRIVATE"] >= 2


def test_key_persons_are_busy_and_only_registered_persons_are_named(demo: Demo) -> None:
    m = matcher(demo)
    busy = Counter(p for _, e in masters(demo) for p in m.persons(e))
    assert all(busy[p] >= 3 for p in KEY_PERSONS), busy
    assert busy["wali-kota"] >= 8
    for _, event in events(demo):
        for line in str(event.get("DESCRIPTION", "")).splitlines():
            if label := LABEL.match(line):
                for name in re.split(r"[;,]", label[1]):
                    assert m.match_person(name), (name, str(event["SUMMARY"]))


def test_no_two_demo_activities_clash_history_included(demo: Demo) -> None:
    m = matcher(demo)
    venues = {v.id: v for v in demo.dep.venues()}
    since = int(dt.datetime.combine(demo.today - dt.timedelta(days=40), dt.time(),
                                    WIB).timestamp())
    booked = [extract(text, opd, m, now=since).bookings for opd, text in demo.items]
    everything = [b for bookings in booked for b in bookings]
    assert len(everything) > len(demo.items)  # the series count every week
    for bookings in booked:
        assert find_clashes(bookings, everything, venues) == []


def test_refused_attempts_are_recorded(demo: Demo) -> None:
    refused = list(audit.refusals(demo.dep.database))
    assert len(refused) >= 3
    assert {r.actor for r in refused} == {"pic-demo"}
    assert {r.reason for r in refused} == {"Jadwal Bentrok"}
    assert {r.opd for r in refused} <= {"dinkes", "diskominfo", "bappeda"}
    assert any(r.count == 2 for r in refused)  # saved twice, one row
    secret = {str(e["SUMMARY"]) for _, e in masters(demo)
              if str(e.get("CLASS", "")) in ("PRIVATE", "CONFIDENTIAL")}
    assert any("tertutup" in r.message for r in refused)  # a clash with a closed meeting
    assert not any(t in r.message for r in refused for t in secret)
    stored = {str(e["SUMMARY"]) for _, e in masters(demo)}
    assert not {r.title for r in refused} & stored


def test_demo_accounts_are_the_actors(demo: Demo) -> None:
    creates = [e for e in audit.entries(demo.dep.database)
               if e.action == "create" and e.href is not None and e.opd is not None]
    assert len(creates) == len(demo.items)
    actors = Counter(e.actor for e in creates)
    assert set(actors) == {"pic-demo", "admin-demo"}, actors
    assert {e.opd for e in creates if e.actor == "pic-demo"} == {"dinkes", "diskominfo",
                                                                 "bappeda"}


def test_index_matches_storage_and_summary_is_printed(demo: Demo) -> None:
    assert cli.main(["verify", "--dir", str(demo.dep.root)]) == 0
    assert f"Data demo: {len(demo.items)} kegiatan" in demo.output
    assert "ditolak karena bentrok: 3" in demo.output
    for login in ("pic-demo", "pimpinan-demo", "admin-demo"):
        assert re.search(rf"{login} .* kata sandi \S+", demo.output)

