"""``/layar/``: the lobby screen, today's public agenda in large type for a TV.

The server renders a complete page (what is on now, what is next, the whole
day, a running line of tomorrow's activities, the date and the time in WIB),
so a screen without JavaScript still works with a ``<meta refresh>`` inside
``<noscript>``. With JavaScript, ``static/layar.js`` fetches ``/layar/data.json``
(:func:`data`) every 30 seconds, re-renders the lists and ticks the clock each
second, so the screen follows the agenda within a minute without a reload.
The script takes the time from the HTTP ``Date`` header (RFC 9110 §6.6.1) rather
than trusting the TV's own clock; the JSON holds no clock of its own, so its
ETag changes only with the data and a poll is answered ``304``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kalender.web import dates, respond
from kalender.web.public import jsonfeed
from kalender.web.render import render
from kalender_sync.occurrences import WIB, Occurrence

NOW_MAX = 2  #: cards under "Sedang berlangsung" (the day's list shows any more)
NEXT_MAX = 2  #: cards under "Berikutnya"
DAY_MAX = 60  #: activities of a day sent (a TV shows about 15 rows; the CSS cuts the rest)


@dataclass(frozen=True)
class Item:
    """One activity as the screen shows it (already public: see kalender.visibility)."""

    id: str
    title: str
    time: str  #: "09.00-11.00 WIB"
    start_time: str  #: "09.00" ("" for an all-day activity)
    start: dt.datetime
    end: dt.datetime
    all_day: bool
    place: str  #: the registered venue's name, else LOCATION ("" for an internal block)
    opd: str
    cancelled: bool
    internal: bool

    def state(self, now: dt.datetime) -> str:
        """``selesai`` (over, cancelled or not), ``batal``, ``berlangsung`` or ``nanti``."""
        if self.end <= now:
            return "selesai"
        if self.cancelled:
            return "batal"
        return "berlangsung" if self.start <= now else "nanti"

    def as_json(self) -> dict[str, Any]:
        """The item for layar.js (times as ISO 8601 with +07:00)."""
        return {"id": self.id, "title": self.title, "time": self.time,
                "startTime": self.start_time, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "allDay": self.all_day, "place": self.place,
                "opd": self.opd, "cancelled": self.cancelled, "internal": self.internal}


def item(occ: Occurrence, venues: dict[str, Any]) -> Item:
    """The screen's view of one occurrence."""
    place = ""
    if not occ.internal:  # CONFIDENTIAL: time, label and OPD only (issue 9 item 7)
        venue = venues.get(occ.venue) if occ.venue else None
        place = venue.name if venue is not None else occ.location
    return Item(occ.id, occ.title, dates.jam(occ),
                "" if occ.all_day else dates.jam_saja(occ.start),
                occ.start, occ.end, occ.all_day, place, occ.opd_name, occ.cancelled,
                occ.internal)


def day_items(request: Any, day: dt.date) -> list[Item]:
    """The public activities of ``day`` (WIB), by start time."""
    start = jsonfeed.midnight(day)
    found = request.index.between(start, start + dt.timedelta(days=1))
    venues = request.registry.venues()
    return [item(o, venues) for o in found]


def now_and_next(items: Sequence[Item], now: dt.datetime) -> tuple[list[Item], list[Item]]:
    """What is going on at ``now`` and what starts next (cancelled ones left out)."""
    current = [i for i in items if i.state(now) == "berlangsung"]
    coming = [i for i in items if i.state(now) == "nanti"]
    return current[:NOW_MAX], coming[:NEXT_MAX]


def remaining(items: Sequence[Item], now: dt.datetime) -> tuple[list[Item], int]:
    """The day's list from ``now`` on, and how many activities are already over.

    A lobby screen is read for what is still to come: the rows that are over give
    way to one line counting them, so the afternoon's rows stay on the screen.
    """
    left = [i for i in items if i.state(now) != "selesai"]
    return left, len(items) - len(left)


def ticker(items: Sequence[Item], day: dt.date) -> str:
    """The running line: tomorrow's activities in one sentence."""
    if not items:
        return f"Besok, {dates.hari_tanggal(day)}: belum ada kegiatan publik terjadwal."
    parts = []
    for i in items:
        text = f"{i.start_time or 'Sepanjang hari'} {i.title}"
        if i.place:
            text += f" ({i.place})"
        if i.cancelled:
            text += " - DIBATALKAN"
        parts.append(text)
    return f"Besok, {dates.hari_tanggal(day)}: " + " \u2022 ".join(parts)


def screen(request: Any) -> dict[str, Any]:
    """Everything the screen shows, for the template and for the script."""
    today = request.now.astimezone(WIB).date()
    tomorrow = today + dt.timedelta(days=1)
    items = day_items(request, today)
    return {"today": today, "tomorrow": tomorrow, "items": items[:DAY_MAX],
            "count": len(items), "ticker": ticker(day_items(request, tomorrow), tomorrow)}


def page(request: Any) -> respond.Response:
    """The lobby screen (complete without JavaScript)."""
    view = screen(request)
    now = request.now.astimezone(WIB)
    current, coming = now_and_next(view["items"], now)
    left, done = remaining(view["items"], now)
    body = render("layar.html", now=now, current=current, coming=coming, left=left,
                  done=done, **view)
    return respond.page(body, max_age=0)


def data(request: Any) -> respond.Response:
    """``/layar/data.json``: the day's items, tomorrow's line and the dates, for layar.js."""
    view = screen(request)
    body = {"date": view["today"].isoformat(), "dateText": dates.hari_tanggal(view["today"]),
            "count": view["count"], "today": [i.as_json() for i in view["items"]],
            "ticker": view["ticker"]}
    return respond.page(jsonfeed.dumps(body), jsonfeed.JSON, max_age=0)
