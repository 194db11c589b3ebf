"""``GET /publik/agenda.json``: the public agenda as JSON, for the city's own website.

The answer is one object (documented in README, "Agenda sebagai JSON")::

    {"name": "Agenda Kegiatan Pemerintah Kota Kediri", "url": "https://host/",
     "from": "2026-11-24", "to": "2027-01-29", "count": 2, "events": [...]}

``from`` and ``to`` are the first and last day listed (inclusive): by default the
public feed's window (``kalender_sync.publish.WINDOW_PAST_DAYS`` back,
``WINDOW_FUTURE_DAYS`` ahead, through ``WebIndex.window``); every event
carries ``id``, ``uid``, ``name``, ``startDate``, ``endDate`` (ISO 8601 with
``+07:00``; an all-day activity gives dates, its ``endDate`` being its last day
as in schema.org's ``Event``), ``allDay``, ``location``, ``venue``,
``organizer`` {``id``, ``name``}, ``category`` (a list), ``description``,
``url`` (its page), ``status`` (RFC 5545's value: ``CONFIRMED``, ``TENTATIVE`` never
appears, ``CANCELLED`` for a cancelled activity still to come), ``internal`` and
``standIns`` (sentences saying who represents whom, e.g. "Wali Kota Kediri
diwakili oleh Wakil Wali Kota Kediri"). There is no generation time in
the body, so the ETag (a hash of the body, ``respond.page``) only changes with
the data and a poller gets ``304 Not Modified`` (RFC 9110 §13.1.2).

The query parameters are the agenda page's: ``opd``, ``ruang`` (a venue id),
``kategori``, ``q`` (every word must appear), plus ``tanggal`` (one day) or
``dari``/``sampai`` (a range of days) instead of the feed window. Parameters
are read here once (:func:`filters`, :func:`day_arg`) so the lobby screen and
the print sheet read dates the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, TypedDict

from kalender.web import dates, respond
from kalender_sync.occurrences import WIB, Occurrence

NAME = "Agenda Kegiatan Pemerintah Kota Kediri"
JSON = "application/json; charset=utf-8"
MAX_SPAN_DAYS = 731  # the sync service expands series two years ahead
MAX_TEXT = 200


class FilterArgs(TypedDict):
    """The filter keywords of ``WebIndex.between`` and ``WebIndex.search``."""

    opd: str | None
    venue: str | None
    category: str | None
    q: str | None


@dataclass(frozen=True)
class Filters:
    """The agenda filters of a request (None: not filtered)."""

    opd: str | None = None
    venue: str | None = None
    category: str | None = None
    q: str | None = None

    def keywords(self) -> FilterArgs:
        """The keyword arguments of ``WebIndex.between``."""
        return {"opd": self.opd, "venue": self.venue, "category": self.category, "q": self.q}


def day_arg(request: Any, name: str = "tanggal") -> dt.date | None:
    """The date in query parameter ``name`` (``YYYY-MM-DD``), None when absent."""
    text = request.arg(name)
    if not text:
        return None
    try:
        return dates.parse_day(text)
    except ValueError:
        raise respond.BadQueryError(
            f"Tanggal pada parameter \"{name}\" tidak dapat dibaca: \"{text[:40]}\". "
            "Tulis sebagai TTTT-BB-HH, misalnya 2026-12-01.") from None


def filters(request: Any) -> Filters:
    """The ``opd``, ``ruang``, ``kategori`` and ``q`` parameters, checked."""
    opd = request.arg("opd") or None
    if opd is not None and opd not in {o.id for o in request.registry.opds()}:
        raise respond.BadQueryError(f"OPD \"{opd[:40]}\" tidak terdaftar; lihat daftar OPD "
                                    "pada halaman agenda.")
    venue = request.arg("ruang") or None
    if venue is not None and venue not in request.registry.venues():
        raise respond.BadQueryError(f"Ruang \"{venue[:40]}\" tidak terdaftar; lihat daftar "
                                    "ruang pada halaman agenda.")
    category = request.arg("kategori") or None
    q = " ".join(request.arg("q").split()) or None
    for value, what in ((category, "Kategori"), (q, "Kata pencarian")):
        if value is not None and len(value) > MAX_TEXT:
            raise respond.BadQueryError(f"{what} terlalu panjang (paling banyak {MAX_TEXT} "
                                        "huruf).")
    return Filters(opd, venue, category, q)


def midnight(day: dt.date) -> dt.datetime:
    """00:00 WIB of ``day``."""
    return dt.datetime.combine(day, dt.time(0), WIB)


def span(request: Any) -> tuple[dt.datetime, dt.datetime]:
    """The period listed: ``tanggal``, ``dari``/``sampai`` or else the feed window."""
    day, since, until = day_arg(request), day_arg(request, "dari"), day_arg(request, "sampai")
    if day is not None:
        if since is not None or until is not None:
            raise respond.BadQueryError("Pakai \"tanggal\" atau \"dari\"/\"sampai\", jangan "
                                        "keduanya.")
        return midnight(day), midnight(day + dt.timedelta(days=1))
    start, end = request.index.window()
    first = since or start.astimezone(WIB).date()
    last = until or (end.astimezone(WIB) - dt.timedelta(microseconds=1)).date()
    if last < first:
        raise respond.BadQueryError("Tanggal \"sampai\" tidak boleh sebelum tanggal \"dari\".")
    if (last - first).days >= MAX_SPAN_DAYS:
        raise respond.BadQueryError(f"Rentang tanggal terlalu panjang (paling lama "
                                    f"{MAX_SPAN_DAYS} hari).")
    return midnight(first), midnight(last + dt.timedelta(days=1))


def event(occ: Occurrence, base_url: str) -> dict[str, Any]:
    """One occurrence as the JSON object the city's website reads."""
    if occ.all_day:
        last = max(occ.start, occ.end - dt.timedelta(days=1))
        start, end = occ.start.date().isoformat(), last.date().isoformat()
    else:
        start, end = occ.start.isoformat(), occ.end.isoformat()
    hidden = occ.internal  # CONFIDENTIAL: time, label and OPD only (issue 9 item 7)
    return {
        "id": occ.id,
        "uid": occ.uid,
        "name": occ.title,
        "startDate": start,
        "endDate": end,
        "allDay": occ.all_day,
        "location": None if hidden else (occ.location or None),
        "venue": None if hidden else occ.venue,
        "organizer": {"id": occ.opd, "name": occ.opd_name},
        "category": [] if hidden else list(occ.categories),
        "description": None if hidden else (occ.description or None),
        "url": base_url + occ.path,
        # RFC 5545 §3.8.1.11: a public activity without STATUS is taken as confirmed
        "status": occ.status or "CONFIRMED",
        "internal": hidden,
        "standIns": [] if hidden else list(occ.stand_ins),
    }


def dumps(data: Any) -> str:
    """Compact UTF-8 JSON (Indonesian text as is, not \\u-escaped)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class Rendered:
    """The last few JSON answers, by everything their body depends on.

    The whole feed window is megabytes of JSON at city scale (bench/WEB.md); a city
    website polling it, or a 304 to ``If-None-Match``, must not rebuild it every time.
    The key holds the index's :meth:`~kalender_sync.webindex.WebIndex.version`, so
    an answer is never served once the sync service has changed the data.
    """

    def __init__(self, entries: int = 8, budget: int = 64 << 20) -> None:
        self.entries, self.budget = entries, budget
        self._items: OrderedDict[tuple[Any, ...], respond.Response] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> respond.Response | None:
        """A copy of the answer kept for ``key``, or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
        return respond.Response(found.status, found.body, found.content_type,
                                dict(found.headers))

    def put(self, key: tuple[Any, ...], answer: respond.Response) -> None:
        """Keep ``answer``; the least recently used go beyond the limits."""
        with self._lock:
            self._items[key] = answer
            while len(self._items) > self.entries or (
                    len(self._items) > 1
                    and sum(len(a.body) for a in self._items.values()) > self.budget):
                self._items.popitem(last=False)


RENDERED = Rendered()


def agenda(request: Any) -> respond.Response:
    """The public activities of the feed window (or of the asked days) as JSON."""
    chosen = filters(request)
    start, end = span(request)
    # the version first: data written after it only makes the kept body newer
    key = (str(request.index.path), request.index.version(), start, end, chosen,
           request.base_url)
    answer = RENDERED.get(key)
    if answer is not None:
        return answer
    found = request.index.between(start, end, **chosen.keywords())
    last = (end - dt.timedelta(days=1)).date()
    base = request.base_url
    body = {"name": NAME, "url": base + "/", "from": start.date().isoformat(),
            "to": last.isoformat(), "count": len(found), "events": [event(o, base) for o in found]}
    # cross-origin reads are the point of this endpoint (Fetch standard, CORS protocol)
    answer = respond.page(dumps(body), JSON, max_age=60, Access_Control_Allow_Origin="*")
    RENDERED.put(key, answer)
    return RENDERED.get(key) or answer


def error(status: int, message: str) -> respond.Response:
    """A JSON error answer ``{"error": sentence, "status": code}`` (never cached)."""
    answer = respond.Response(status, dumps({"error": message, "status": status}).encode(),
                              JSON)
    answer.headers.update({"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"})
    return answer
