"""Rendering the output calendars as static feed files (``DIR/feeds/``).

Each feed is one VCALENDAR file plus a small JSON file with its ETag and
Last-Modified, written by rename so a reader never sees half a file.
``kalender.dav.app`` serves them for GET (with 304 answers and gzip); a reverse
proxy or CDN can serve the same files directly.

The public feed holds a window of WIB days, from ``WINDOW_PAST_DAYS`` (7) days
ago to ``WINDOW_FUTURE_DAYS`` (60) days ahead: Google Calendar refuses
subscribed feeds above about 1 MB, and a city with 20 public activities a day
fills that window with about 0.55 MB (``bench/FEEDSIZE.md``: 67 days x 20 x
about 450 bytes a copy, plus the weekly series that overlap it). The same
window is what ``/publik/agenda.json`` lists (``WebIndex.window``) and it moves
at each WIB midnight (:func:`next_expiry`). ``publik-agenda-penuh.ics`` holds
the whole history; any other range, category or OPD is rendered on request
(:func:`render_range`, served by ``kalender.dav.feeds``). A cancelled
activity stays in every public feed, marked (``DIBATALKAN``, STATUS:CANCELLED,
RFC 5545 §3.8.1.11), until it has ended, then leaves them: subscribers learn of
the cancellation, and the history does not list what never took place.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from kalender_sync.state import State

DAY = 86400
WINDOW_PAST_DAYS = 7
WINDOW_FUTURE_DAYS = 60
WIB_OFFSET = 7 * 3600
#: Lines a feed leaves out of each VEVENT: their values are the defaults
#: (SEQUENCE 0, RFC 5545 §3.8.7.4; TRANSP OPAQUE, §3.8.2.7).
DEFAULT_LINES = ("SEQUENCE:0", "TRANSP:OPAQUE")
CANCELLED = "\r\nSTATUS:CANCELLED\r\n"
PUBLIC = "publik/agenda"
NAMES = {
    "publik/agenda": "Agenda Publik Kota Kediri",
    "pimpinan/agenda": "Agenda Pimpinan Kota Kediri",
}


def feed_name(calendar: str, full: bool = False, opd: str | None = None) -> str:
    """File stem of a calendar's feed, e.g. ``publik-agenda`` (``-penuh`` for all history).

    ``opd``: the public agenda of one OPD (``/publik/agenda/?opd=<id>``),
    ``publik-agenda-opd-<id>``.
    """
    return calendar.replace("/", "-") + ("-penuh" if full else "") + (
        f"-opd-{opd}" if opd else "")


def split(text: str) -> tuple[dict[str, str], list[str]]:
    """(VTIMEZONE blocks by TZID, VEVENT blocks) of one VCALENDAR text."""
    zones: dict[str, str] = {}
    events: list[str] = []
    block: list[str] | None = None
    depth_name = ""
    for line in text.replace("\r\n", "\n").split("\n"):
        if block is None and line in ("BEGIN:VTIMEZONE", "BEGIN:VEVENT"):
            block, depth_name = [line], line[6:]
            continue
        if block is not None:
            block.append(line)
            if line == f"END:{depth_name}":
                if depth_name == "VEVENT":
                    block = [x for x in block if x not in DEFAULT_LINES]
                body = "\r\n".join(block) + "\r\n"
                if depth_name == "VEVENT":
                    events.append(body)
                else:
                    tzid = next((x[5:] for x in block if x.startswith("TZID:")), body)
                    zones[tzid] = body
                block = None
    return zones, events


def render(calendar: str, texts: Iterable[str], title: str) -> bytes:
    """One VCALENDAR holding every copy (time zones once each)."""
    zones: dict[str, str] = {}
    events: list[str] = []
    for text in texts:
        z, e = split(text)
        zones.update(z)
        events.extend(e)
    head = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Pemerintah Kota Kediri//Kalender OPD//ID"
            f"\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:{title}\r\n"
            "X-WR-TIMEZONE:Asia/Jakarta\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n"
            "X-PUBLISHED-TTL:PT1H\r\n")
    return (head + "".join(zones.values()) + "".join(events) + "END:VCALENDAR\r\n").encode()


def write_feed(folder: Path, name: str, body: bytes) -> bool:
    """Write a feed and its metadata if its content changed; True when written."""
    folder.mkdir(parents=True, exist_ok=True)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    meta_path = folder / f"{name}.json"
    if meta_path.exists() and json.loads(meta_path.read_text("utf-8")).get("etag") == etag:
        return False
    _atomic(folder / f"{name}.ics", body)
    meta = {"etag": etag, "last_modified": email.utils.formatdate(time.time(), usegmt=True),
            "length": len(body)}
    _atomic(meta_path, json.dumps(meta).encode())
    return True


def _atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` by rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def over(text: str, end: int, now: int) -> bool:
    """Whether a copy is a cancellation that has ended by ``now`` (every VEVENT cancelled).

    A series with one cancelled occurrence (an override) stays: its master says
    the other dates.
    """
    if end > now or CANCELLED not in text:
        return False
    events = split(text)[1]
    return bool(events) and all(CANCELLED in event for event in events)


def _public(state: State, calendar: str, now: int, window: tuple[int, int] | None = None
            ) -> Iterator[tuple[str, str]]:
    """(OPD, text) of the public copies to render: ended cancellations left out.

    ``window`` is [start, end) in epoch seconds: a copy overlapping it is rendered.
    """
    entries = (state.calendar_entries(calendar, window[0] + 1, window[1] - 1) if window
               else state.calendar_entries(calendar))
    for opd, text, end in entries:
        if not over(text, end, now):
            yield opd, text


def midnight(now: int) -> int:
    """The epoch of 00:00 WIB of the day of ``now``."""
    return (now + WIB_OFFSET) // DAY * DAY - WIB_OFFSET


def window(now: int) -> tuple[int, int]:
    """[start, end) of the default public feed: WIB midnights (as ``WebIndex.window``)."""
    today = midnight(now)
    return today - WINDOW_PAST_DAYS * DAY, today + WINDOW_FUTURE_DAYS * DAY


def next_expiry(state: State, now: int) -> int:
    """When the public feeds are rendered again: next WIB midnight, or a cancellation's end."""
    ended = state.next_end("publik/agenda", now, CANCELLED)
    tomorrow = midnight(now) + DAY
    return min(ended, tomorrow) if ended is not None else tomorrow


def publish(state: State, folder: Path, calendars: Iterable[str], titles: dict[str, str],
            now: int, opds: Iterable[str] = ()) -> list[str]:
    """Render the feeds of ``calendars`` (the public one windowed, whole and per OPD)."""
    written = []
    # the public agenda first: it is what subscribers wait for
    for calendar in sorted(set(calendars), key=lambda c: (c != "publik/agenda", c)):
        title = titles.get(calendar) or NAMES.get(calendar, calendar)
        if calendar == "publik/agenda":
            rows = list(_public(state, calendar, now, window(now)))
            body = render(calendar, (text for _, text in rows), title)
            if write_feed(folder, feed_name(calendar), body):
                written.append(feed_name(calendar))
            for opd, opd_title in _per_opd(rows, opds, titles, title):
                body = render(calendar, (text for o, text in rows if o == opd), opd_title)
                if write_feed(folder, feed_name(calendar, opd=opd), body):
                    written.append(feed_name(calendar, opd=opd))
            body = render(calendar, (text for _, text in _public(state, calendar, now)), title)
            if write_feed(folder, feed_name(calendar, full=True), body):
                written.append(feed_name(calendar, full=True))
        else:
            body = render(calendar, state.calendar_texts(calendar), title)
            if write_feed(folder, feed_name(calendar), body):
                written.append(feed_name(calendar))
    return written


def _per_opd(rows: list[tuple[str, str]], opds: Iterable[str], titles: dict[str, str],
             title: str) -> list[tuple[str, str]]:
    """(OPD id, feed title) of every per-OPD public feed: each registered OPD, even empty."""
    ids = dict.fromkeys([*opds, *(opd for opd, _ in rows)])
    return [(opd, titles.get(f"opd/{opd}", f"{title} - {opd}")) for opd in ids]


def categories(text: str) -> set[str]:
    """The CATEGORIES of every VEVENT of a copy, casefolded (RFC 5545 §3.8.1.2)."""
    found: set[str] = set()
    for line in text.replace("\r\n ", "").replace("\n ", "").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.split(";", 1)[0].upper() == "CATEGORIES":
            # values are comma separated; "\," is a comma inside one (§3.3.11)
            for item in value.replace("\\,", "\0").split(","):
                item = item.replace("\0", ",").replace("\\;", ";").replace("\\\\", "\\")
                found.add(item.strip().casefold())
    return found


def has_category(state: State, category: str, now: int) -> bool:
    """Whether any public copy (whole history) carries ``category`` (case-insensitive)."""
    wanted = category.casefold()
    return any(wanted in categories(text) for _, text in _public(state, PUBLIC, now))


def render_range(state: State, now: int, span: tuple[int, int] | None, title: str,
                 category: str | None = None, opd: str | None = None) -> bytes:
    """The public feed of ``span`` ([start, end); None: all), of a category or an OPD.

    Rendered on request (``kalender.dav.feeds``); the category is case-insensitive.
    """
    wanted = category.casefold() if category else None
    texts = (text for o, text in _public(state, PUBLIC, now, span)
             if (opd is None or o == opd) and (wanted is None or wanted in categories(text)))
    return render(PUBLIC, texts, title)
