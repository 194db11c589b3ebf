"""Demo content for ``kalender init --demo``: accounts and a living city's two months.

The activities of ``kalender.admin.demo_events`` get dates from a month back to
a month ahead of today: each is placed on the first day of its kind (working
day, Saturday, ...) where the clash engine itself (``kalender.clash.extract``
and ``rules.find_clashes``, with history counted) finds no clash, so the guard
accepts every one and no two demo activities collide. Each OPD's activities
are written through the storage, with the guard on, by its demo account (the
admin for OPDs without one); a few clashing attempts by the PIC are refused by
the guard and recorded as refusals, as the server does.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from kalender import audit
from kalender.admin import provision
from kalender.admin.demo_events import ACTIVITIES, RAPIM, SERIES, Activity, Series
from kalender.admin.demo_ics import (
    WIB,
    all_day,
    attendee,
    calendar,
    hours,
    recurrence_id,
    slug,
    timed,
    vevent,
)
from kalender.clash.extract import extract
from kalender.clash.match import Matcher
from kalender.clash.rules import Booking, Venue, find_clashes
from kalender.dav import storage
from kalender.deployment import Deployment
from kalender.errors import KalenderError
from kalender.registry import User

#: Days before and after today that the demo covers.
SPAN_DAYS = 30
PIC_OPDS = ("dinkes", "diskominfo", "bappeda")
DEMO_USERS = (
    User("pic-demo", "pic", PIC_OPDS),
    User("pimpinan-demo", "pimpinan"),
    User("admin-demo", "admin"),
)
_DAYS = {"senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "sabtu": 5, "minggu": 6}
_GOLDEN = 0.6180339887
#: Fixed-date national holidays (month, day): no office activity is placed on them.
HOLIDAYS = frozenset({(1, 1), (5, 1), (6, 1), (8, 17), (12, 25)})


@dataclass(frozen=True)
class DemoEvent:
    """One sample calendar object ready to be stored by ``actor``."""

    opd: str
    name: str
    uid: str
    title: str
    ics: str
    actor: str


@dataclass(frozen=True)
class Summary:
    """What ``populate`` stored, for the message of ``kalender init --demo``."""

    items: int
    series: int
    first: dt.date
    last: dt.date
    opds: int
    venues: int
    refused: int


def passwords() -> dict[str, str]:
    """A fresh random password for each demo account."""
    return {u.login: secrets.token_urlsafe(9) for u in DEMO_USERS}


def actor_of(opd: str) -> str:
    """The demo account that writes ``opd``'s activities."""
    return "pic-demo" if opd in PIC_OPDS else "admin-demo"


class Schedule:
    """The demo items accepted so far and their bookings (history included)."""

    def __init__(self, matcher: Matcher, venues: Mapping[str, Venue], since: int) -> None:
        self.matcher, self.venues, self.since = matcher, venues, since
        self.bookings: list[Booking] = []
        self.events: list[DemoEvent] = []

    def add(self, event: DemoEvent) -> bool:
        """Keep ``event`` if it clashes with nothing kept before."""
        bookings = extract(event.ics, event.opd, self.matcher, now=self.since).bookings
        if find_clashes(bookings, self.bookings, self.venues):
            return False
        self.bookings += bookings
        self.events.append(event)
        return True


def populate(dep: Deployment, now: dt.datetime) -> Summary:
    """Store the demo activities and record the refused attempts; what was done."""
    today = now.astimezone(WIB).date()
    venues = {v.id: v for v in dep.venues()}
    schedule = build(today, now, Matcher(list(venues.values()), dep.persons()), venues,
                     {o.id for o in dep.opds() if not o.archived})
    for actor in dict.fromkeys(e.actor for e in schedule.events):
        with provision.storage_locked(dep, actor) as store:
            for event in (e for e in schedule.events if e.actor == actor):
                provision.upload_event(store, f"/opd/{event.opd}/", event.name, event.ics)
    refused: set[str] = set()
    for attempt in refused_attempts(schedule, now, now):
        with provision.storage_locked(dep, attempt.actor) as store:
            try:
                provision.upload_event(store, f"/opd/{attempt.opd}/", attempt.name, attempt.ics)
            except KalenderError as e:  # what a PIC's client would have been told
                storage.clear_refusal()
                audit.record_refusal(dep.database, attempt.actor, f"/opd/{attempt.opd}/",
                                     attempt.uid, attempt.title, e.reason, e.message)
                refused.add(attempt.uid)
    days = [dt.datetime.fromtimestamp(b.start, WIB).date() for b in schedule.bookings]
    return Summary(
        items=len(schedule.events), series=sum("RRULE:" in e.ics for e in schedule.events),
        first=min(days, default=today), last=max(days, default=today),
        opds=len({e.opd for e in schedule.events}),
        venues=len({v for b in schedule.bookings for v in b.venues}), refused=len(refused))


def build(today: dt.date, stamp: dt.datetime, matcher: Matcher, venues: Mapping[str, Venue],
          opds: set[str]) -> Schedule:
    """The weekly series and activities of the OPDs in ``opds``, free of clashes."""
    first, last = today - dt.timedelta(days=SPAN_DAYS), today + dt.timedelta(days=SPAN_DAYS)
    since = int(dt.datetime.combine(first, dt.time(), WIB).timestamp())
    schedule = Schedule(matcher, venues, since)
    for series in SERIES:
        if series.opd in opds:
            schedule.add(_series(series, first, last, today, stamp))
    placed: dict[str, int] = {}
    for activity in ACTIVITIES:
        if activity.opd not in opds:
            continue
        kind, _, rest = activity.when.partition(" ")
        days = _days(set(range(5)) if kind == "kerja" else {_DAYS[kind]}, first, last)
        n = placed.get(kind, 0)
        placed[kind] = n + 1
        preferred = int((n * _GOLDEN) % 1 * len(days))  # spread evenly, deterministic
        for offset in _offsets(len(days)):
            day = days[(preferred + offset) % len(days)]
            if schedule.add(_single(activity, day, rest, today, stamp)):
                break
    return schedule


def refused_attempts(schedule: Schedule, now: dt.datetime, stamp: dt.datetime
                     ) -> list[DemoEvent]:
    """Writes by the PIC that clash with the schedule (the first one is retried)."""
    soon = int(now.timestamp()) + 2 * 86400  # well inside what the guard checks
    future = [b for b in schedule.bookings if b.start > soon
              and 8 <= dt.datetime.fromtimestamp(b.start, WIB).hour < 16]  # office hours
    names = {v.id: v.name for v in schedule.venues.values()}
    rooms = {"ruang-joyoboyo", "ruang-kilisuci", "ruang-command-center", "gni"}
    wanted: tuple[tuple[str, str, Callable[[Booking], bool], bool], ...] = (
        ("dinkes", "Rapat Koordinasi Kader Kesehatan Remaja",
         lambda b: b.private and bool(b.venues & rooms), True),
        ("bappeda", "Paparan Rencana Induk Kota Cerdas (Smart City)",
         lambda b: "wali-kota" in b.persons and not b.private, False),
        ("diskominfo", "Pelatihan Jurnalisme Warga bagi Pengelola Media Sosial OPD",
         lambda b: not b.private and bool(b.venues & rooms) and b.opd not in PIC_OPDS, True),
    )
    attempts: list[DemoEvent] = []
    for opd, title, fits, at_venue in wanted:
        target = next((b for b in future if fits(b)), None)
        if target is None:
            continue
        start = dt.datetime.fromtimestamp(target.start, WIB) + dt.timedelta(minutes=30)
        place = names[min(target.venues & rooms)] if at_venue else "Zoom Meeting"
        text = "Rapat koordinasi internal" if at_venue else "Narasumber: Wali Kota Kediri"
        uid = f"demo-ditolak-{slug(title)}@kalender-opd"
        ics = calendar([vevent(uid, stamp, title, place, text, "PUBLIC",
                               timed(start, start + dt.timedelta(hours=2)))])
        attempts.append(DemoEvent(opd, f"{slug(title)}.ics", uid, title, ics, "pic-demo"))
    return attempts[:1] + attempts  # a PIC saving the refused event twice


def _offsets(count: int) -> Iterator[int]:
    """0, 1, -1, 2, -2, ...: the preferred day first, then its neighbours."""
    yield 0
    for n in range(1, count):
        yield n
        yield -n


def _days(weekdays: set[int], first: dt.date, last: dt.date) -> list[dt.date]:
    """The days from ``first`` to ``last`` on ``weekdays`` (0 = Monday), holidays left out."""
    count = (last - first).days + 1
    return [d for n in range(count) if (d := first + dt.timedelta(days=n)).weekday() in weekdays
            and (d.month, d.day) not in HOLIDAYS]


def _single(activity: Activity, day: dt.date, rest: str, today: dt.date, stamp: dt.datetime
            ) -> DemoEvent:
    """One activity on ``day``: ``rest`` is ``HH:MM-HH:MM`` or ``N hari`` (all day)."""
    title = activity.title.format(tahun=today.year + 1)
    when = all_day(day, int(rest.split()[0])) if rest.endswith(" hari") else timed(
        *hours(day, rest))
    uid = f"demo-{slug(title)}@kalender-opd"
    event = vevent(uid, stamp, title, activity.place, activity.description, activity.klass,
                   when, [attendee(cn, partstat) for cn, partstat in activity.attendees])
    return DemoEvent(activity.opd, f"{slug(title)}.ics", uid, title, calendar([event]),
                     actor_of(activity.opd))


def _series(series: Series, first: dt.date, last: dt.date, today: dt.date,
            stamp: dt.datetime) -> DemoEvent:
    """A weekly series over the window; the staff meeting has a moved and a cancelled week."""
    day = first + dt.timedelta(days=(series.weekday - first.weekday()) % 7)
    days = [day + dt.timedelta(weeks=n) for n in range((last - day).days // 7 + 1)]
    start, end = hours(days[0], series.hours)
    uid = f"demo-{slug(series.title)}@kalender-opd"
    events = [vevent(uid, stamp, series.title, series.place, series.description, series.klass,
                     timed(start, end), [f"RRULE:FREQ=WEEKLY;COUNT={len(days)}"])]
    if series is RAPIM:
        moved = next(d for d in days if d >= today + dt.timedelta(days=5))
        cancelled = next(d for d in days if d >= moved + dt.timedelta(days=14))
        events.append(vevent(
            uid, stamp, series.title, series.place,
            "Dipindah ke Selasa siang: Senin pagi ada kunjungan kerja Gubernur.\n"
            + series.description, series.klass,
            timed(*hours(moved + dt.timedelta(days=1), "13:00-14:30")),
            [recurrence_id(moved, start)]))
        events.append(vevent(
            uid, stamp, series.title, series.place, "Ditiadakan minggu ini (cuti bersama).",
            series.klass, timed(*hours(cancelled, series.hours)),
            [recurrence_id(cancelled, start), "STATUS:CANCELLED"]))
    return DemoEvent(series.opd, f"{slug(series.title)}.ics", uid, series.title,
                     calendar(events), actor_of(series.opd))
