"""``/ketersediaan/``: look before you book (issue 10 item 2), for any signed-in account.

The occupancy of every registered venue and the agenda of every key person
for a day (``?tanggal=YYYY-MM-DD``, default today) or its week (``?minggu=1``,
Monday to Sunday), read from the clash index (``kalender.db`` table
``slots``, :meth:`kalender.clash.index.Index.bookings`): exactly the
bookings a write is judged against, never Radicale's storage. Titles pass
the one visibility rule (:func:`kalender.visibility.shown`): the viewer's
own OPD sees its titles (``Audience.OWNER``), pimpinan and admins see all
(``Audience.LEADERS``), another OPD's non-public activity is "Terpakai -
<OPD>" (``Audience.OTHER_OPD``, :func:`kalender.visibility.label`).

"Cari waktu kosong" (``?cari=1&durasi=&ruang=&pejabat=&dari=&sampai=``) lists
the first free slots computed by the clash engine (``Guard.free_slots``), each
linking to the activity form with its values filled in.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from kalender.clash.rules import Booking
from kalender.registry import LEADER_ROLES, User
from kalender.visibility import PRIVATE, PUBLIC, Audience, label, shown
from kalender.web import respond
from kalender.web.public import jsonfeed
from kalender.web.render import render
from kalender.web.workspace import session

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
#: The day's table: at least working hours 07-18, wider when bookings are.
FIRST_HOUR, LAST_HOUR = 7, 18
#: Durations offered by the search form (minutes, label).
DURATIONS = ((30, "30 menit"), (60, "1 jam"), (90, "1,5 jam"), (120, "2 jam"), (150, "2,5 jam"),
             (180, "3 jam"), (240, "4 jam"), (300, "5 jam"), (360, "6 jam"))
MAX_DAYS = 14
MAX_RESULTS = 10
_HOURS_RE = re.compile(r"^(\d{1,3}(?:[.,]\d{1,2})?)\s*(jam|j|menit|m)?$")


@dataclass(frozen=True)
class Slot:
    """One booking as this viewer may see it."""

    start: dt.datetime
    end: dt.datetime
    title: str  # the title, or "Terpakai - <OPD>"
    opd: str  # the OPD's name
    mine: bool  # the viewer's own OPD's
    hidden: bool = False  # the title is the visibility rule's label, not the real one

    @property
    def all_day(self) -> bool:
        """Whole days from 00.00 (a DATE event; for ``kalender.web.dates.jam``)."""
        return (self.start.time() == self.end.time() == dt.time(0)
                and self.end > self.start)

    def on(self, day: dt.date) -> bool:
        """Whether it takes place (partly) on ``day``."""
        return self.start < _midnight(day + dt.timedelta(days=1)) and self.end > _midnight(day)


@dataclass(frozen=True)
class Cell:
    """A stretch of the day's table: ``span`` hours, free or with its bookings."""

    span: int
    hour: int  # the first hour it covers
    slots: tuple[Slot, ...] = ()


@dataclass(frozen=True)
class Row:
    """A venue or key person and its bookings in the shown span."""

    id: str
    name: str
    note: str  # building, capacity, buffers
    slots: tuple[Slot, ...]

    def on(self, day: dt.date) -> list[Slot]:
        """Its bookings on ``day``."""
        return [s for s in self.slots if s.on(day)]


def _midnight(day: dt.date) -> dt.datetime:
    """00.00 WIB of ``day``."""
    return dt.datetime.combine(day, dt.time(0), WIB)


def audience(user: User, opd: str) -> Audience:
    """Who ``user`` is to an activity of ``opd``."""
    if user.role in LEADER_ROLES:
        return Audience.LEADERS
    return Audience.OWNER if opd in user.opds else Audience.OTHER_OPD


def slot(b: Booking, user: User, opd_names: dict[str, str]) -> Slot:
    """``b`` as ``user`` sees it (the one visibility rule decides the title)."""
    name = opd_names.get(b.opd, b.opd)
    level = shown(PRIVATE if b.private else PUBLIC, audience(user, b.opd))
    replaced = label(level, name)
    return Slot(dt.datetime.fromtimestamp(b.start, WIB), dt.datetime.fromtimestamp(b.end, WIB),
                replaced or b.title or "(tanpa judul)", name, b.opd in user.opds,
                replaced is not None)


def _note(venue: Any) -> str:
    """'Balai Kota Kediri; 2 kegiatan sekaligus; persiapan 60 menit, selesai +30 menit'."""
    parts = [venue.building] if venue.building and venue.building != venue.name else []
    if venue.capacity > 1:
        parts.append(f"{venue.capacity} kegiatan sekaligus")
    if venue.setup_min or venue.teardown_min:
        parts.append(f"jeda {venue.setup_min} menit sebelum dan {venue.teardown_min} menit "
                     "sesudah tiap kegiatan")
    return "; ".join(parts)


def rows(request: Any, user: User, first: dt.date, end: dt.date) -> tuple[list[Row], list[Row]]:
    """(venue rows, person rows) of [first, end), every registered one, by name."""
    index = request.storage.guard.index
    window = [(int(_midnight(first).timestamp()), int(_midnight(end).timestamp()))]
    venues, persons = request.registry.venues(), request.registry.persons()
    names = {o.id: o.name for o in request.registry.opds()}

    def grouped(kind: str, ids: Any) -> dict[str, list[Slot]]:
        found: dict[str, list[Slot]] = {}
        for b in index.bookings(kind, ids, window):
            for resource in (b.venues if kind == "venue" else b.persons):
                found.setdefault(resource, []).append(slot(b, user, names))
        return found

    at_venue, with_person = grouped("venue", venues), grouped("person", persons)
    order = lambda s: (s.start, s.end, s.title)  # noqa: E731
    venue_rows = [Row(v.id, v.name, _note(v), tuple(sorted(at_venue.get(v.id, ()), key=order)))
                  for v in sorted(venues.values(), key=lambda v: v.name.casefold())]
    person_rows = [Row(p.id, p.title, "", tuple(sorted(with_person.get(p.id, ()), key=order)))
                   for p in sorted(persons.values(), key=lambda p: p.title.casefold())]
    return venue_rows, person_rows


def hours(day: dt.date, all_rows: list[Row]) -> list[int]:
    """The day's table columns: 07-18, stretched to the day's earliest and latest booking."""
    first, last = FIRST_HOUR, LAST_HOUR
    start, stop = _midnight(day), _midnight(day + dt.timedelta(days=1))
    for row in all_rows:
        for s in row.on(day):
            first = min(first, max(start, s.start).hour)
            end = min(stop, s.end)
            last = max(last, 24 if end == stop else end.hour + (1 if end.minute else 0))
    return list(range(first, last))


def cells(row: Row, day: dt.date, columns: list[int]) -> list[Cell]:
    """The row's cells on ``day``: free hours one by one, bookings merged where they touch."""
    base = _midnight(day)
    first, count = columns[0], len(columns)
    spans: list[tuple[int, int, list[Slot]]] = []
    for s in row.on(day):
        a = (max(s.start, base) - base) // dt.timedelta(hours=1) - first
        b = -((base - min(s.end, base + dt.timedelta(days=1))) // dt.timedelta(hours=1)) - first
        a, b = max(0, a), min(count, max(b, a + 1))
        if spans and a < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(b, spans[-1][1]), [*spans[-1][2], s])
        else:
            spans.append((a, b, [s]))
    result, at = [], 0
    for a, b, found in spans:
        result += [Cell(1, first + h) for h in range(at, a)]
        result.append(Cell(b - a, first + a, tuple(found)))
        at = b
    return result + [Cell(1, first + h) for h in range(at, count)]


@dataclass(frozen=True)
class Search:
    """The "Cari waktu kosong" form: its values, its error, its results."""

    asked: bool
    duration: int  # minutes
    venue: str
    persons: tuple[str, ...]
    first: dt.date
    last: dt.date
    error: str = ""
    field: str = ""  # the field the error is about
    results: tuple[tuple[dt.datetime, dt.datetime], ...] = ()

    def link(self, start: dt.datetime, end: dt.datetime) -> str:
        """The activity form with this slot filled in (kalender.web.workspace.booking)."""
        query = [("tanggal", start.date().isoformat()), ("mulai", f"{start:%H.%M}"),
                 ("selesai", f"{end:%H.%M}")]
        query += [("ruang", self.venue)] if self.venue else []
        query += [("pejabat", p) for p in self.persons]
        return "/kegiatan/baru/?" + urlencode(query)


def minutes(text: str) -> int | None:
    """'90', '90 menit', '1.5 jam', '1,5 jam', '2 jam' -> minutes (None when unreadable).

    A bare whole number is minutes (the form's values); a fraction or "jam" is hours.
    """
    found = _HOURS_RE.match(text.strip().lower())
    if found is None:
        return None
    value, unit = float(found.group(1).replace(",", ".")), found.group(2) or ""
    is_hours = unit.startswith("j") or (not unit and "." in found.group(1).replace(",", "."))
    return round(value * 60) if is_hours else round(value)


def search(request: Any, user: User, day: dt.date) -> Search:
    """The search of the query string (``asked`` False when the form was not sent)."""
    values = parse_qs(request.environ.get("QUERY_STRING", ""), keep_blank_values=True)
    persons = tuple(dict.fromkeys(p.strip() for p in values.get("pejabat", []) if p.strip()))
    today = request.now.astimezone(WIB).date()
    start = max(day, today)
    blank = Search(False, 60, request.arg("ruang"), persons, start,
                   start + dt.timedelta(days=6))
    if not request.arg("cari"):
        return blank

    def refused(message: str, field: str, **kw: Any) -> Search:
        return Search(True, kw.get("duration", blank.duration), blank.venue, persons,
                      kw.get("first", blank.first), kw.get("last", blank.last), message, field)

    duration = minutes(request.arg("durasi", "60"))
    if duration is None or not 15 <= duration <= 12 * 60:
        return refused("Lama kegiatan tidak dapat dibaca; pilih antara 30 menit dan 6 jam.",
                       "durasi")
    try:
        first = jsonfeed.day_arg(request, "dari") or blank.first
        last = jsonfeed.day_arg(request, "sampai") or first + dt.timedelta(days=6)
    except respond.BadQueryError as e:
        return refused(e.message, "dari", duration=duration)
    if blank.venue and blank.venue not in request.registry.venues():
        return refused(f"Tempat \"{blank.venue[:40]}\" tidak terdaftar; pilih dari daftar.",
                       "ruang", duration=duration, first=first, last=last)
    unknown = [p for p in persons if p not in request.registry.persons()]
    if unknown:
        return refused(f"Pejabat \"{unknown[0][:40]}\" tidak terdaftar; pilih dari daftar.",
                       "pejabat", duration=duration, first=first, last=last)
    if not blank.venue and not persons:
        return refused("Pilih tempat, pejabat, atau keduanya.", "ruang", duration=duration,
                       first=first, last=last)
    if last < first or (last - first).days + 1 > MAX_DAYS:
        return refused(f"Rentang tanggal paling lama {MAX_DAYS} hari dan tanggal akhir tidak "
                       "boleh sebelum tanggal awal.", "sampai", duration=duration, first=first,
                       last=last)
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    found = request.storage.guard.free_slots(duration * 60, blank.venue or None, persons, days,
                                             user.login, limit=MAX_RESULTS)
    return Search(True, duration, blank.venue, persons, first, last, results=tuple(
        (dt.datetime.fromtimestamp(a, WIB), dt.datetime.fromtimestamp(b, WIB))
        for a, b in found))


def link(day: dt.date, week: bool = False) -> str:
    """This page for a day or its week."""
    return "/ketersediaan/?" + urlencode({"tanggal": day.isoformat(),
                                          **({"minggu": "1"} if week else {})})


def page(request: Any) -> respond.Response:
    """The occupancy grid of a day or week, and the free-slot search."""
    if request.method not in ("GET", "HEAD"):
        raise respond.MethodError("Halaman ini hanya dapat dibaca (GET).")
    user = session.require(request)
    today = request.now.astimezone(WIB).date()
    day = jsonfeed.day_arg(request) or today
    week = request.arg("minggu") in ("1", "ya")
    first = day - dt.timedelta(days=day.weekday()) if week else day
    end = first + dt.timedelta(days=7 if week else 1)
    venue_rows, person_rows = rows(request, user, first, end)
    columns = hours(day, venue_rows + person_rows)
    step = dt.timedelta(days=7 if week else 1)
    found = search(request, user, day)
    body = render(
        "ws/ketersediaan.html", request=request, user=user, day=day, week=week, first=first,
        last=end - dt.timedelta(days=1), days=[first + dt.timedelta(days=n)
                                              for n in range((end - first).days)],
        venue_rows=venue_rows, person_rows=person_rows, columns=columns,
        cells=lambda row: cells(row, day, columns), search=found, durations=DURATIONS,
        venues=sorted(request.registry.venues().values(), key=lambda v: v.name.casefold()),
        persons=sorted(request.registry.persons().values(), key=lambda p: p.title.casefold()),
        can_book=user.role in ("pic", "admin"), previous=link(day - step, week),
        following=link(day + step, week), today=link(today, week), day_link=link(day),
        week_link=link(day, True), max_days=MAX_DAYS)
    return respond.page(body, max_age=0, private=True, status=400 if found.error else 200)
