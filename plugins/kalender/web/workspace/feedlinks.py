"""Private subscription links on the web: show, rotate, and serve ``/langganan/<token>/``.

An account's home pages (``/opd/``, ``/pimpinan/``) list its links
(:func:`links`, one per calendar ``kalender.feedtokens.readable`` allows) with a
"Buat ulang tautan" button (:func:`rotate`, a POST: every old link stops at
once). :func:`serve` answers a calendar app that holds a link, without any
session or password (the token is the key):

- only while the account exists and may still read that calendar, asked
  again at every request (the rights matrix and the rights file itself);
- a rendered output calendar is served from ``DIR/feeds/`` exactly like the
  public feed (``kalender.dav.feeds``: ETag, Last-Modified, 304 on
  If-None-Match, RFC 9110 §13.1.2), a PIC's own OPD calendar (which has no
  rendered feed) through the CalDAV application as that account
  (``kalender.web.workspace.internal``);
- at most :data:`LIMIT` requests per link per hour (then 429 with
  Retry-After, RFC 6585 §4): a link copied into a misbehaving app cannot keep
  the server busy;
- never logged: the request log masks a path segment of 32+ token characters,
  and a failure here is logged without the path.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kalender.dav import feeds, tickets
from kalender.errors import KalenderError
from kalender.feedtokens import ROLES, FeedTokens, digest, label, readable
from kalender.registry import User
from kalender.web import respond
from kalender.web.workspace import internal, session

logger = logging.getLogger("kalender.web")
#: Requests per link within :data:`WINDOW` seconds (an app polls every few minutes at most).
LIMIT = 120
WINDOW = 3600.0
#: The pages the rotate button may return to.
HOMES = ("/opd/", "/pimpinan/")
GONE = ("Tautan langganan ini tidak berlaku: sudah dibuat ulang, akunnya dihapus, atau "
        "akun itu tidak lagi boleh membaca kalender ini. Minta tautan baru dari halaman "
        "Kalender OPD Anda.")

#: What an app gets of a calendar that exists in the registries but holds nothing yet.
EMPTY = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kalender OPD//Kota Kediri//ID\r\n"
         b"END:VCALENDAR\r\n")


class FeedUnavailableError(KalenderError):
    """The calendar could not be read just now."""

    status = 503
    reason = "Layanan Tidak Tersedia"


@dataclass(frozen=True)
class ShownLink:
    """One link as a home page shows it."""

    calendar: str
    label: str
    url: str
    created: str

    @property
    def group(self) -> str:
        """``orang`` or ``ruang`` for the long lists a page folds away, else ``utama``."""
        kind = self.calendar.split("/", 1)[0]
        return kind if kind in ("orang", "ruang") else "utama"


class RateLimit:
    """At most ``limit`` requests per key within a sliding ``window`` (seconds)."""

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._seen: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Count one request; 0 if allowed, else the seconds until one is (Retry-After)."""
        now = self.clock()
        with self._lock:
            for k in [k for k, q in self._seen.items() if q[-1] <= now - self.window]:
                del self._seen[k]  # keys idle for a whole window: forgotten
            seen = self._seen.setdefault(key, collections.deque())
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.limit:
                return max(1, int(seen[0] + self.window - now + 0.999))
            seen.append(now)
            return 0


LIMITS = RateLimit(LIMIT, WINDOW)


def calendars_of(request: Any, user: User) -> list[str]:
    """The calendars ``user`` may have links for, by today's registries."""
    reg = request.registry
    return readable(user, reg.opds(), list(reg.venues()), list(reg.persons()))


def links(request: Any, user: User) -> list[ShownLink]:
    """The account's links (made where missing), labelled, as full URLs."""
    reg = request.registry
    names = ({o.id: o.name for o in reg.opds()}, {v.id: v.name for v in reg.venues().values()},
             {p.id: p.title for p in reg.persons().values()})
    made = FeedTokens.of(request.root).links(user.login, calendars_of(request, user))
    return [ShownLink(k.calendar, label(k.calendar, *names), request.base_url + k.path,
                      k.created) for k in made]


def rotate(request: Any) -> respond.Response:
    """``POST /langganan/buat-ulang/``: revoke the account's links, make new ones."""
    user = session.require(request)
    if user.role not in ROLES:
        raise respond.ForbiddenError("Akun ini tidak memakai tautan langganan.")
    tokens = FeedTokens.of(request.root)
    tokens.rotate(user.login)
    tokens.links(user.login, calendars_of(request, user))
    back = request.posted("kembali")
    back = back if back in HOMES else session.home_of(user)
    return respond.redirect(f"{back}?langganan=baru#langganan")


def serve(request: Any, token: str) -> respond.Response:
    """``GET /langganan/<token>/``: the calendar of a private link, like the public feed."""
    try:
        return _serve(request, token)
    except KalenderError:
        raise
    except Exception:  # logged here without the path: the path is the secret
        logger.exception("web: tautan langganan gagal dilayani")
        raise FeedUnavailableError("Kalender ini tidak dapat dibaca saat ini; aplikasi Anda "
                                   "akan mencoba lagi.") from None


def _serve(request: Any, token: str) -> respond.Response:
    """The answer of :func:`serve`."""
    found = FeedTokens.of(request.root).find(token)
    user = request.registry.user(found[0]) if found is not None else None
    if found is None or user is None or found[1] not in calendars_of(request, user) \
            or not _may_read(request, user.login, f"/{found[1]}/"):
        raise respond.NotFoundError(GONE)
    wait = LIMITS.take(digest(token))
    if wait:
        body = (f"Terlalu banyak permintaan untuk tautan langganan ini (paling banyak {LIMIT} "
                f"per jam); coba lagi dalam {wait} detik.")
        return respond.Response(429, body.encode("utf-8"), "text/plain; charset=utf-8",
                                {"Retry-After": str(wait), "Cache-Control": "no-store"})
    path = f"/{found[1]}/"
    rendered = feeds.feed_file(request.root / "feeds", path, "")
    if rendered is not None and rendered[1]:
        return _from_file(request, *rendered)
    return _through_dav(request, user.login, path)


def _may_read(request: Any, login: str, path: str) -> bool:
    """Whether the rights file lets ``login`` read ``path`` (as kalender.dav.app's GET asks)."""
    rights = getattr(request.dav, "_rights", None)
    if rights is None:
        return True  # the matrix (feedtokens.readable) already said yes
    permissions = rights.authorization(login, set(), path)
    return "r" in permissions or "R" in permissions


def _headers(etag: str, last_modified: str | None = None) -> dict[str, str]:
    """The caching headers of a private feed (never in a shared cache, RFC 9111 §5.2.2.7)."""
    fields = {"ETag": etag, "Cache-Control": "private, max-age=60", "Vary": "Accept-Encoding",
              "Referrer-Policy": "no-referrer"}
    if last_modified:
        fields["Last-Modified"] = last_modified
    return fields


def _from_file(request: Any, body_path: Any, meta: dict[str, str]) -> respond.Response:
    """A rendered feed, 304 when the app's copy is current (the body is then not read)."""
    headers = _headers(meta["etag"], meta.get("last_modified"))
    if respond.fresh(request.environ.get("HTTP_IF_NONE_MATCH"), meta["etag"]):
        return respond.Response(200, b"", "text/calendar; charset=utf-8", headers)  # -> 304
    status, _, answered, _ = feeds.answer(request.environ, body_path, meta, public=False)
    if status == 304:  # If-Modified-Since without If-None-Match: the whole body then
        answered = body_path.read_bytes()
    if status not in (200, 304) or not isinstance(answered, bytes):
        raise FeedUnavailableError("Kalender ini sedang diperbarui; aplikasi Anda akan "
                                   "mencoba lagi.")
    return respond.Response(200, answered, "text/calendar; charset=utf-8", headers)


def _through_dav(request: Any, login: str, path: str) -> respond.Response:
    """A calendar without a rendered feed, read through the CalDAV application as ``login``."""
    with tickets.ticket(login) as secret:
        answer = internal.send(request, "GET", path, credentials=(login, secret))
    body = answer.body
    if answer.status == 404:  # a venue's or person's calendar the sync has not made yet
        body = EMPTY
    elif answer.status in (401, 403):
        raise respond.NotFoundError(GONE)
    elif answer.status != 200:
        raise FeedUnavailableError("Kalender ini tidak dapat dibaca saat ini; aplikasi Anda "
                                   "akan mencoba lagi.")
    return respond.Response(200, body, "text/calendar; charset=utf-8",
                            _headers(respond.etag_of(body)))
