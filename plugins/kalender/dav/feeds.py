"""Serving the rendered feeds (``DIR/feeds/``) for GET of the output calendars.

The sync service renders each output calendar as one file with its ETag and
Last-Modified (``kalender_sync.publish``). Serving those files answers a GET
without Radicale's storage lock, so subscribers polling the public agenda
never hold up an OPD's write (a Radicale GET of a 50k-event collection holds
the shared lock for seconds). Conditional requests get 304 (RFC 9110 §13).

The public agenda has more views than its files: ``?kategori=<name>`` (one
category of the copies, case-insensitive), ``?dari=YYYY-MM-DD&sampai=YYYY-MM-DD``
(any range of WIB days, at most ``MAX_RANGE_DAYS``), combinable with each other,
with ``?opd=`` and with ``?penuh=1``. Such a view is rendered on request from the
sync's state (``DIR/sync.db``, :func:`kalender_sync.publish.render_range`),
still without the storage lock, and kept in ``DIR/feeds/permintaan/`` under a
key holding the whole feed's ETag, so it is rendered once per change of the
agenda and polls of it get 304 like the other feeds.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import re
import time
from http import client
from pathlib import Path
from urllib.parse import parse_qs

from radicale import types

from kalender.dav import outputs
from kalender.errors import BadRequestError, NoFeedError
from kalender_sync import publish
from kalender_sync.state import State

#: Output calendars with a rendered feed: /publik/agenda/, /ruang/<id>/, ...
FEED_PATH = re.compile(rf"^/({outputs.CALENDARS})/$")
OPD_ID = re.compile(r"^[a-z0-9-]{1,64}$")
#: Query parameters asking for the whole history of the public agenda.
FULL_PARAMS = ("penuh", "semua", "full")
#: Query parameters of a view of the public agenda rendered on request.
VIEW_PARAMS = ("kategori", "dari", "sampai")
MAX_RANGE_DAYS = 3 * 366
MAX_CATEGORY = 200
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Views kept in DIR/feeds/permintaan/ (the oldest leave first).
CACHE_ENTRIES = 200


class FeedQueryError(BadRequestError):
    """A feed query that cannot be read: a bad date or range, a category too long."""

    reason = "Parameter Tidak Valid"
    condition = "valid-feed-query"


def feed_file(folder: Path, path: str, query: str) -> tuple[Path, dict[str, str]] | None:
    """(file, metadata) of the feed for a collection path, or None if there is none.

    A per-OPD public feed that does not exist is ``(path, {})``: the caller
    answers 404 rather than handing the whole agenda to Radicale.
    """
    match = FEED_PATH.match(path)
    if match is None:
        return None
    calendar = match.group(1)
    name = calendar.replace("/", "-")
    params = parse_qs(query)
    views = parse_qs(query, keep_blank_values=True)
    if calendar == "publik/agenda" and any(p in views for p in VIEW_PARAMS):
        return view_file(folder, views, any(p in params for p in FULL_PARAMS))
    if calendar == "publik/agenda" and any(p in params for p in FULL_PARAMS):
        name += "-penuh"
    opd = params.get("opd", [""])[0].strip().lower()
    if calendar == "publik/agenda" and opd:
        # one OPD's public agenda; an id that names no OPD has no feed (404)
        name += f"-opd-{opd}" if OPD_ID.match(opd) else "-opd-tidak-ada"
    body, meta = folder / f"{name}.ics", folder / f"{name}.json"
    try:
        return body, json.loads(meta.read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return (body, {}) if "-opd-" in name else None


def _day(views: dict[str, list[str]], name: str) -> dt.date | None:
    """The date of query parameter ``name`` (None when absent)."""
    if name not in views:
        return None
    text = views[name][0].strip()
    try:
        if not DATE.match(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise FeedQueryError(f"Tanggal pada parameter \"{name}\" tidak dapat dibaca: "
                             f"\"{text[:40]}\". Tulis sebagai TTTT-BB-HH, misalnya "
                             "2026-12-01.") from None


def view_span(views: dict[str, list[str]], full: bool, now: int) -> tuple[int, int] | None:
    """[start, end) epoch of ``dari``/``sampai``, else the default window (None: ``penuh``).

    A missing end is the default window's.
    """
    since, until = _day(views, "dari"), _day(views, "sampai")
    if since is None and until is None:
        return None if full else publish.window(now)
    start, end = publish.window(now)
    first = since or dt.datetime.fromtimestamp(start + publish.WIB_OFFSET, dt.UTC).date()
    last = until or dt.datetime.fromtimestamp(end - 1 + publish.WIB_OFFSET, dt.UTC).date()
    if last < first:
        raise FeedQueryError("Tanggal \"sampai\" tidak boleh sebelum tanggal \"dari\".")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise FeedQueryError(f"Rentang tanggal terlalu panjang (paling lama {MAX_RANGE_DAYS} "
                             "hari); untuk seluruh riwayat pakai ?penuh=1.")
    midnight = dt.datetime.combine(first, dt.time(0), dt.UTC).timestamp() - publish.WIB_OFFSET
    return int(midnight), int(midnight) + ((last - first).days + 1) * publish.DAY


def view_file(folder: Path, views: dict[str, list[str]], full: bool
              ) -> tuple[Path, dict[str, str]] | None:
    """(file, metadata) of a view rendered on request (kept, see the module docstring).

    None before the sync service has rendered the public agenda once.
    """
    now = int(time.time())
    span = view_span(views, full, now)
    category = " ".join(views.get("kategori", [""])[0].split()) or None
    if category is not None and len(category) > MAX_CATEGORY:
        raise FeedQueryError(f"Kategori terlalu panjang (paling banyak {MAX_CATEGORY} huruf).")
    opd = views.get("opd", [""])[0].strip().lower() or None
    title = _title(folder / "publik-agenda.ics")
    if opd is not None:
        opd_feed = folder / f"publik-agenda-opd-{opd}.ics"
        if not OPD_ID.match(opd) or not opd_feed.exists():
            raise NoFeedError("Tidak ada agenda publik untuk OPD itu; lihat daftar OPD di "
                              "halaman agenda kota.")
        title = _title(opd_feed)
    try:
        base = json.loads((folder / "publik-agenda-penuh.json").read_text("utf-8"))["etag"]
    except (FileNotFoundError, ValueError, KeyError):
        return None
    asked = [base, span, category.casefold() if category else None, opd]
    key = hashlib.sha256(json.dumps(asked).encode()).hexdigest()[:32]
    cache = folder / "permintaan"
    try:
        meta = json.loads((cache / f"{key}.json").read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        meta = _render(folder, cache, key, now, span, title, category, opd)
    if meta.get("unknown"):
        raise NoFeedError(f"Tidak ada kegiatan publik dengan kategori \"{category}\"; lihat "
                          "daftar kategori di halaman agenda kota.")
    return cache / f"{key}.ics", meta


def _render(folder: Path, cache: Path, key: str, now: int, span: tuple[int, int] | None,
            title: str, category: str | None, opd: str | None) -> dict[str, str]:
    """Render one view from sync.db into the cache; its metadata."""
    state = State(folder.parent / "sync.db")
    try:
        if category is not None and not publish.has_category(state, category, now):
            cache.mkdir(parents=True, exist_ok=True)
            (cache / f"{key}.json").write_text('{"unknown": true}', "utf-8")
            return {"unknown": "1"}
        if category is not None:
            title += f" - {category}"
        body = publish.render_range(state, now, span, title, category, opd)
    finally:
        state.close()
    publish.write_feed(cache, key, body)
    old = sorted(cache.glob("*.json"), key=lambda p: p.stat().st_mtime)[:-CACHE_ENTRIES]
    for path in old:  # the views of past versions of the agenda, or rarely asked
        path.unlink(missing_ok=True)
        path.with_suffix(".ics").unlink(missing_ok=True)
    meta: dict[str, str] = json.loads((cache / f"{key}.json").read_text("utf-8"))
    return meta


def _title(feed: Path) -> str:
    """The X-WR-CALNAME of a rendered feed (in its first lines)."""
    try:
        with feed.open("rb") as f:
            head = f.read(2048).decode("utf-8", "replace")
    except FileNotFoundError:
        head = ""
    found = re.search(r"^X-WR-CALNAME:(.*)\r?$", head, re.M)
    return found.group(1).strip() if found else publish.NAMES[publish.PUBLIC]


def not_modified(environ: types.WSGIEnviron, meta: dict[str, str]) -> bool:
    """Whether the client's copy is current (If-None-Match, else If-Modified-Since)."""
    tags = environ.get("HTTP_IF_NONE_MATCH")
    if tags is not None:
        wanted = {t.strip().removeprefix("W/") for t in tags.split(",")}
        return "*" in wanted or meta["etag"] in wanted
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since:
        try:
            client_time = email.utils.parsedate_to_datetime(since)
            ours = email.utils.parsedate_to_datetime(meta["last_modified"])
        except (TypeError, ValueError):
            return False
        return ours <= client_time
    return False


def answer(environ: types.WSGIEnviron, body_path: Path, meta: dict[str, str],
           public: bool) -> types.WSGIResponse:
    """200 with the feed, or 304."""
    headers = {"ETag": meta["etag"], "Last-Modified": meta["last_modified"],
               "Cache-Control": "public, max-age=300" if public else "private, max-age=60",
               "Vary": "Accept-Encoding"}
    if not_modified(environ, meta):
        return client.NOT_MODIFIED, headers, None, None
    try:
        body = body_path.read_bytes()
    except FileNotFoundError:  # replaced between reading the metadata and now
        return client.SERVICE_UNAVAILABLE, {"Retry-After": "1"}, None, None
    headers["Content-Type"] = "text/calendar; charset=utf-8"
    return client.OK, headers, body, None
