"""The digest scheduler of ``kalender serve``: the leaders' agenda mailed at set times.

Two digests a day by default (WIB): today's agenda at 06:30 and tomorrow's at
16:00, to every account subscribed with ``kalender user digest LOGIN on`` that
may read the leaders' agenda (``registry.LEADER_ROLES``) and has an e-mail
address. When a digest falls due, one row per recipient is made in
``kalender.db`` (``digest_sends``, keyed by day, kind and login), so each is
sent once, also after a restart or with two servers on one deployment; a
server started late still sends it up to :data:`CATCH_UP` after its time.
A failed try is retried with the outbox's growing pauses until the agenda's
day is over. The clock is an argument (:meth:`Scheduler.run_once`), so tests
choose the moment.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kalender import database
from kalender.deployment import Deployment
from kalender.notify import digest, mail, outbox
from kalender.registry import LEADER_ROLES, User
from kalender_sync.occurrences import WIB

TODAY, TOMORROW = "hari-ini", "besok"
#: kind -> (the [storage] option naming its time, the default time in WIB)
OPTIONS = {TODAY: ("kalender_digest_today", "06:30"),
           TOMORROW: ("kalender_digest_tomorrow", "16:00")}
#: How long after its time a digest is still sent (a server started late catches up).
CATCH_UP = dt.timedelta(hours=6)
OFF = ("off", "mati", "tidak", "no", "none")
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
logger = logging.getLogger("kalender")


@dataclass(frozen=True)
class Slot:
    """One digest a day: which agenda, at what time of day (WIB)."""

    kind: str  #: TODAY or TOMORROW
    at: dt.time

    @property
    def offset(self) -> dt.timedelta:
        """From the day it is sent to the day whose agenda it carries."""
        return dt.timedelta(days=1 if self.kind == TOMORROW else 0)


def parse_time(text: str) -> dt.time | None:
    """``06:30`` or ``06.30`` as a time; None for ``off``; ValueError for anything else."""
    value = text.strip().casefold()
    if value in OFF:
        return None
    found = _TIME.match(value)
    if found is None:
        raise ValueError(text)
    return dt.time(int(found.group(1)), int(found.group(2)))


def slots(configuration: Any) -> tuple[Slot, ...]:
    """The digests of a configuration (``[storage] kalender_digest_*``), by time of day.

    Raises ValueError with a sentence for people when an option is not a time.
    """
    found = []
    for kind, (option, default) in OPTIONS.items():
        try:
            value = str(configuration.get("storage", option))
        except KeyError:  # Radicale keeps unknown [storage] options; absent: the default
            value = default
        try:
            at = parse_time(value)
        except ValueError:
            raise ValueError(f"[storage] {option} = {value!r} bukan jam (tulis JJ:MM, mis. "
                             f"{default}, atau off)") from None
        if at is not None:
            found.append(Slot(kind, at))
    return tuple(sorted(found, key=lambda s: s.at))


def describe(chosen: Sequence[Slot]) -> str:
    """The times as people read them: ``06.30 (agenda hari ini) dan 16.00 (agenda besok) WIB``."""
    if not chosen:
        return "tidak dikirim (kalender_digest_today dan kalender_digest_tomorrow off)"
    names = {TODAY: "agenda hari ini", TOMORROW: "agenda besok"}
    return " dan ".join(f"{s.at:%H.%M} ({names[s.kind]})" for s in chosen) + " WIB"


# -- subscriptions -----------------------------------------------------------------
def subscribe(db: Any, login: str, now: int) -> bool:
    """Subscribe ``login``; False when it already was."""
    return database.connect(db).execute(
        "INSERT OR IGNORE INTO digest_subscribers (login, since) VALUES (?, ?)",
        (login, now)).rowcount == 1


def unsubscribe(db: Any, login: str) -> bool:
    """Stop the digest of ``login`` (pending sends too); False when it was not subscribed."""
    conn = database.connect(db)
    conn.execute("UPDATE digest_sends SET sent = -1, error = 'berhenti berlangganan' "
                 "WHERE login = ? AND sent IS NULL", (login,))
    return conn.execute("DELETE FROM digest_subscribers WHERE login = ?",
                        (login,)).rowcount == 1


def subscribers(db: Any) -> list[str]:
    """The subscribed logins, sorted."""
    return [r[0] for r in database.connect(db).execute(
        "SELECT login FROM digest_subscribers ORDER BY login")]


def recipient(user: User | None) -> str:
    """The address a subscribed account's digest goes to ("" when it may get none)."""
    if user is None or user.role not in LEADER_ROLES:
        return ""
    return user.email


class Scheduler:
    """Makes the due digests' rows and delivers them (one pass per :meth:`run_once`)."""

    def __init__(self, dep: Deployment, chosen: Sequence[Slot]) -> None:
        self.dep = dep
        self.db = dep.database
        self.slots = tuple(chosen)

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection to ``kalender.db``."""
        return database.connect(self.db)

    def plan(self, now: dt.datetime) -> int:
        """One row per subscriber for every digest due at ``now``; how many were new."""
        local = now.astimezone(WIB)
        day = local.date()
        due = [s for s in self.slots
               if dt.timedelta(0) <= local - dt.datetime.combine(day, s.at, WIB) < CATCH_UP]
        if not due:
            return 0
        users = {u.login: u for u in self.dep.users()}
        logins = [login for login in subscribers(self.db) if recipient(users.get(login))]
        made = 0
        for slot in due:
            for login in logins:  # the key makes it once, whoever (or whenever) gets here
                made += self._conn().execute(
                    "INSERT OR IGNORE INTO digest_sends (day, kind, login, agenda, created, "
                    "attempts, next_try) VALUES (?, ?, ?, ?, ?, 0, ?)",
                    (day.isoformat(), slot.kind, login, (day + slot.offset).isoformat(),
                     int(now.timestamp()), int(now.timestamp()))).rowcount
        return made

    def deliver(self, now: dt.datetime) -> tuple[int, int]:
        """Send the due rows when e-mail is set up and the agenda exists; (sent, failed)."""
        settings = mail.load(self.dep.root)
        if settings is None or not (self.dep.root / "sync.db").exists():
            return 0, 0  # kept until the day is over: e-mail may be set up meanwhile
        moment = int(now.timestamp())
        conn = self._conn()
        # a digest whose day is over says nothing any more: given up, kept for the record
        conn.execute("UPDATE digest_sends SET sent = -1, error = 'kedaluwarsa' WHERE sent IS "
                     "NULL AND agenda < ?", (now.astimezone(WIB).date().isoformat(),))
        rows = conn.execute("SELECT day, kind, login, agenda FROM digest_sends WHERE sent IS "
                            "NULL AND next_try <= ? ORDER BY next_try, login", (moment,)).fetchall()
        if not rows:
            return 0, 0
        users = {u.login: u for u in self.dep.users()}
        made: dict[str, digest.Digest] = {}
        sent = fails = 0
        error = ""
        for day, kind, login, agenda in rows:
            key = (day, kind, login)
            if not self._claim(key, moment):
                continue  # another server took it
            address = recipient(users.get(login)) if login in subscribers(self.db) else ""
            if not address:
                conn.execute("UPDATE digest_sends SET sent = -1, error = 'tanpa alamat' "
                             "WHERE day = ? AND kind = ? AND login = ?", key)
                continue
            if error:  # the server failed this pass: the others wait too
                self._failed(key, error, moment)
                fails += 1
                continue
            if agenda not in made:
                made[agenda] = digest.of_deployment(self.dep, dt.date.fromisoformat(agenda))
            try:
                mail.send(settings, digest.message(settings, address, made[agenda]))
            except mail.MailError as e:
                error = str(e)
                self._failed(key, error, moment)
                fails += 1
                continue
            conn.execute("UPDATE digest_sends SET sent = ?, address = ?, error = NULL "
                         "WHERE day = ? AND kind = ? AND login = ?", (moment, address, *key))
            sent += 1
        return sent, fails

    def _claim(self, key: tuple[str, str, str], moment: int) -> bool:
        """Lease a due row for this pass (a second ``kalender serve`` leaves it alone)."""
        return self._conn().execute(
            "UPDATE digest_sends SET next_try = ? WHERE day = ? AND kind = ? AND login = ? "
            "AND sent IS NULL AND next_try <= ?", (moment + outbox.LEASE, *key, moment)
        ).rowcount == 1

    def _failed(self, key: tuple[str, str, str], error: str, moment: int) -> None:
        """Count a failed try; the next after the outbox's pause (given up after its maximum)."""
        conn = self._conn()
        row = conn.execute("SELECT attempts FROM digest_sends WHERE day = ? AND kind = ? AND "
                           "login = ?", key).fetchone()
        attempts = (row[0] if row else 0) + 1
        gone = -1 if attempts >= outbox.MAX_ATTEMPTS else None
        conn.execute("UPDATE digest_sends SET attempts = ?, next_try = ?, error = ?, sent = ? "
                     "WHERE day = ? AND kind = ? AND login = ?",
                     (attempts, moment + outbox.backoff(attempts), error[:500], gone, *key))

    def run_once(self, now: dt.datetime | None = None) -> tuple[int, int]:
        """One pass at ``now`` (aware; the clock when None): plan, then send; (sent, failed)."""
        moment = now if now is not None else dt.datetime.now(WIB)
        self.plan(moment)
        sent, failed = self.deliver(moment)
        if sent or failed:
            logger.info("Ringkasan agenda pimpinan: %d e-mail terkirim, %d gagal (dicoba lagi "
                        "nanti)", sent, failed)
        return sent, failed

    def run_forever(self, stop: threading.Event, interval: float = 30.0) -> None:
        """Passes until ``stop`` is set; a failing pass is logged and the next one retries."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as e:  # never let the thread die; the rows keep the work
                logger.error("Ringkasan agenda pimpinan gagal: %s", e)
            stop.wait(interval)


def start(dep: Deployment, chosen: Sequence[Slot], stop: threading.Event,
          interval: float = 30.0) -> threading.Thread:
    """The scheduler in a daemon thread."""
    thread = threading.Thread(target=Scheduler(dep, chosen).run_forever,
                              args=(stop, interval), name="kalender-digest", daemon=True)
    thread.start()
    return thread

