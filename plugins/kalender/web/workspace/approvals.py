"""``/persetujuan/``: Prokopim approves or rejects, in the browser, what waits for approval.

For the roles protokol and admin. The page lists what
:func:`kalender.pemda.decisions.pending` finds (activities naming a key person
that are not approved for their present time and place), each with its time,
place, OPD, key persons, stand-ins and protocol details (read from the stored
item, so a fresh write shows before the next sync), a "Setujui" button and a
"Tolak" form whose reason is required. Both POST to their own path and call
:mod:`kalender.pemda.decisions` exactly as ``kalender approve`` and
``kalender reject`` do (a rejection's reason reaches the OPD's PICs through the
Bentrok channel and e-mail); the answer is 303 back to the list with a
sentence confirming the decision (RFC 9110 §15.4.4: the reload is a GET).
A refused decision (no reason, an unknown item, approval switched off) is a
4xx page with the sentence of the ``KalenderError`` that says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import icalendar

from kalender.pemda import approval, approvals, decisions, protocol, standin
from kalender.pemda.protocol import Protocol
from kalender.web import respond
from kalender.web.public import invitation
from kalender.web.render import render
from kalender.web.workspace import session
from kalender_sync.occurrences import WIB, page_id
from kalender_sync.transform import output_uid

#: Who decides: the protocol office, and admins.
DECIDERS = ("protokol", "admin")
HOME = "/persetujuan/"
DONE = {"setujui": "disetujui (definitif)", "tolak": "ditolak"}


@dataclass(frozen=True)
class Row:
    """One waiting activity as the page shows it."""

    waiting: decisions.Waiting
    start: dt.datetime
    end: dt.datetime
    stand_ins: tuple[str, ...]
    protocol: Protocol
    invitation: str  #: the letter's address ("" when none)
    all_day: bool = False

    @property
    def key(self) -> str:
        """A value unique on the page, for element ids."""
        return page_id(output_uid(self.waiting.opd, self.waiting.uid), None)

    @property
    def label(self) -> str:
        """"Menunggu persetujuan" or "Ditolak"."""
        return approval.LABELS.get(self.waiting.state, self.waiting.state)


def _details(request: Any, w: decisions.Waiting) -> tuple[tuple[str, ...], Protocol, str]:
    """(stand-in sentences, protocol details, invitation link) of the stored item."""
    stored = request.storage.read_item(f"/opd/{w.opd}/", w.href)
    if stored is None:
        return (), Protocol(), ""
    text = stored[0]
    try:
        events = icalendar.Calendar.from_ical(text).walk("VEVENT")
    except ValueError:
        return (), Protocol(), ""
    master = next((e for e in events if e.get("RECURRENCE-ID") is None), events[0]
                  if events else None)
    if master is None:
        return (), Protocol(), ""
    matcher = request.registry.matcher()
    said = tuple(dict.fromkeys(standin.sentence(d) for d in matcher.delegations(master)))
    details = protocol.read(str(master.get("DESCRIPTION", "")))
    link = ""
    if invitation.has_pdf(text):
        series = any(e.get(n) is not None for e in events
                     for n in ("RRULE", "RDATE", "RECURRENCE-ID"))
        instance = dt.datetime.fromtimestamp(w.start, WIB) if series else None
        link = f"/kegiatan/{page_id(output_uid(w.opd, w.uid), instance)}/undangan.pdf"
    return said, details, link


def rows(request: Any) -> list[Row]:
    """What waits for approval, soonest first, in full detail."""
    out = []
    for w in decisions.pending(request.root):
        said, details, link = _details(request, w)
        out.append(Row(w, dt.datetime.fromtimestamp(w.start, WIB),
                       dt.datetime.fromtimestamp(w.end, WIB), said, details, link))
    return out


def page(request: Any) -> respond.Response:
    """The list of waiting activities, with the decision buttons."""
    if request.method not in ("GET", "HEAD"):
        raise respond.MethodError("Halaman ini hanya dapat dibaca (GET).")
    session.require(request, *DECIDERS)
    on = approvals.enabled(request.storage.deployment.database)
    done = request.arg("keputusan")
    body = render("ws/persetujuan.html", request=request, on=on,
                  rows=rows(request) if on else [],
                  done=DONE.get(done, ""), done_title=request.arg("judul")[:200],
                  back=HOME)
    return respond.page(body, max_age=0, private=True)


def _target(request: Any) -> tuple[str, str]:
    """(OPD id, UID) of the posted decision (400 when the form lacks them)."""
    opd, uid = request.posted("opd"), request.posted("uid")
    if not opd or not uid:
        raise respond.BadQueryError("Formulir keputusan tidak lengkap (OPD dan UID kegiatan); "
                                    "muat ulang halaman persetujuan lalu coba lagi.")
    return opd, uid


def _after(what: str, title: str) -> respond.Response:
    """303 back to the list, which confirms the decision."""
    return respond.redirect(HOME + "?" + urlencode({"keputusan": what, "judul": title}))


def approve(request: Any) -> respond.Response:
    """POST: approve one activity for its present time and place."""
    user = session.require(request, *DECIDERS)
    opd, uid = _target(request)
    decided = decisions.approve(request.root, opd, uid, user.login)
    return _after("setujui", decided.title)


def reject(request: Any) -> respond.Response:
    """POST: reject one activity with the reason its PICs will read."""
    user = session.require(request, *DECIDERS)
    opd, uid = _target(request)
    decided = decisions.reject(request.root, opd, uid, user.login, request.posted("alasan"))
    return _after("tolak", decided.title)
