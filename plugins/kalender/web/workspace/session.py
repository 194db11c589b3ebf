"""Browser sessions of the web workspace, kept in ``kalender.db`` (table ``web_sessions``).

A session is 32 random bytes in the cookie ``kalender_sesi`` (HttpOnly,
SameSite=Lax, Path=/, Secure when the request came over TLS: RFC 6265
§4.1.2.5-6 and RFC 6265bis §4.1.2.7); the table keeps only the token's
SHA-256, so a copy of the database signs nobody in. A session ends ``idle``
seconds after its last request, ``absolute`` seconds after sign-in (``[auth]
kalender_session_idle`` / ``kalender_session_max``, 2 and 12 hours by default;
``kalender_session_secure = yes`` makes the cookies Secure behind a TLS proxy
that waitress does not trust),
at ``/keluar/``, when its account leaves users.csv or becomes a sync account,
and when the account's password changes (its htpasswd line differs from the
one at sign-in). Signing in always makes a new token (no session fixation).

CSRF: a signed-in person's forms carry a token derived from the session's
secret (HMAC-SHA-256 of the cookie's token: no one without the cookie can make
it); the sign-in form, before any session, carries a random token that is also
in the cookie ``kalender_csrf`` (double submit). ``kalender.web.app`` compares
the posted field ``csrf`` with :func:`expected_csrf` before any page runs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kalender import database
from kalender.errors import KalenderError
from kalender.registry import User
from kalender.web import respond

if TYPE_CHECKING:  # pragma: no cover
    from kalender.web.app import Request

COOKIE = "kalender_sesi"
CSRF_COOKIE = "kalender_csrf"
#: Where each role lands after signing in (sync accounts do not sign in to the web).
HOMES = {"pic": "/opd/", "pimpinan": "/pimpinan/", "protokol": "/persetujuan/",
         "admin": "/admin/"}
ROLE_NAMES = {"pic": "PIC OPD", "pimpinan": "pimpinan", "protokol": "protokol",
              "admin": "admin"}
#: A session's last request is written at most once a minute (not on every page).
TOUCH_SECONDS = 60
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class LoginRequired(KalenderError):
    """The page needs a signed-in account (``kalender.web.app`` answers 303 to /masuk/)."""

    status = 401
    reason = "Perlu Masuk"


@dataclass(frozen=True)
class Limits:
    """Seconds a session lives without a request, and at most after sign-in; Secure always?"""

    idle: int = 2 * 3600
    absolute: int = 12 * 3600
    #: the cookies are Secure even when the request came over plain HTTP: for a TLS
    #: proxy in front that waitress does not trust (X-Forwarded-Proto then unseen)
    secure: bool = False


@dataclass(frozen=True)
class Session:
    """One stored session (its token is never stored)."""

    login: str
    created: int
    seen: int
    password: str  # fingerprint of the account's password hash at sign-in


@dataclass(frozen=True)
class SignedIn:
    """The request's account and the cookie's token."""

    user: User
    token: str


def limits(configuration: Any) -> Limits:
    """The session limits from ``[auth] kalender_session_idle`` / ``kalender_session_max``."""
    base = Limits()
    values = []
    for name, default in (("kalender_session_idle", base.idle),
                          ("kalender_session_max", base.absolute)):
        text = _option(configuration, name)  # '' when not set, or an auth type
        if not text:                          # (ldap) that takes no extra options
            values.append(default)
            continue
        if not (text.isascii() and text.isdigit() and int(text) > 0):
            raise ValueError(f"[auth] {name} harus jumlah detik (bilangan bulat positif), "
                             f"bukan {text!r}")
        values.append(int(text))
    return Limits(values[0], values[1], _option(configuration, "kalender_session_secure")
                  in ("yes", "true", "1", "on"))


def _option(configuration: Any, name: str) -> str:
    """An ``[auth]`` option as lowercase text, '' when not set."""
    try:
        raw = configuration.get("auth", name) if configuration is not None else None
    except KeyError:
        return ""
    return str(raw).strip().lower() if raw is not None else ""


def _digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class Store:
    """Sessions in the deployment's database; ``clock`` (epoch seconds) is injectable."""

    def __init__(self, path: Path, htpasswd: Path | None = None, limits: Limits = Limits(),
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.htpasswd = htpasswd
        self.limits = limits
        self.clock = clock
        self._lock = threading.Lock()
        self._hashes: tuple[tuple[int, int], dict[str, str]] = ((-1, -1), {})

    def _now(self) -> int:
        return int(self.clock())

    def create(self, login: str) -> str:
        """A new session for ``login``; returns the cookie's token (shown once, never stored)."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        db = database.connect(self.path)
        db.execute("DELETE FROM web_sessions WHERE created <= ? OR seen <= ?",
                   (now - self.limits.absolute, now - self.limits.idle))
        db.execute("INSERT INTO web_sessions (digest, login, created, seen, password) "
                   "VALUES (?, ?, ?, ?, ?)", (_digest(token), login, now, now,
                                              self.fingerprint(login)))
        return token

    def find(self, token: str) -> Session | None:
        """The live session of ``token`` (its last request noted), None if none or expired."""
        if not _TOKEN_RE.match(token):
            return None
        db = database.connect(self.path)
        digest = _digest(token)
        row = db.execute("SELECT login, created, seen, password FROM web_sessions "
                         "WHERE digest = ?", (digest,)).fetchone()
        if row is None:
            return None
        found = Session(*row)
        now = self._now()
        if now - found.created >= self.limits.absolute or now - found.seen >= self.limits.idle:
            db.execute("DELETE FROM web_sessions WHERE digest = ?", (digest,))
            return None
        if now - found.seen >= TOUCH_SECONDS:
            db.execute("UPDATE web_sessions SET seen = ? WHERE digest = ?", (now, digest))
        return found

    def end(self, token: str) -> None:
        """End one session (``/keluar/``)."""
        if _TOKEN_RE.match(token):
            database.connect(self.path).execute("DELETE FROM web_sessions WHERE digest = ?",
                                                (_digest(token),))

    def end_login(self, login: str, keep_password: str | None = None) -> None:
        """End every session of ``login`` (but those signed in with ``keep_password``)."""
        database.connect(self.path).execute(
            "DELETE FROM web_sessions WHERE login = ? AND password != ?",
            (login, "\0" if keep_password is None else keep_password))

    def fingerprint(self, login: str) -> str:
        """A fingerprint of ``login``'s password hash in the htpasswd file ('' when none)."""
        if self.htpasswd is None:
            return ""
        try:
            st = self.htpasswd.stat()
            stamp = (st.st_mtime_ns, st.st_size)
            with self._lock:
                if stamp != self._hashes[0]:
                    text = self.htpasswd.read_text("utf-8", errors="replace")
                    hashes = {}
                    for line in text.splitlines():
                        name, colon, value = line.strip().partition(":")
                        if colon and name not in hashes:
                            hashes[name] = hashlib.sha256(
                                b"kalender-session\0" + value.encode()).hexdigest()[:32]
                    self._hashes = (stamp, hashes)
                return self._hashes[1].get(login, "")
        except OSError:
            return ""


def cookies(environ: Any) -> dict[str, str]:
    """The request's cookies (RFC 6265 §5.4: the first of a name is the most specific)."""
    found: dict[str, str] = {}
    for part in str(environ.get("HTTP_COOKIE", "")).split(";"):
        name, equals, value = part.strip().partition("=")
        if equals and name and name not in found:
            found[name] = value.strip().strip('"')
    return found


def cookie(name: str, value: str, secure: bool, max_age: int | None = None) -> str:
    """A ``Set-Cookie`` value: HttpOnly, SameSite=Lax, Path=/, Secure over TLS."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def is_secure(request: Request) -> bool:
    """Whether the cookies are Secure: the request came over TLS (waitress sets https
    behind a trusted proxy), or ``[auth] kalender_session_secure = yes``."""
    return (request.sessions.limits.secure
            or request.environ.get("wsgi.url_scheme") == "https")


def current(request: Request) -> SignedIn | None:
    """The request's signed-in account, ending sessions that no longer hold."""
    token = cookies(request.environ).get(COOKIE, "")
    if not token:
        return None
    store = request.sessions
    found = store.find(token)
    user = request.registry.user(found.login) if found is not None else None
    if found is not None and (user is None or user.role not in HOMES):
        store.end_login(found.login)  # removed from users.csv, or now a sync account
        user = None
    elif found is not None and user is not None:
        password = store.fingerprint(user.login)
        if found.password != password:
            store.end_login(user.login, keep_password=password)  # the password changed
            user = None
    if user is None:
        request.cookies.append(cookie(COOKIE, "", is_secure(request), max_age=0))
        return None
    return SignedIn(user, token)


def csrf_of(token: str) -> str:
    """The CSRF token of a session (HMAC of its secret)."""
    mac = hmac.new(token.encode("ascii"), b"kalender-csrf", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def expected_csrf(request: Request) -> str | None:
    """The token a POST must carry: the session's, else the ``kalender_csrf`` cookie's."""
    signed = request.signed_in
    if signed is not None:
        return csrf_of(signed.token)
    value = cookies(request.environ).get(CSRF_COOKIE, "")
    return value if _TOKEN_RE.match(value) else None


def csrf_token(request: Request) -> str:
    """The token for this request's forms (a new ``kalender_csrf`` cookie when needed)."""
    expected = expected_csrf(request)
    if expected is not None:
        return expected
    value = secrets.token_urlsafe(32)
    request.cookies.append(cookie(CSRF_COOKIE, value, is_secure(request)))
    return value


def home_of(user: User) -> str:
    """The page a role lands on after signing in."""
    return HOMES.get(user.role, "/")


def require(request: Request, *roles: str) -> User:
    """The signed-in account, whose role is one of ``roles`` (any role when none given)."""
    user = request.user
    if user is None:
        raise LoginRequired("Silakan masuk dengan akun Kalender OPD Anda.")
    if roles and user.role not in roles:
        names = [ROLE_NAMES.get(r, r) for r in roles]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " dan " + names[-1]
        raise respond.ForbiddenError(f"Halaman ini hanya untuk {listed}.")
    return user
