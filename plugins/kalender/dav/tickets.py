"""One-time tickets: the web workspace's requests through the CalDAV application.

A signed-in browser has no password to send (only its session cookie), yet
what it writes must pass exactly CalDAV's way: the same login and rights
check, the guard in the same lock, the audit trail naming the real login and
the Bentrok channel for refusals. ``kalender.web.workspace.internal`` therefore
asks here for a ticket for the session's login and sends it as that login's
HTTP Basic password (RFC 7617) in one request to the application.
:class:`TicketAuth`, wrapped around the configured auth backend by
``kalender.dav.app``, accepts the ticket before asking the real backend, so it
works with htpasswd and LDAP alike.

A ticket is 32 random bytes, kept in memory only (as its SHA-256), valid for
the login it was issued for, in the thread that asked for it (the one request
the workspace makes at once), for at most :data:`LIFETIME` seconds, and ends
with that request (:func:`ticket`). It is never logged: Radicale masks Basic
credentials (``[logging] mask_passwords``) and the request log never prints
them; a ticket that leaked anyway is dead by then.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: Seconds a ticket lives at most (one request takes far less).
LIFETIME = 60.0
#: Tickets alive at once at most (one per worker thread is the normal case).
MAX_TICKETS = 1000
#: The auth "info" Radicale logs for a ticket login ("Successful login: 'x' (...)").
KIND = "kalender web workspace ticket"


@dataclass(frozen=True)
class _Ticket:
    """What a ticket is valid for."""

    login: str
    expires: float  # time.monotonic()
    thread: int


_lock = threading.Lock()
_tickets: dict[bytes, _Ticket] = {}


def _digest(secret: str) -> bytes:
    """The ticket's key in memory (the secret itself is never kept)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def issue(login: str) -> str:
    """A new ticket for ``login``, for one request from this thread."""
    secret = "kt-" + secrets.token_urlsafe(32)
    now = time.monotonic()
    with _lock:
        for key in [k for k, t in _tickets.items() if t.expires <= now]:
            del _tickets[key]
        if len(_tickets) >= MAX_TICKETS:  # never grows without bound, whatever calls it
            del _tickets[min(_tickets, key=lambda k: _tickets[k].expires)]
        _tickets[_digest(secret)] = _Ticket(login, now + LIFETIME, threading.get_ident())
    return secret


def valid(login: str, secret: str) -> bool:
    """True if ``secret`` is a live ticket for ``login`` issued in this thread."""
    if not secret.startswith("kt-"):
        return False  # a password: not even hashed here
    with _lock:
        found = _tickets.get(_digest(secret))
    return (found is not None and found.expires > time.monotonic()
            and found.thread == threading.get_ident()
            and hmac.compare_digest(found.login.encode(), login.encode()))


def revoke(secret: str) -> None:
    """End a ticket (its request is over)."""
    with _lock:
        _tickets.pop(_digest(secret), None)


@contextlib.contextmanager
def ticket(login: str) -> Iterator[str]:
    """A ticket for ``login`` that ends when the block does."""
    secret = issue(login)
    try:
        yield secret
    finally:
        revoke(secret)


class TicketAuth:
    """The configured auth backend, accepting a live ticket in place of the password."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def __getattr__(self, name: str) -> Any:
        """Everything else is the backend's (``get_external_login``, ...)."""
        return getattr(self._backend, name)

    def login(self, login: str, password: str, context: Any) -> tuple[str, str, set[str]]:
        """Radicale's ``BaseAuth.login``: a ticket's login, else the backend's answer."""
        if valid(login, password):
            return login, KIND, set()
        return self._backend.login(login, password, context)  # type: ignore[no-any-return]

    def remembered(self, login: str, password: str) -> bool:
        """True for a live ticket (never throttled) or credentials the backend remembers."""
        if valid(login, password):
            return True
        remembered = getattr(self._backend, "remembered", None)
        return bool(remembered(login, password)) if callable(remembered) else False
