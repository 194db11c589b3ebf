"""``/admin/``: which OPD enter their activities, from the audit trail (admins only).

The system "only works if every OPD's PIC is active": per OPD, the activities
its people entered in the last 30 days (audit rows ``create`` of an event by an
account that is not the sync service's or the server's own), the date of the
last one, its PICs (``users.csv``) and when each last wrote to the OPD's
calendar, and the refused writes of the period (table ``refusals``, each row
counted as often as it was tried). An OPD with no PIC, or no entry for 30
days, is sorted first and marked in words, not by colour alone. Accounts and
registries stay in the CLI; the page says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kalender import database
from kalender.audit import UNAUDITED_ACTORS
from kalender.registry import Opd, User
from kalender.web import respond
from kalender.web.render import render
from kalender.web.workspace import session

#: The period the page counts.
DAYS = 30


@dataclass(frozen=True)
class Pic:
    """One PIC of an OPD and their last write to its calendar."""

    login: str
    last_write: dt.datetime | None  #: UTC; None: never


@dataclass(frozen=True)
class OpdActivity:
    """One OPD's line of the overview."""

    opd: Opd
    entered: int  #: activities entered in the period
    last_entry: dt.datetime | None  #: UTC, of any time; None: never
    pics: tuple[Pic, ...]
    refusals: int  #: refused writes in the period (retries counted)

    @property
    def no_pic(self) -> bool:
        """Nobody may write the OPD's calendar but the admins."""
        return not self.pics

    @property
    def idle(self) -> bool:
        """No activity entered in the period."""
        return self.entered == 0

    @property
    def attention(self) -> bool:
        """The OPD stands out: no PIC, or no entry in the period."""
        return self.no_pic or self.idle


def _ts(moment: dt.datetime) -> str:
    """The audit trail's time format (UTC, ISO 8601)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(text: str | None) -> dt.datetime | None:
    """An audit time as an aware datetime."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC) if text \
        else None


def system_actors(users: Iterable[User]) -> list[str]:
    """Actors whose writes are not people's entries: sync accounts, the server itself, none."""
    return sorted({u.login for u in users if u.role == "sync"} | UNAUDITED_ACTORS | {"-", ""})


def activity(db: Path, opds: Sequence[Opd], users: Sequence[User],
             now: dt.datetime, days: int = DAYS) -> list[OpdActivity]:
    """Every active OPD's line, those that stand out first, then by name."""
    conn = database.connect(db)
    since = _ts(now - dt.timedelta(days=days))
    hidden = system_actors(users)
    marks = ", ".join("?" * len(hidden))
    # an event's creation: href set (a calendar's own MKCALENDAR has none), by a person
    people = f"opd IS NOT NULL AND href IS NOT NULL AND actor NOT IN ({marks})"
    entered = {opd: (n, last) for opd, n, last in conn.execute(
        f"SELECT opd, sum(ts >= ?), max(ts) FROM audit WHERE action = 'create' AND {people} "  # noqa: S608
        "GROUP BY opd", (since, *hidden))}
    wrote = {(opd, actor): last for opd, actor, last in conn.execute(
        f"SELECT opd, actor, max(ts) FROM audit WHERE {people} GROUP BY opd, actor",  # noqa: S608
        hidden)}
    refused = dict(conn.execute(
        "SELECT opd, sum(count) FROM refusals WHERE opd IS NOT NULL AND last_ts >= ? "
        "GROUP BY opd", (since,)).fetchall())
    lines = []
    for o in opds:
        if o.archived:
            continue
        n, last = entered.get(o.id, (0, None))
        pics = tuple(Pic(u.login, _moment(wrote.get((o.id, u.login))))
                     for u in sorted(users, key=lambda u: u.login)
                     if u.role == "pic" and o.id in u.opds)
        lines.append(OpdActivity(o, int(n or 0), _moment(last), pics, int(refused.get(o.id) or 0)))
    lines.sort(key=lambda a: (not a.attention, a.opd.name.casefold()))
    return lines


def page(request: Any) -> respond.Response:
    """The admins' overview of every OPD's activity."""
    if request.method not in ("GET", "HEAD"):
        raise respond.MethodError("Halaman ini hanya dapat dibaca (GET).")
    session.require(request, "admin")
    db = request.root / "kalender.db"
    lines = activity(db, request.registry.opds(), request.registry.users(), request.now)
    body = render("ws/admin.html", request=request, lines=lines, days=DAYS,
                  standing_out=sum(1 for a in lines if a.attention))
    return respond.page(body, max_age=0, private=True)
