"""``GET /`` in a browser: the city's public agenda (list, week and month views).

The list starts today ("Hari ini", what is on now marked "Sedang berlangsung")
and runs :data:`LIST_DAYS` days ahead; ``?tampilan=minggu|bulan`` shows a week
(Monday to Sunday) or a month; ``?tanggal=YYYY-MM-DD`` moves any view; ``opd``,
``ruang`` and ``kategori`` filter; ``q`` searches every date, past included.
Everything comes from ``kalender_sync.webindex`` (already public copies); a
query that cannot be read is a 400 page with a sentence, never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from kalender.clash.rules import Venue
from kalender.web import dates, respond
from kalender.web.render import render
from kalender_sync.occurrences import Occurrence

if TYPE_CHECKING:
    from kalender.web.app import Request

VIEWS = {"daftar": "Daftar", "minggu": "Minggu", "bulan": "Bulan"}
LIST_DAYS = 15  #: today and the 14 days ahead
SHOWN = 200  #: activities listed on one page at most (about 500 bytes each: < 150 KB)
SEARCH_LIMIT = 200  #: search results listed, ahead and past each
AHEAD = 3650  #: days a search looks ahead (the index holds two years of a series)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_QUERY = 200  #: characters of ``q``
FIRST_YEAR, LAST_YEAR = 1970, 2200  #: ``tanggal`` beyond these is a 400, not an overflow


@dataclass(frozen=True)
class Entry:
    """One activity as a list shows it."""

    occurrence: Occurrence
    place: str  #: the venue's registered name, else LOCATION as written; "" when internal
    venue: str | None  #: registered venue id (for the ``?ruang=`` link)
    happening: bool  #: "Sedang berlangsung"


@dataclass(frozen=True)
class Day:
    """One day of a view and its activities."""

    date: dt.date
    label: str  #: "Hari ini", "Besok" or ""
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class State:
    """What the visitor asked for; builds the links of the page."""

    view: str = "daftar"
    day: dt.date | None = None
    opd: str = ""
    ruang: str = ""
    kategori: str = ""
    q: str = ""
    opd_name: str = ""  #: for the sentence saying what is shown
    ruang_name: str = ""

    def link(self, **changes: Any) -> str:
        """``/?...`` for this state with ``changes`` (empty values left out)."""
        state = replace(self, **changes)
        params = {"tampilan": "" if state.view == "daftar" else state.view,
                  "tanggal": state.day.isoformat() if state.day else "", "opd": state.opd,
                  "ruang": state.ruang, "kategori": state.kategori, "q": state.q}
        query = urlencode({k: v for k, v in params.items() if v})
        return "/?" + query if query else "/"

    @property
    def filtered(self) -> bool:
        """Whether any filter or search is set."""
        return bool(self.opd or self.ruang or self.kategori or self.q)


def place_of(occurrence: Occurrence, venues: dict[str, Venue]) -> tuple[str, str | None]:
    """The place to show and the registered venue id (nothing for an internal block)."""
    if occurrence.internal:
        return "", None
    venue = venues.get(occurrence.venue or "")
    if venue is not None:
        return venue.name, venue.id
    return occurrence.location, None


def entries(occurrences: Iterable[Occurrence], venues: dict[str, Venue],
            now: dt.datetime) -> list[Entry]:
    """The list entries of ``occurrences``."""
    out = []
    for o in occurrences:
        place, venue = place_of(o, venues)
        out.append(Entry(o, place, venue, o.happening(now)))
    return out


def on_day(entry: Entry, day: dt.date) -> bool:
    """Whether the activity takes place (in part) on ``day`` in WIB."""
    start, end = _midnight(day), _midnight(day + dt.timedelta(days=1))
    o = entry.occurrence
    return o.start < end and (o.end > start or (o.end == o.start and o.start >= start))


def by_day(items: Sequence[Entry], first: dt.date, last: dt.date, today: dt.date,
           keep_empty: Iterable[dt.date] = ()) -> list[Day]:
    """Days first..last (inclusive) that have activities, plus the ``keep_empty`` ones."""
    empty = set(keep_empty)
    days = []
    day = first
    while day <= last:
        shown = tuple(e for e in items if on_day(e, day))
        if shown or day in empty:
            days.append(Day(day, _label(day, today), shown))
        day += dt.timedelta(days=1)
    return days


def page(request: Request) -> respond.Response:
    """The agenda page for the request's query."""
    state = _state(request)
    today = request.now.date()
    venues = request.registry.venues()
    context = _search(request, state, venues) if state.q and state.view == "daftar" else \
        _window(request, state, today, venues)
    body = render("agenda.html", state=state, views=VIEWS, today=today, now=request.now,
                  opds=_opd_choices(request, state), venues=_venue_choices(venues),
                  categories=request.index.categories(),
                  subscribe=subscriptions(request.base_url, request.registry.opds(),
                                          state.kategori),
                  **context)
    return respond.page(body, max_age=60)


def _search(request: Request, state: State, venues: dict[str, Venue]) -> dict[str, Any]:
    """Search every date: what is still to come (soonest first), then the past (newest first)."""
    today = _midnight(request.now.date())

    filters: dict[str, Any] = {"opd": state.opd or None, "venue": state.ruang or None,
               "category": state.kategori or None, "q": state.q}
    coming = request.index.between(today, today + dt.timedelta(days=AHEAD),
                                   limit=SEARCH_LIMIT, **filters)
    # the past: what began and ended before today, the newest first
    shown_past = [o for o in request.index.between(EPOCH, today, limit=SEARCH_LIMIT,
                                                   newest_first=True, **filters)
                  if o.end <= today][::-1]
    count_past = request.index.count(EPOCH, today, **filters) - sum(
        1 for o in coming if o.start < today)
    days = _group(entries(coming, venues, request.now), request.now.date())
    past_days = _group(entries(shown_past, venues, request.now), request.now.date())[::-1]
    return {"mode": "cari", "days": days, "past_days": past_days,
            "count": len(coming) + count_past, "count_coming": len(coming),
            "count_past": count_past, "capped": len(coming) >= SEARCH_LIMIT,
            "capped_past": count_past > len(shown_past), "shown": len(coming),
            "first": None, "last": None, "prev": None, "next": None, "weeks": []}


def _group(items: Sequence[Entry], today: dt.date) -> list[Day]:
    """Entries (by start) grouped by the day they begin on."""
    days: list[Day] = []
    for e in items:
        day = e.occurrence.start.astimezone(dates.WIB).date()
        if days and days[-1].date == day:
            days[-1] = Day(day, days[-1].label, (*days[-1].entries, e))
        else:
            days.append(Day(day, _label(day, today), (e,)))
    return days


def _window(request: Request, state: State, today: dt.date,
            venues: dict[str, Venue]) -> dict[str, Any]:
    """The list, week or month around the asked day."""
    day = state.day or today
    if state.view == "minggu":
        first = day - dt.timedelta(days=day.weekday())
        last, step = first + dt.timedelta(days=6), dt.timedelta(days=7)
        prev, nxt = first - step, first + step
    elif state.view == "bulan":
        first = day.replace(day=1)
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        last, prev = nxt - dt.timedelta(days=1), (first - dt.timedelta(days=1)).replace(day=1)
    else:
        first, last = day, day + dt.timedelta(days=LIST_DAYS - 1)
        prev, nxt = first - dt.timedelta(days=LIST_DAYS), last + dt.timedelta(days=1)
    found = request.index.between(_midnight(first), _midnight(last + dt.timedelta(days=1)),
                                  opd=state.opd or None, venue=state.ruang or None,
                                  category=state.kategori or None, q=state.q or None)
    items = entries(found, venues, request.now)
    keep = [first + dt.timedelta(days=i) for i in range(7)] if state.view == "minggu" else \
        [today] if first <= today <= last and state.view == "daftar" else []
    days = by_day(items[:SHOWN], first, last, today, keep)
    weeks = _month_grid(items, first, last) if state.view == "bulan" else []
    return {"mode": state.view, "days": days, "past_days": [], "count": len(items),
            "count_coming": len(items), "count_past": 0, "capped_past": False,
            "capped": len(items) > SHOWN, "shown": min(len(items), SHOWN),
            "first": first, "last": last, "prev": prev, "next": nxt, "weeks": weeks}


def _month_grid(items: Sequence[Entry], first: dt.date,
                last: dt.date) -> list[list[tuple[dt.date, int] | None]]:
    """Weeks (Monday first) of (day, number of activities), None outside the month."""
    counts = [0] * ((last - first).days + 1)
    for e in items:  # each activity counts on every day it spans (one pass, not days x items)
        o = e.occurrence
        begin = o.start.astimezone(dates.WIB).date()
        end = (o.end - dt.timedelta(microseconds=1)).astimezone(dates.WIB).date()
        for i in range(max((begin - first).days, 0), min((max(end, begin) - first).days,
                                                         len(counts) - 1) + 1):
            counts[i] += 1
    cells: list[tuple[dt.date, int] | None] = [None] * first.weekday()
    cells += [(first + dt.timedelta(days=i), n) for i, n in enumerate(counts)]
    cells += [None] * (-len(cells) % 7)
    return [cells[i:i + 7] for i in range(0, len(cells), 7)]


def _state(request: Request) -> State:
    """The visitor's query, checked (400 with a sentence when it cannot be used)."""
    view = request.arg("tampilan") or "daftar"
    if view not in VIEWS:
        raise respond.BadQueryError("Tampilan tidak dikenal; pilih daftar, minggu atau bulan.")
    day = None
    text = request.arg("tanggal")
    if text:
        try:
            day = dates.parse_day(text)
        except ValueError:
            raise respond.BadQueryError(
                "Tanggal tidak dapat dibaca; tulis dengan bentuk TTTT-BB-HH, "
                "misalnya 2026-12-01.") from None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise respond.BadQueryError(f"Tanggal di luar jangkauan agenda; pilih tahun "
                                        f"{FIRST_YEAR} sampai {LAST_YEAR}.")
    opd, ruang = request.arg("opd"), request.arg("ruang")
    names = {o.id: o.name for o in request.registry.opds()}
    if opd and opd not in names:
        raise respond.BadQueryError("OPD tidak dikenal; pilih OPD dari daftar.")
    venues = request.registry.venues()
    if ruang and ruang not in venues:
        raise respond.BadQueryError("Tempat tidak dikenal; pilih tempat dari daftar.")
    q = " ".join(request.arg("q").split())
    if len(q) > MAX_QUERY:
        raise respond.BadQueryError(f"Kata pencarian terlalu panjang; paling banyak "
                                    f"{MAX_QUERY} huruf.")
    return State(view, day, opd, ruang, request.arg("kategori")[:MAX_QUERY], q,
                 names.get(opd, ""), venues[ruang].name if ruang else "")


def _opd_choices(request: Request, state: State) -> list[tuple[str, str]]:
    """(id, name) of the OPDs a visitor can pick (archived ones only when chosen)."""
    return sorted(((o.id, o.name) for o in request.registry.opds()
                   if not o.archived or o.id == state.opd), key=lambda c: c[1])


def _venue_choices(venues: dict[str, Venue]) -> list[tuple[str, str]]:
    """(id, label) of the registered venues, by name."""
    return sorted(((v.id, f"{v.name} ({v.building})" if v.building and v.building not in v.name
                    else v.name) for v in venues.values()), key=lambda c: c[1])


def subscriptions(base_url: str, opds: Iterable[Any], category: str = "") -> dict[str, Any]:
    """The subscribing links: webcal, Google Calendar, one feed per OPD, the category's."""
    host = urlsplit(base_url).netloc
    webcal = f"webcal://{host}/publik/agenda/"
    return {"webcal": webcal, "https": f"{base_url}/publik/agenda/",
            # the feed of the category filtered on (kalender.dav.feeds, ?kategori=)
            "category": (category, f"{base_url}/publik/agenda/?kategori={quote(category)}")
            if category else None,
            "google": "https://calendar.google.com/calendar/r?cid=" + quote(webcal, safe=""),
            "per_opd": [(o.id, o.name, f"/publik/agenda/?opd={quote(o.id)}")
                        for o in sorted(opds, key=lambda o: o.name) if not o.archived]}


def _label(day: dt.date, today: dt.date) -> str:
    """"Hari ini", "Besok", "Kemarin" or ""."""
    return {0: "Hari ini", 1: "Besok", -1: "Kemarin"}.get((day - today).days, "")


def _midnight(day: dt.date) -> dt.datetime:
    """00:00 WIB of ``day``."""
    return dt.datetime.combine(day, dt.time(0), dates.WIB)
