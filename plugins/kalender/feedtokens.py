"""Private subscription links: a secret feed URL per (account, calendar).

For calendar apps that cannot log in to CalDAV (Google Calendar on Android,
Outlook.com, an aide's phone), an account gets one link per calendar it may
read, ``/langganan/<token>/``, served by ``kalender.web.workspace.feedlinks``
like the public feed. The token is the key: whoever holds the link reads that
calendar, so it is long (256 bits, 43 characters of base64url), revocable
(``kalender user feed LOGIN --rotate``, or the button on the web home) and never
written to a log (``kalender.admin.requestlog`` masks path segments of 32+
such characters).

At rest ``kalender.db`` keeps only the token's SHA-256 (to find it) and the
random nonce it was made from: the token itself is HMAC-SHA256 of that nonce
under the deployment's key ``DIR/langganan.key`` (mode 0600), so the server
can show an account its links again while a copy of the database alone opens
none of them. A link is only as good as the account's rights when it is used
(:func:`readable` is asked again at every request): a PIC moved to another OPD
loses the old OPD's link, a removed account all of them.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import os
import secrets
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kalender import database
from kalender.registry import LEADER_ROLES, Opd, User

KEY_FILE = "langganan.key"
PUBLIC = "publik/agenda"
LEADERS = "pimpinan/agenda"
#: Roles that get links (the sync account reads over CalDAV and needs none).
ROLES = frozenset({"pic", *LEADER_ROLES})


@dataclass(frozen=True)
class Link:
    """One calendar's private link: the calendar (``ruang/ruang-joyoboyo``) and its token."""

    calendar: str
    token: str
    created: str  #: UTC, ISO 8601

    @property
    def path(self) -> str:
        """The link's path on the server, ``/langganan/<token>/``."""
        return f"/langganan/{self.token}/"

    @property
    def collection(self) -> str:
        """The calendar's own collection path, e.g. ``/pimpinan/agenda/``."""
        return f"/{self.calendar}/"


def readable(user: User | None, opds: Sequence[Opd], venues: Iterable[str],
             persons: Iterable[str]) -> list[str]:
    """The calendars ``user`` may subscribe to by private link (the rights matrix, README).

    Every account: the public agenda and each venue's occupancy; a PIC: their own
    active OPD calendars; pimpinan, protokol and admins: the leaders' agenda and each key
    person's agenda. (The Bentrok calendars are not offered: they are read in the apps
    that log in, where a refusal is shown.)
    """
    if user is None or user.role not in ROLES:
        return []
    leader = user.role in LEADER_ROLES
    own = [f"opd/{o.id}" for o in opds if user.role == "pic" and o.id in user.opds
           and not o.archived]
    return [*own, PUBLIC, *([LEADERS] if leader else []),
            *([f"orang/{p}" for p in persons] if leader else []),
            *(f"ruang/{v}" for v in venues)]


def label(calendar: str, opd_names: Mapping[str, str], venue_names: Mapping[str, str],
          person_titles: Mapping[str, str]) -> str:
    """A calendar's name for people: ``Agenda Wali Kota Kediri``, ``Pemakaian Ruang Joyoboyo``."""
    kind, _, ident = calendar.partition("/")
    if calendar == PUBLIC:
        return "Agenda publik Kota Kediri"
    if calendar == LEADERS:
        return "Agenda pimpinan (semua OPD, lengkap)"
    if kind == "opd":
        return f"Kalender {opd_names.get(ident, ident)}"
    if kind == "orang":
        return f"Agenda {person_titles.get(ident, ident)}"
    if kind == "ruang":
        return f"Pemakaian {venue_names.get(ident, ident)}"
    return calendar


def digest(token: str) -> str:
    """What the database keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def deployment_key(path: Path) -> bytes:
    """The deployment's link key (made once, mode 0600; two processes agree on it)."""
    try:
        return bytes.fromhex(path.read_text("ascii").strip())
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=".langganan-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: theirs holds
            os.link(tmp, path)  # whole file or nothing, never replacing one in use
    finally:
        os.unlink(tmp)
    return bytes.fromhex(path.read_text("ascii").strip())


class FeedTokens:
    """The private links of a deployment (table ``feed_tokens`` of ``kalender.db``)."""

    def __init__(self, db: Path, key_path: Path) -> None:
        self.db = db
        self.key_path = key_path
        self._key: bytes | None = None

    @classmethod
    def of(cls, root: Path) -> FeedTokens:
        """The links of the deployment in ``root``."""
        return cls(root / "kalender.db", root / KEY_FILE)

    def _token(self, nonce: str) -> str:
        """The token made from one nonce (HMAC-SHA256 under the deployment key)."""
        if self._key is None:
            self._key = deployment_key(self.key_path)
        mac = hmac.new(self._key, bytes.fromhex(nonce), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")

    def links(self, login: str, calendars: Sequence[str]) -> list[Link]:
        """The links of ``login`` for ``calendars`` (in that order), made where missing.

        Links of calendars no longer in ``calendars`` are dropped: an account that
        may read a calendar again later gets a new link.
        """
        conn = database.connect(self.db)
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        wanted = list(dict.fromkeys(calendars))
        query = "SELECT calendar, nonce, created FROM feed_tokens WHERE login = ?"
        rows = {c: (n, t) for c, n, t in conn.execute(query, (login,))}
        if set(rows) == set(wanted):  # the usual case: a page view writes nothing
            return [Link(c, self._token(rows[c][0]), rows[c][1]) for c in wanted]
        conn.execute("BEGIN IMMEDIATE")
        try:
            rows = {c: (n, t) for c, n, t in conn.execute(query, (login,))}
            for calendar in set(rows) - set(wanted):
                conn.execute("DELETE FROM feed_tokens WHERE login = ? AND calendar = ?",
                             (login, calendar))
            for calendar in wanted:
                if calendar not in rows:
                    nonce = secrets.token_hex(32)
                    conn.execute("INSERT INTO feed_tokens (digest, login, calendar, nonce, "
                                 "created) VALUES (?, ?, ?, ?, ?)",
                                 (digest(self._token(nonce)), login, calendar, nonce, now))
                    rows[calendar] = (nonce, now)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return [Link(c, self._token(rows[c][0]), rows[c][1]) for c in wanted]

    def rotate(self, login: str) -> int:
        """Revoke every link of ``login`` (new ones are made by :meth:`links`); how many."""
        cur = database.connect(self.db).execute("DELETE FROM feed_tokens WHERE login = ?",
                                                (login,))
        return cur.rowcount

    def find(self, token: str) -> tuple[str, str] | None:
        """(login, calendar) of a token, or None (unknown or revoked)."""
        if not token or len(token) > 100:
            return None
        row = database.connect(self.db).execute(
            "SELECT login, calendar, nonce FROM feed_tokens WHERE digest = ?",
            (digest(token),)).fetchone()
        # the stored digest matched; comparing the remade token too costs nothing
        if row is None or not hmac.compare_digest(self._token(row[2]), token):
            return None
        return row[0], row[1]
