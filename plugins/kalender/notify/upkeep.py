"""The board after an accepted write: refusals withdrawn, locations to check posted.

Called by the clash guard inside the SQLite transaction that indexes the write
(``kalender.clash.guard.Guard.on_items``), so the board always agrees with the
index: an accepted write or a deletion of a UID withdraws its Bentrok entry;
an accepted event whose free-text location matched no venue but looks like
one (a shared distinctive word, a near spelling: ``Matcher.suggest_venues``)
gets a "PERIKSA LOKASI" entry naming the likely venues, withdrawn once the
location matches or is confirmed with "Lokasi lain: ...".

The same hook notes in the audit trail when an activity the protocol office
decided on is written with a new time or place (:func:`asks_again`): its
approval was for the old fingerprint, so it waits again by itself.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kalender import audit
from kalender.clash import fields
from kalender.clash.match import Matcher
from kalender.clash.rules import Venue
from kalender.notify import board
from kalender.notify.channel import POSTED
from kalender.notify.notice import CHECK_LOCATION, Notice
from kalender.pemda import approval, approvals

#: A location written this way is confirmed as a place outside the registry.
CONFIRMED_PREFIX = "lokasi lain"


@dataclass(frozen=True)
class Written:
    """One accepted item of an OPD calendar, as the board needs it."""

    opd: str
    uid: str
    title: str
    start: int | None
    end: int | None
    locations: tuple[str, ...]  # free-text locations that matched no venue
    #: still rejected by the protocol office for its time and place: its Bentrok entry stays
    rejected: bool = False


def likely(matcher: Matcher, venues: Mapping[str, Venue], locations: Iterable[str]
           ) -> tuple[str, list[str]]:
    """(the location to check, names of the venues it may mean), or ('', [])."""
    for text in locations:
        if text.strip().casefold().startswith(CONFIRMED_PREFIX):
            continue
        ids = matcher.suggest_venues(text)
        if ids:
            return text, sorted(venues[i].name for i in ids if i in venues)
    return "", []


def after_commit(conn: sqlite3.Connection, matcher: Matcher, venues: Mapping[str, Venue],
                 opd_names: Mapping[str, str], removed: Iterable[tuple[str, str]],
                 written: Iterable[Written], actor: str, now: int) -> None:
    """Update the board for the removed (opd, uid) pairs and the written items."""
    for opd, uid in removed:
        board.withdraw(conn, opd, {uid}, now)
        approvals.forget(conn, opd, uid)
    for item in written:
        if item.rejected:
            continue  # the rejection's entry says what to change; this write changed none
        place, names = likely(matcher, venues, item.locations)
        if not names:
            board.withdraw(conn, item.opd, {item.uid}, now)
            continue
        board.post(conn, Notice(
            CHECK_LOCATION, item.opd, opd_names.get(item.opd, item.opd), item.uid, item.title,
            item.start, item.end, place, "Periksa Lokasi",
            "Mungkin yang dimaksud: " + " atau ".join(names) + ".", actor, now))


def asks_again(conn: sqlite3.Connection, collection: str, href: str, opd: str, uid: str,
               text: str, actor: str) -> bool:
    """Audit "persetujuan diminta lagi" when a decided item gets a new time or place.

    One indexed SELECT per written item; the fingerprint is only computed for
    an item the protocol office decided on, and the entry is written once per
    new fingerprint (a client re-saving the moved activity adds none). True
    when the item is still rejected for its time and place (approval on).
    """
    row = conn.execute("SELECT fingerprint, decision, asked FROM approvals WHERE opd = ? AND "
                       "uid = ?", (opd, uid)).fetchone()
    if row is None or not approvals.enabled(conn):
        return False
    now = approval.fingerprint(text)
    if now == row[0]:
        return bool(row[1] == approval.REJECTED)
    if now == row[2]:
        return False
    approvals.mark_asked(conn, opd, uid, now)
    audit.record(conn, actor, audit.APPROVAL_ACTION, f"/{collection}/", href,
                 approval.label(row[1]), approval.label(approval.PENDING),
                 "persetujuan diminta lagi: waktu atau tempat berubah")
    return False


def hook(registry: Any) -> Callable[[sqlite3.Connection, list[tuple[str, str]], list[Any], str],
                                    None]:
    """``Guard.on_items`` for a deployment's registry (kalender.deployment.CachedRegistry)."""
    def on_items(conn: sqlite3.Connection, removed: list[tuple[str, str]], written: list[Any],
                 actor: str) -> None:
        items = []
        for p in written:  # kalender.clash.guard.Planned of OPD calendars
            found = fields.event_fields(p.text)
            opd = p.collection.strip("/").split("/")[1]
            bookings = p.extracted.bookings
            start = fields.event_time(found)
            # a series' notice lasts until its last indexed occurrence, not its first
            end = max(b.end for b in bookings) if bookings else fields.event_time(found, "DTEND")
            rejected = asks_again(conn, p.collection, p.href, opd, p.uid, p.text, actor)
            items.append(Written(opd, p.uid, fields.event_identity(p.text)[1], start, end,
                                 tuple(p.extracted.locations), rejected))
        names = {o.id: o.label for o in registry.opds()}
        after_commit(conn, registry.matcher(), registry.venues(), names, removed, items,
                     actor, int(time.time()))
        POSTED.set()

    return on_items
