"""Serving the rendered feeds (``DIR/feeds/``) for GET of the output calendars.

The sync service renders each output calendar as one file with its ETag and
Last-Modified (``kalender_sync.publish``). Serving those files answers a GET
without Radicale's storage lock, so subscribers polling the public agenda
never hold up an OPD's write (a Radicale GET of a 50k-event collection holds
the shared lock for seconds). Conditional requests get 304 (RFC 9110 §13).
"""

from __future__ import annotations

import email.utils
import json
import re
from http import client
from pathlib import Path
from urllib.parse import parse_qs

from radicale import types

#: Output calendars with a rendered feed: /publik/agenda/, /ruang/<id>/, ...
FEED_PATH = re.compile(r"^/(publik/agenda|pimpinan/agenda|ruang/[a-z0-9-]+|orang/[a-z0-9-]+)/$")
OPD_ID = re.compile(r"^[a-z0-9-]{1,64}$")
#: Query parameters asking for the whole history of the public agenda.
FULL_PARAMS = ("penuh", "semua", "full")


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
