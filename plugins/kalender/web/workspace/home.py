"""``/opd/``: the PIC's home: the OPD's coming activities, its Bentrok notices, app setup.

A PIC sees each of their OPD (one section each; ``?opd=<id>`` narrows to one):
the activities of the next :data:`DAYS` days from the leaders' web index in
full detail (it is their own OPD: ``kalender.visibility`` shows the owner
everything), each with an "Ubah" link to the entry form of the item it comes
from (``WebIndex.source_of``), a "Kegiatan baru" link, the notices of the
OPD's Bentrok calendar (``kalender.notify.board``: refused writes and
locations to check), and how to connect a calendar app with their login.
Admins and pimpinan choose an OPD (``?opd=<id>``); only PICs of that OPD and
admins get the edit links. ``?tersimpan=`` (set by the entry form after a
save) shows "Kegiatan tersimpan", ``?dihapus=`` "Kegiatan dihapus".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kalender import roles
from kalender.notify import board
from kalender.notify.notice import NEXT_STEPS, REFUSED, Notice, summary
from kalender.registry import LEADER_ROLES, Opd, User
from kalender.visibility import Audience, Shown, shown
from kalender.web import respond
from kalender.web.render import render
from kalender.web.workspace import feedlinks, leaders, session
from kalender_sync.occurrences import WIB

#: How far ahead the OPD's list reaches, and how long it gets at most.
DAYS = 90
MAX_ITEMS = 200


@dataclass(frozen=True)
class Entry:
    """One coming activity of the OPD, with its edit and delete paths ("" when not editable)."""

    item: leaders.Item
    edit: str
    delete: str


@dataclass(frozen=True)
class NoticeView:
    """One entry of the OPD's Bentrok calendar."""

    notice: Notice
    heading: str  #: "DITOLAK: <title>" or "PERIKSA LOKASI: <title>"
    refused: bool
    step: str  #: what to do next
    start: dt.datetime | None
    end: dt.datetime | None
    at: dt.datetime


@dataclass(frozen=True)
class Section:
    """One OPD on the page."""

    opd: Opd
    editable: bool
    entries: list[Entry]
    more: int  #: activities beyond the list's length
    notices: list[NoticeView]


def editable(user: User, opd: str) -> bool:
    """Whether ``user`` writes ``opd``'s calendar (its PIC, or an admin)."""
    return user.role == "admin" or (user.role == "pic" and opd in user.opds)


def edit_link(opd: str, name: str, action: str = "ubah") -> str:
    """The entry form of one item, ``/kegiatan/ubah/<opd>/<name>`` (or ``hapus``)."""
    return f"/kegiatan/{action}/{opd}/{quote(name, safe='')}"


def _notice(n: Notice) -> NoticeView:
    """A notice as the page shows it."""
    return NoticeView(n, summary(n), n.kind == REFUSED,
                      NEXT_STEPS.get(n.reason, "") if n.kind == REFUSED else
                      "Tulis nama tempat persis seperti di daftar tempat terdaftar.",
                      _wib(n.start), _wib(n.end), dt.datetime.fromtimestamp(n.at, WIB))


def _wib(epoch: int | None) -> dt.datetime | None:
    """An epoch as a WIB datetime."""
    return dt.datetime.fromtimestamp(epoch, WIB) if epoch is not None else None


def section(request: Any, user: User, opd: Opd) -> Section:
    """One OPD's coming activities and notices."""
    now = request.now
    until = now + dt.timedelta(days=DAYS)
    found = request.index.between(now, until, calendar=leaders.LEADERS, opd=opd.id,
                                  limit=MAX_ITEMS)
    venues, persons = request.registry.venues(), request.registry.persons()
    can_edit = editable(user, opd.id)
    # its own PIC is the owner; pimpinan and admins read it as leaders (both: every detail)
    audience = Audience.OWNER if user.role == "pic" else Audience.LEADERS
    entries = []
    for occ in found:
        if shown(occ.klass, audience) is not Shown.FULL:
            continue  # the one visibility rule decides
        source: tuple[str, str] | None = request.index.source_of(occ) if can_edit else None
        entries.append(Entry(leaders.item(occ, venues, persons),
                             edit_link(*source) if source is not None else "",
                             edit_link(source[0], source[1], "hapus") if source is not None
                             else ""))
    more = 0
    if len(found) >= MAX_ITEMS:
        more = request.index.count(now, until, calendar=leaders.LEADERS, opd=opd.id) - len(found)
    notices = [_notice(n) for n in board.current(request.root / "kalender.db", opd.id)]
    return Section(opd, can_edit, entries, more, notices)


def _chosen(request: Any, user: User, opds: list[Opd]) -> list[Opd]:
    """The OPD shown: ``?opd=`` (one the account may see), else a PIC's own."""
    wanted = request.arg("opd")
    allowed = [o for o in opds if user.role != "pic" or o.id in user.opds]
    if wanted:
        found = [o for o in allowed if o.id == wanted]
        if not found:
            if user.role == "pic" and any(o.id == wanted for o in opds):
                raise respond.ForbiddenError("Anda hanya dapat membuka halaman OPD Anda sendiri.")
            raise respond.NotFoundError(f"OPD \"{wanted[:40]}\" tidak terdaftar.")
        return found
    return allowed if user.role == "pic" else []


def calendar_names(request: Any) -> dict[str, str]:
    """Collection path -> a name for people, for the app setup list."""
    reg = request.registry
    names = {roles.PUBLIC_AGENDA: "Agenda publik Kota Kediri",
             roles.LEADERS_AGENDA: "Agenda pimpinan (semua OPD, lengkap)"}
    for o in reg.opds():
        names[o.href] = f"Kalender {o.name}"
        names[roles.bentrok_href(o.id)] = f"Bentrok {o.label} (penolakan dan pemberitahuan)"
    for p in reg.persons().values():
        names[roles.person_href(p.id)] = f"Agenda {p.title}"
    return names


def page(request: Any) -> respond.Response:
    """The OPD home of the signed-in account."""
    if request.method not in ("GET", "HEAD"):
        raise respond.MethodError("Halaman ini hanya dapat dibaca (GET).")
    user = session.require(request, "pic", *LEADER_ROLES)
    opds = [o for o in request.registry.opds() if not o.archived]
    chosen = _chosen(request, user, opds)
    sections = [section(request, user, o) for o in chosen]
    choices = [o for o in opds if user.role != "pic" or o.id in user.opds]
    visible = roles.visible_calendars(user, request.registry.opds(),
                                      list(request.registry.persons()))
    # a leader's 33 OPD calendars are folded away, a PIC's own are not
    folded = [c for c in visible if c.startswith("/opd/") and user.role != "pic"]
    calendars = [c for c in visible if c not in folded]
    body = render("ws/opd.html", request=request, user=user, sections=sections,
                  choices=choices if len(choices) > 1 else [],
                  chosen=request.arg("opd"), saved=bool(request.arg("tersimpan")),
                  deleted=bool(request.arg("dihapus")),
                  new_links=request.arg("langganan") == "baru", days=DAYS,
                  server=request.base_url + "/", base=request.base_url,
                  host=request.base_url.split("://", 1)[-1], calendars=calendars,
                  folded=folded,
                  names=calendar_names(request), links=feedlinks.links(request, user),
                  back="/opd/")
    return respond.page(body, max_age=0, private=True)
