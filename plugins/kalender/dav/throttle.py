"""Login throttling that holds no worker: failed logins counted per client address and login.

Radicale 3.9 sleeps ``[auth] delay`` inside the WSGI worker after a failed
login and before every 401/403, so a handful of password guessers occupy all of
waitress's threads and everyone else waits (issue 7, item 7). Instead,
``kalender.dav.app`` asks here before a password is checked (``begin``) and
reports the outcome (``end``). A client address or a login with too many failed
checks in a sliding window, counting the checks still running, is answered
``429 Too Many Requests`` with ``Retry-After`` (RFC 6585 §4) at once, before
bcrypt is even tried. A bcrypt check holds a worker for about 0.3 s of CPU, so
one login, and an address that has failed within the window, get at most
``max_checks`` checks at once (429 with ``Retry-After: 1`` past that): a
guesser leaves the other workers free for everyone else, while a burst of first
logins of many accounts from a clean office address is never refused.

Pure apart from its lock: the caller passes the clock (``now``, in seconds), so
the behaviour is tested with plain numbers. Memory is bounded: each key keeps at
most ``limit`` timestamps, and each table at most ``max_keys`` keys (the entry
with the oldest activity is dropped first; expired entries go on the way).
"""

from __future__ import annotations

import collections
import ipaddress
import math
import threading
from dataclasses import dataclass

#: Longest login kept as a key (longer ones are cut: the key only groups guesses).
MAX_LOGIN_KEY = 256


@dataclass(frozen=True)
class Limits:
    """Failed logins per window (0: no limit), the window, checks at once after a failure."""

    per_login: int = 10
    per_address: int = 30
    window: float = 600.0
    max_checks: int = 4
    max_keys: int = 10_000


@dataclass(frozen=True)
class Admission:
    """The throttle's answer to one password check about to run."""

    allowed: bool
    retry_after: int = 0  # seconds, when not allowed


def address_key(address: str) -> str:
    """The throttling key of a client address: IPv4 as is, IPv6 by its /64 network.

    One IPv6 host commonly holds a whole /64 (RFC 7421), so counting single
    addresses would let one client rotate through 2**64 of them.
    """
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def login_key(login: str) -> str:
    """The throttling key of a login (logins are unique case-insensitively)."""
    return login[:MAX_LOGIN_KEY].casefold()


class _Table:
    """Recent failure times and running checks per key, bounded in keys and times per key."""

    def __init__(self, limit: int, window: float, max_keys: int, max_running: int,
                 cap_clean: bool) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max(1, max_keys)
        self.max_running = max_running
        self.cap_clean = cap_clean  # cap running checks of a key without recent failures too
        # key -> the last ``limit`` failure times; ordered by last activity (LRU first)
        self.keys: collections.OrderedDict[str, collections.deque[float]] = \
            collections.OrderedDict()
        self.running: collections.Counter[str] = collections.Counter()  # at most the threads

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may start one more check (0 when it may now)."""
        if self.limit <= 0:
            return 0.0
        times = self.keys.get(key)
        if times is not None and now - times[-1] >= self.window:
            del self.keys[key]  # every failure has left the window
            times = None
        recent = [t for t in times if now - t < self.window] if times is not None else []
        running = self.running[key]
        free = self.limit - running  # failures the window may hold beside the running checks
        capped = (bool(recent) or self.cap_clean) and 0 < self.max_running <= running
        if len(recent) < free and not capped:
            return 0.0
        if times is not None:
            self.keys.move_to_end(key)  # a blocked key under attack stays remembered
        if running:
            return 1.0  # the block rests on checks still running: ask again shortly
        return max(1.0, recent[-free] + self.window - now)

    def start(self, key: str) -> None:
        """One check of ``key`` is running."""
        if self.limit > 0:
            self.running[key] += 1

    def end(self, key: str, failed: bool, now: float) -> bool:
        """The check of ``key`` ended; True when its failure reaches the limit."""
        if self.limit <= 0:
            return False
        self.running[key] -= 1
        if self.running[key] <= 0:
            del self.running[key]
        if not failed:
            return False
        times = self.keys.get(key)
        if times is None:
            self._make_room(now)
            times = self.keys[key] = collections.deque(maxlen=self.limit)
        else:
            self.keys.move_to_end(key)
        times.append(now)
        return len(times) == self.limit and now - times[0] < self.window

    def _make_room(self, now: float) -> None:
        """Drop expired keys from the old end, then the oldest until one more fits."""
        while self.keys:
            oldest = next(iter(self.keys.values()))
            if now - oldest[-1] < self.window and len(self.keys) < self.max_keys:
                return
            self.keys.popitem(last=False)


class Throttle:
    """Failed logins per client address and per login within a sliding window."""

    def __init__(self, limits: Limits = Limits()) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._logins = _Table(limits.per_login, limits.window, limits.max_keys,
                              limits.max_checks, cap_clean=True)
        self._addresses = _Table(limits.per_address, limits.window, limits.max_keys,
                                 limits.max_checks, cap_clean=False)

    def begin(self, address: str, login: str, now: float) -> Admission:
        """May a password check of ``login`` from ``address`` run now? If so, call ``end``."""
        a, lg = address_key(address), login_key(login)
        with self._lock:
            wait = max(self._addresses.wait(a, now), self._logins.wait(lg, now))
            if wait > 0:
                return Admission(False, math.ceil(wait))
            self._addresses.start(a)
            self._logins.start(lg)
        return Admission(True)

    def end(self, address: str, login: str, failed: bool, now: float) -> list[str]:
        """The check ``begin`` allowed has ended; the keys its failure just blocked (for logs)."""
        a, lg = address_key(address), login_key(login)
        blocked = []
        with self._lock:
            if self._addresses.end(a, failed, now):
                blocked.append(f"address {a}")
            if self._logins.end(lg, failed, now):
                blocked.append(f"login {lg!r}")
        return blocked

    def failed(self, address: str, login: str, now: float) -> list[str]:
        """Count one failed login that ran without ``begin`` (e.g. a check made elsewhere)."""
        a, lg = address_key(address), login_key(login)
        with self._lock:
            self._addresses.start(a)
            self._logins.start(lg)
        return self.end(address, login, True, now)

    def retry_after(self, address: str, login: str, now: float) -> int:
        """Whole seconds before the next check may start (0: it may start now)."""
        with self._lock:
            wait = max(self._addresses.wait(address_key(address), now),
                       self._logins.wait(login_key(login), now))
        return math.ceil(wait) if wait > 0 else 0

    def sizes(self) -> tuple[int, int]:
        """Keys held (addresses, logins): for tests of the memory bound."""
        with self._lock:
            return len(self._addresses.keys), len(self._logins.keys)
