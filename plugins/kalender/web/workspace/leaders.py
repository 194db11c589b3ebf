"""``/pimpinan/``: the leaders' day and week of every OPD, and its A4 sheet.

For pimpinan and admins (a PIC gets the 403 page): the day (``?tanggal=``) or
the week (``?minggu=1``, Monday to Sunday) of the leaders' agenda in full
detail (``pimpinan/agenda`` of the web index: private and internal
activities too, each with its class as a badge), narrowed to one key person
with ``?orang=<person-id>`` (their agenda: the same page, linked from the list
of key persons). ``/pimpinan/cetak/?tanggal=`` is the printable A4 "Agenda
Pimpinan" of one day: time, activity, place, organiser and notes (the
description), for an ajudan or Prokopim to print tomorrow's agenda.

Every activity carries its status (issue 11): Tentatif (STATUS:TENTATIVE, RFC
5545 §3.8.1.11), Menunggu persetujuan / Definitif / Ditolak and the reason
(Prokopim's approval, kalender.pemda.approval) or DIBATALKAN, who represents
whom, and the protocol details (pakaian, letter, narahubung, sambutan), with a
link to the invitation PDF when the item has one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from kalender.pemda import approval
from kalender.pemda.protocol import Protocol
from kalender.registry import LEADER_ROLES
from kalender.visibility import CONFIDENTIAL, PRIVATE, PUBLIC, Audience, Shown, shown
from kalender.web import dates, respond
from kalender.web.public import invitation, jsonfeed
from kalender.web.render import render
from kalender.web.workspace import feedlinks, session
from kalender_sync.occurrences import WIB, Occurrence

LEADERS = "pimpinan/agenda"
#: The busiest week of a city fits; more would not be read on one page.
MAX_ITEMS = 1000
#: The class badge (RFC 5545 §3.8.1.3 CLASS), in the words the entry form uses.
CLASS_LABELS = {PUBLIC: "", CONFIDENTIAL: "Internal", PRIVATE: "Rahasia"}
#: Status badges: (text, CSS class). Words, never colour alone.
CANCELLED = ("DIBATALKAN", "tanda-batal")
TENTATIVE = ("Tentatif", "tanda-tentatif")
APPROVAL_MARKS = {approval.PENDING: (approval.LABELS[approval.PENDING], "tanda-menunggu"),
                  approval.REJECTED: (approval.LABELS[approval.REJECTED], "tanda-ditolak"),
                  approval.APPROVED: (approval.LABELS[approval.APPROVED], "tanda-definitif")}
DEFINITE = APPROVAL_MARKS[approval.APPROVED]  #: also what needs no approval


@dataclass(frozen=True)
class Item:
    """One activity as the leaders see it: every detail."""

    occurrence: Occurrence
    time: str  #: "09.00-11.00 WIB", "Sepanjang hari"
    place: str  #: the venue's registered name, else LOCATION; "" when none
    badge: str  #: "Internal", "Rahasia" or ""
    status: str  #: "Tentatif", "DIBATALKAN" or "" (STATUS alone)
    persons: tuple[str, ...]  #: the key persons' titles
    notes: str  #: the description (the sync took out the status, stand-in, protocol lines)
    marks: tuple[tuple[str, str], ...] = ()  #: status badges (text, CSS class)
    reason: str = ""  #: why Prokopim rejected it ("" unless rejected)
    stand_ins: tuple[str, ...] = ()  #: "Wali Kota Kediri diwakili oleh ..."
    protocol: Protocol = field(default_factory=Protocol)  #: pakaian, letter, narahubung...
    invitation: str = ""  #: the invitation PDF's address ("" when none)

    @property
    def day(self) -> dt.date:
        """The WIB day it starts."""
        return self.occurrence.start.astimezone(WIB).date()


def marks(occ: Occurrence) -> tuple[tuple[str, str], ...]:
    """The status badges of an activity: DIBATALKAN alone, else Tentatif and/or approval."""
    if occ.cancelled:
        return (CANCELLED,)
    found = [TENTATIVE] if occ.status == "TENTATIVE" else []
    if occ.approval in APPROVAL_MARKS:
        found.append(APPROVAL_MARKS[occ.approval])
    elif not found:
        found.append(DEFINITE)
    if len(found) > 1 and found[-1] == DEFINITE:
        found.pop()  # an approved hold is still only a hold
    return tuple(found)


def item(occ: Occurrence, venues: dict[str, Any], persons: dict[str, Any],
         invitation_link: str = "") -> Item:
    """The leaders' view of one occurrence in full detail."""
    venue = venues.get(occ.venue) if occ.venue else None
    status = {"TENTATIVE": "Tentatif", "CANCELLED": "DIBATALKAN"}.get(occ.status, "")
    return Item(occ, dates.jam(occ), venue.name if venue is not None else occ.location,
                CLASS_LABELS.get(occ.klass, "Rahasia"), status,
                tuple(persons[p].title if p in persons else p for p in occ.persons),
                occ.description, marks(occ),
                occ.reason if occ.approval == approval.REJECTED else "",
                tuple(occ.stand_ins), occ.protocol, invitation_link)


def _person(request: Any) -> str | None:
    """The key person of ``?orang=`` (a registered id), None when absent."""
    wanted = request.arg("orang")
    if not wanted:
        return None
    if wanted not in request.registry.persons():
        raise respond.BadQueryError(f"Pejabat \"{wanted[:40]}\" tidak terdaftar; pilih dari "
                                    "daftar pejabat di halaman pimpinan.")
    return str(wanted)


def _span(day: dt.date, week: bool) -> tuple[dt.date, dt.date]:
    """(first day, day after the last) of the day or of its Monday-to-Sunday week."""
    if not week:
        return day, day + dt.timedelta(days=1)
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=7)


def link(day: dt.date, week: bool = False, person: str | None = None,
         base: str = "/pimpinan/") -> str:
    """The leaders' page (or sheet) for a day or week, narrowed to a person or not."""
    query = {"tanggal": day.isoformat(), **({"minggu": "1"} if week else {}),
             **({"orang": person} if person else {})}
    return base + "?" + urlencode(query)


def _items(request: Any, first: dt.date, end: dt.date, person: str | None) -> list[Item]:
    """Every activity of [first, end) in the leaders' agenda, in full detail."""
    found = request.index.between(jsonfeed.midnight(first), jsonfeed.midnight(end),
                                  calendar=LEADERS, person=person, limit=MAX_ITEMS)
    venues, persons = request.registry.venues(), request.registry.persons()
    shown_here = [o for o in found if shown(o.klass, Audience.LEADERS) is Shown.FULL]
    letters = invitation.links(request, shown_here)
    # the one visibility rule decides (leaders see every class in full)
    return [item(o, venues, persons, invitation.path(o) if o.uid in letters else "")
            for o in shown_here]


def page(request: Any) -> respond.Response:
    """The leaders' day or week of every OPD (``?tanggal=``, ``?minggu=1``, ``?orang=``)."""
    if request.method not in ("GET", "HEAD"):
        raise respond.MethodError("Halaman ini hanya dapat dibaca (GET).")
    user = session.require(request, *LEADER_ROLES)
    day = jsonfeed.day_arg(request) or request.now.astimezone(WIB).date()
    week = request.arg("minggu") in ("1", "ya")
    person = _person(request)
    first, end = _span(day, week)
    found = _items(request, first, end, person)
    days = [first + dt.timedelta(days=n) for n in range((end - first).days)]
    by_day = [(d, [i for i in found if i.day == d or (i.day < d and i.occurrence.end >
                                                      jsonfeed.midnight(d))])
              for d in days]
    step = dt.timedelta(days=7 if week else 1)
    persons = sorted(request.registry.persons().values(), key=lambda p: p.title.casefold())
    chosen = request.registry.persons().get(person) if person else None
    body = render("ws/pimpinan.html", request=request, user=user, day=day, week=week,
                  first=first, last=end - dt.timedelta(days=1), by_day=by_day,
                  count=len(found), person=chosen, persons=persons,
                  previous=link(day - step, week, person), following=link(day + step, week, person),
                  today=link(request.now.astimezone(WIB).date(), week, person),
                  tomorrow=link(request.now.astimezone(WIB).date() + dt.timedelta(days=1),
                                week, person),
                  day_link=link(day, False, person), week_link=link(day, True, person),
                  all_link=link(day, week), sheet=link(day, False, person, "/pimpinan/cetak/"),
                  person_link=lambda p: link(day, week, p), links=feedlinks.links(request, user),
                  new_links=request.arg("langganan") == "baru", back="/pimpinan/")
    return respond.page(body, max_age=0, private=True)


def sheet(request: Any) -> respond.Response:
    """The A4 "Agenda Pimpinan" of one day (``?tanggal=``, optionally ``?orang=``)."""
    if request.method not in ("GET", "HEAD"):
        raise respond.MethodError("Halaman ini hanya dapat dibaca (GET).")
    session.require(request, *LEADER_ROLES)
    day = jsonfeed.day_arg(request) or request.now.astimezone(WIB).date()
    person = _person(request)
    found = _items(request, day, day + dt.timedelta(days=1), person)
    chosen = request.registry.persons().get(person) if person else None
    one = dt.timedelta(days=1)
    body = render("ws/pimpinan_cetak.html", request=request, day=day, rows=found,
                  person=chosen, person_id=person or "",
                  previous=link(day - one, False, person, "/pimpinan/cetak/"),
                  following=link(day + one, False, person, "/pimpinan/cetak/"),
                  tomorrow=link(request.now.astimezone(WIB).date() + one, False, person,
                                "/pimpinan/cetak/"),
                  back=link(day, False, person))
    return respond.page(body, max_age=0, private=True)
