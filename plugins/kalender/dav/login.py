"""Logins: Basic credentials read safely, failed logins throttled without holding a worker.

Radicale sleeps ``[auth] delay`` inside a worker thread after a failed login
and before every 401/403; under ``kalender serve`` failed logins are counted
instead (``kalender.dav.throttle``) and, past a limit, answered 429 at once.
"""

from __future__ import annotations

import base64
import binascii
import time

from radicale import config, types
from radicale.log import logger

from kalender.dav import answers, throttle
from kalender.dav.base import Base


class LoginPart(Base):
    """The throttle's side of a request: admission before bcrypt, the count after."""

    _throttle: throttle.Throttle

    def _throttled(self, admission: throttle.Admission
                   ) -> tuple[str, list[tuple[str, str]], list[bytes]]:
        """The 429 of too many failed logins (or password checks at once after failures).

        Only credentials that have not succeeded before get here: the throttle
        stops guessing, it never locks a PIC's own devices out.
        """
        return self._answer(429, answers.throttled(admission.retry_after),
                            (("Retry-After", str(admission.retry_after)),))

    def _checked(self, address: str, login: str, failed: bool) -> None:
        """Tell the throttle a password check ended (a 401 to credentials is a failure)."""
        for key in self._throttle.end(address, login, failed, time.monotonic()):
            logger.warning("Terlalu banyak login gagal: %s ditahan hingga %d detik",
                           key, int(self._throttle.limits.window))

    def _logged_in(self, login: str, password: str) -> bool:
        """True if these exact credentials succeeded before (kalender.dav.auth's cache)."""
        remembered = getattr(self._auth, "remembered", None)
        return bool(remembered(login, password)) if callable(remembered) else False


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(login, password) of a Basic Authorization header (RFC 7617 §2), None if unreadable."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    login, colon, password = decoded.partition(":")
    return (login, password) if colon else None



def client_address(environ: types.WSGIEnviron) -> str:
    """The client's address: REMOTE_ADDR (X-Forwarded-For is never trusted here).

    waitress drops X-Forwarded-* unless ``trusted_proxy`` is set, and then puts the
    forwarded address into REMOTE_ADDR itself; anyone can send the header.
    """
    return str(environ.get("REMOTE_ADDR") or "unknown")



def _int_option(configuration: config.Configuration, name: str, default: int) -> int:
    """An integer option of ours in [auth] (Radicale keeps unknown options of a plugin type)."""
    try:
        raw = configuration.get("auth", name)
    except KeyError:
        return default
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ValueError(f"[auth] {name} harus bilangan bulat, bukan {raw!r}") from None



def throttle_limits(configuration: config.Configuration) -> throttle.Limits:
    """The login throttle's limits from ``[auth] kalender_*`` (see config.template)."""
    base = throttle.Limits()
    return throttle.Limits(
        per_login=_int_option(configuration, "kalender_login_failures", base.per_login),
        per_address=_int_option(configuration, "kalender_address_failures", base.per_address),
        window=float(_int_option(configuration, "kalender_failure_window", int(base.window))),
        max_checks=_int_option(configuration, "kalender_password_checks", base.max_checks))
