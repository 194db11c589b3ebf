"""Signing in and out of the web workspace: ``/masuk/`` and ``/keluar/``.

The password is checked by the CalDAV application itself: a PROPFIND (Depth
0) of the account's home ``/<login>/`` with the typed credentials as HTTP
Basic, from the browser's address (``kalender.web.workspace.internal.send``).
So bcrypt or LDAP, the login throttle (429 with the wait), Radicale's "Failed
login attempt" line and the request counters are exactly a calendar app's.
A success makes a new session (never the one the browser came with: no
fixation) and sends the browser on to ``lanjut``, a local path only (no
open redirect), or to its role's page. Sync accounts do not sign in here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from kalender.dav import answers
from kalender.registry import LEGACY_LOGIN_RE, User
from kalender.web import respond
from kalender.web.render import render
from kalender.web.workspace import internal, session

if TYPE_CHECKING:  # pragma: no cover
    from kalender.web.app import Request

logger = logging.getLogger("kalender.web")

WRONG = "Login atau kata sandi salah."
#: A Depth 0 PROPFIND asking one property: the cheapest answer that needs a login.
PROBE = (b'<?xml version="1.0" encoding="utf-8"?>\n'
         b'<propfind xmlns="DAV:"><prop><resourcetype/></prop></propfind>')
#: Paths ``lanjut`` may not name: the sign-in pages themselves.
_NOT_NEXT = ("/masuk", "/keluar")


def safe_next(value: str) -> str | None:
    """``value`` if it is a path of this site to go on to, else None (no open redirect).

    Only a path beginning with exactly one "/" (``//evil.example`` and
    ``/\\evil.example`` are other hosts to a browser, WHATWG URL §4.4), with no
    scheme, host, backslash or control character.
    """
    if (not value or len(value) > 2000 or not value.startswith("/")
            or value.startswith(("//", "/\\")) or "\\" in value
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith(_NOT_NEXT):
        return None
    return value


def page(request: Request) -> respond.Response:
    """``/masuk/``: the form (GET), or signing in (POST)."""
    if request.method == "POST":
        return _sign_in(request)
    user = request.user
    if user is not None:  # signed in already: on to where the link wanted to go
        return respond.redirect(safe_next(request.arg("lanjut")) or session.home_of(user))
    return _form(request)


def leave(request: Request) -> respond.Response:
    """``/keluar/``: end the session (POST); GET shows the button (the form needs a token)."""
    if request.method != "POST":
        if request.user is None:
            return respond.redirect("/")
        body = render("ws/keluar.html", request=request)
        return respond.page(body, max_age=0, private=True)
    signed = request.signed_in
    if signed is not None:
        request.sessions.end(signed.token)
        logger.info("Keluar dari halaman web: %s", signed.user.login)
    answer = respond.redirect("/")
    answer.cookies.append(session.cookie(session.COOKIE, "", session.is_secure(request),
                                         max_age=0))
    return answer


def _form(request: Request, status: int = 200, login: str = "", message: str = "",
          **headers: str) -> respond.Response:
    """The sign-in form (with ``message`` above it, ``login`` kept)."""
    lanjut = safe_next(request.posted("lanjut") if request.method == "POST"
                       else request.arg("lanjut")) or ""
    body = render("ws/masuk.html", request=request, login=login, message=message,
                  lanjut=lanjut)
    return respond.page(body, max_age=0, status=status, private=True, **headers)


def _sign_in(request: Request) -> respond.Response:
    """Check the credentials through the CalDAV application; a new session when right."""
    login = request.posted("login")
    password = request.form.get("password", [""])[0]  # as typed: spaces count
    if not login or not password:
        return _form(request, login=login, message="Isi login dan kata sandi Anda.")
    if not LEGACY_LOGIN_RE.match(login):  # no account can have it: no password is tried
        return _form(request, login=login, message=WRONG)
    answer = internal.send(request, "PROPFIND", f"/{login}/", PROBE,
                           {"Depth": "0", "Content-Type": "application/xml; charset=utf-8"},
                           (login, password))
    if answer.status == 429:
        wait = answer.headers.get("Retry-After", "60")
        seconds = int(wait) if wait.isdigit() else 60
        return _form(request, 429, login, answers.throttled(seconds).message,
                     Retry_After=str(seconds))
    if answer.status == 401:
        # 200 with the form, not 401: a 401 must carry a WWW-Authenticate
        # challenge (RFC 9110 §15.5.2) and a browser would show its prompt
        return _form(request, login=login, message=WRONG)
    if answer.status != 207:
        logger.warning("Masuk lewat halaman web: PROPFIND /%s/ dijawab %d", login,
                       answer.status)
        return _form(request, 503, login, "Login tidak dapat diperiksa saat ini; coba lagi "
                                          "sebentar lagi.")
    user = request.registry.user(login)
    refusal = _refusal(user)
    if refusal or user is None:
        return _form(request, 403, login, refusal)
    if request.signed_in is not None:  # a browser signing in again: its old session ends
        request.sessions.end(request.signed_in.token)
    token = request.sessions.create(user.login)
    done = respond.redirect(safe_next(request.posted("lanjut")) or session.home_of(user))
    done.cookies.append(session.cookie(session.COOKIE, token, session.is_secure(request),
                                       max_age=request.sessions.limits.absolute))
    logger.info("Masuk lewat halaman web: %s", user.login)
    return done


def _refusal(user: User | None) -> str:
    """Why an account whose password is right may not use the web workspace ('' if it may)."""
    if user is None:
        return ("Akun ini tidak terdaftar di Kalender OPD (users.csv); hubungi admin "
                "Diskominfo.")
    if user.role not in session.HOMES:
        return ("Akun sinkronisasi tidak dapat masuk ke halaman web; masuklah dengan akun "
                "PIC, pimpinan atau admin.")
    return ""
