"""Auth plugin: Radicale's htpasswd (bcrypt) with a cache of successful checks.

``[auth] type = kalender.dav.auth``. bcrypt costs tens of milliseconds per check by
design; CalDAV clients authenticate every request. A successful check is
remembered (as a salted SHA-256 of the password, never the password) until the
htpasswd file changes, so a ``kalender user passwd`` or ``user remove`` takes
effect on the next request. Failed checks are never cached; under
``kalender serve`` they are counted by ``kalender.dav.throttle`` instead of
being slept on. ``remembered`` lets a client whose exact credentials already
succeeded through while its address or login is throttled (an attacker
guessing a PIC's password must not lock out that PIC's own phone).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading

from radicale import config
from radicale.auth import htpasswd


class Auth(htpasswd.Auth):
    """htpasswd auth whose successful bcrypt checks are cached per file version."""

    def __init__(self, configuration: config.Configuration) -> None:
        super().__init__(configuration)
        self._salt = secrets.token_bytes(16)
        self._ok: dict[str, bytes] = {}
        self._ok_stamp: tuple[int, int] = (0, 0)
        self._ok_lock = threading.Lock()

    def _digest(self, login: str, password: str) -> bytes:
        """Salted hash identifying one (login, password) pair in memory."""
        return hashlib.sha256(self._salt + login.encode() + b"\0" + password.encode()).digest()

    def _stamp(self) -> tuple[int, int]:
        """Version of the htpasswd file (mtime, size)."""
        st = os.stat(self._filename)
        return st.st_mtime_ns, st.st_size

    def remembered(self, login: str, password: str) -> bool:
        """True if exactly these credentials succeeded since the htpasswd file last changed."""
        try:
            stamp = self._stamp()
        except OSError:
            return False
        digest = self._digest(login, password)
        with self._ok_lock:
            return stamp == self._ok_stamp and hmac.compare_digest(
                self._ok.get(login, b""), digest)

    def _login(self, login: str, password: str) -> str:
        """Return ``login`` if the password is right, else ""."""
        stamp = self._stamp()
        digest = self._digest(login, password)
        with self._ok_lock:
            if stamp != self._ok_stamp:
                self._ok, self._ok_stamp = {}, stamp
            elif self._ok.get(login) == digest:
                return login
        result = super()._login(login, password)
        if result:
            with self._ok_lock:
                if stamp == self._ok_stamp:
                    self._ok[login] = digest
        return result
