"""``/cetak/?tanggal=YYYY-MM-DD``: the day's public agenda as a printable A4 sheet.

The daily sheet a Prokopim office pins up: the city's name, "Agenda Kegiatan",
the long Indonesian date and a table (No, Waktu, Kegiatan, Tempat, OPD
Penyelenggara). ``static/cetak.css`` sets ``@page { size: A4 }`` (CSS Paged Media)
and hides the screen-only navigation when printed; on screen the same page is
readable at phone width. No JavaScript: the sheet says "Cetak dengan Ctrl+P".
``opd``, ``ruang``, ``kategori`` and ``q`` narrow it as on the agenda page (a
venue's sheet for its door, an OPD's for its notice board).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from kalender.web import dates, respond
from kalender.web.public import jsonfeed
from kalender.web.render import render
from kalender_sync.occurrences import WIB, Occurrence

#: Enough rows for the busiest day; beyond it the sheet would not be one a wall can hold.
MAX_ROWS = 500


@dataclass(frozen=True)
class Row:
    """One line of the sheet."""

    number: int
    time: str  #: "09.00-11.00 WIB" or "Sepanjang hari"
    title: str
    place: str  #: venue name or LOCATION; "-" when unknown or internal
    opd: str
    cancelled: bool
    internal: bool
    path: str  #: the activity's page
    stand_ins: tuple[str, ...] = ()  #: who represents whom


def row(number: int, occ: Occurrence, venues: dict[str, Any]) -> Row:
    """The sheet's line for one occurrence (an internal block shows time, label and OPD)."""
    place = "-"
    if not occ.internal:
        venue = venues.get(occ.venue) if occ.venue else None
        place = (venue.name if venue is not None else occ.location) or "-"
    return Row(number, dates.jam(occ), occ.title, place, occ.opd_name, occ.cancelled,
               occ.internal, occ.path, () if occ.internal else tuple(occ.stand_ins))


def sheet_link(day: dt.date, chosen: jsonfeed.Filters) -> str:
    """The sheet's own address for ``day``, keeping the filters."""
    return "/cetak/?" + urlencode({"tanggal": day.isoformat(), **kept(chosen)})


def kept(chosen: jsonfeed.Filters) -> dict[str, str]:
    """The filters in force, by query parameter name."""
    named = {"opd": chosen.opd, "ruang": chosen.venue, "kategori": chosen.category,
             "q": chosen.q}
    return {k: v for k, v in named.items() if v}


def subtitle(request: Any, chosen: jsonfeed.Filters) -> str:
    """What the sheet is narrowed to: ``Dinas Sosial Kota Kediri - Ruang Joyoboyo``."""
    parts = []
    if chosen.opd:
        parts += [o.name for o in request.registry.opds() if o.id == chosen.opd]
    if chosen.venue:
        parts.append(request.registry.venues()[chosen.venue].name)
    if chosen.category:
        parts.append(f"Kategori {chosen.category}")
    if chosen.q:
        parts.append(f"Pencarian \u201c{chosen.q}\u201d")
    return " - ".join(parts)


def page(request: Any) -> respond.Response:
    """The A4 agenda sheet of one day (today in WIB by default), filtered like the agenda."""
    day = jsonfeed.day_arg(request) or request.now.astimezone(WIB).date()
    chosen = jsonfeed.filters(request)
    start = jsonfeed.midnight(day)
    found = request.index.between(start, start + dt.timedelta(days=1), limit=MAX_ROWS,
                                  **chosen.keywords())
    venues = request.registry.venues()
    rows = [row(n, o, venues) for n, o in enumerate(found, 1)]
    one = dt.timedelta(days=1)
    body = render("cetak.html", day=day, rows=rows, subtitle=subtitle(request, chosen),
                  kept=kept(chosen), previous=sheet_link(day - one, chosen),
                  following=sheet_link(day + one, chosen),
                  address=request.base_url + sheet_link(day, chosen))
    return respond.page(body, max_age=60)
