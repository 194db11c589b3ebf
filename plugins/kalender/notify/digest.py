"""The daily digest: one day of the leaders' agenda as a plain-text and an HTML mail.

For the leaders' aides (ajudan) and the protocol office: every activity of
the day in the leaders' agenda (``pimpinan/agenda`` of the web index, which
the sync service fills), with its time in WIB, title, place, organising OPD,
key persons and who represents whom, what to wear and its status. The same
data makes the text part (also ``kalender digest --print``) and the HTML part
(``templates/digest.html``, Jinja2 with autoescaping: titles are the PICs'
free text). Both parts form one multipart/alternative message (RFC 2046 §5.1.4).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import jinja2

from kalender.deployment import Deployment
from kalender.notify.mail import Settings
from kalender.pemda import approval
from kalender.visibility import CONFIDENTIAL, PRIVATE, Audience, Shown, shown
from kalender.web import dates
from kalender_sync.occurrences import WIB, Occurrence
from kalender_sync.webindex import LEADERS, WebIndex

#: More than a city's leaders attend in a day; a digest lists at most this many.
MAX_ITEMS = 300
#: The class as the entry form names it (RFC 5545 §3.8.1.3); public activities say nothing.
CLASS_LABELS = {CONFIDENTIAL: "Internal", PRIVATE: "Rahasia"}
FOOTER = ("Ringkasan ini dikirim otomatis oleh Kalender OPD, Pemerintah Kota Kediri.\n"
          "Berhenti berlangganan: minta admin menjalankan 'kalender user digest LOGIN off'.")


@dataclass(frozen=True)
class Entry:
    """One activity as the digest shows it."""

    time: str  #: "09.00-11.00 WIB", "Sepanjang hari"
    title: str
    place: str  #: the venue's registered name, else LOCATION; "" when none
    organiser: str  #: the organising OPD's name
    persons: tuple[str, ...] = ()  #: the key persons' titles (after stand-ins)
    stand_ins: tuple[str, ...] = ()  #: "Wali Kota diwakili oleh Wakil Wali Kota"
    pakaian: str = ""
    status: str = "Definitif"  #: Tentatif, Menunggu persetujuan, Definitif, Ditolak, DIBATALKAN
    reason: str = ""  #: why the protocol office rejected it
    klass: str = ""  #: "Internal", "Rahasia" or ""


@dataclass(frozen=True)
class Digest:
    """The leaders' agenda of one day."""

    day: dt.date
    entries: tuple[Entry, ...]

    @property
    def date(self) -> str:
        """The day as written: ``Selasa, 1 Desember 2026``."""
        return dates.hari_tanggal(self.day)

    @property
    def subject(self) -> str:
        """The mail's subject."""
        return f"[Kalender OPD] Agenda Pimpinan {self.date}"


def status(occ: Occurrence) -> str:
    """The status word of an occurrence (cancelled and tentative first, then approval)."""
    if occ.status == "CANCELLED":
        return "DIBATALKAN"
    if occ.status == "TENTATIVE":
        return "Tentatif"
    # Occurrence.approval: "" when approval is off or the activity needs none
    return approval.LABELS.get(occ.approval, "Definitif")


def entry(occ: Occurrence, venues: dict[str, Any], persons: dict[str, Any]) -> Entry:
    """One occurrence of the leaders' agenda as a digest entry."""
    venue = venues.get(occ.venue) if occ.venue else None
    return Entry(
        time=dates.jam(occ), title=occ.title,
        place=venue.name if venue is not None else occ.location, organiser=occ.opd_name,
        persons=tuple(persons[p].title if p in persons else p for p in occ.persons),
        stand_ins=occ.stand_ins, pakaian=occ.protocol.pakaian, status=status(occ),
        reason=occ.reason, klass=CLASS_LABELS.get(occ.klass, ""))


def gather(index: WebIndex, day: dt.date, venues: dict[str, Any],
           persons: dict[str, Any]) -> Digest:
    """The leaders' agenda of ``day`` (WIB) from the web index, by start then title."""
    start = dt.datetime.combine(day, dt.time(0), WIB)
    found = index.between(start, start + dt.timedelta(days=1), calendar=LEADERS,
                          limit=MAX_ITEMS)
    # the one visibility rule decides, as on the leaders' page (they see every class)
    return Digest(day, tuple(entry(o, venues, persons) for o in found
                             if shown(o.klass, Audience.LEADERS) is Shown.FULL))


def of_deployment(dep: Deployment, day: dt.date) -> Digest:
    """The digest of ``day`` from the deployment's ``sync.db``."""
    index = WebIndex(dep.root / "sync.db")
    try:
        return gather(index, day, {v.id: v for v in dep.venues()},
                      {p.id: p for p in dep.persons()})
    finally:
        index.close()


def details(e: Entry) -> list[str]:
    """The lines under an entry's title (both parts show the same)."""
    lines = [f"Tempat: {e.place}"] if e.place else []
    lines.append(f"Penyelenggara: {e.organiser}")
    if e.persons:
        lines.append("Pejabat: " + ", ".join(e.persons))
    lines += list(e.stand_ins)
    if e.pakaian:
        lines.append(f"Pakaian: {e.pakaian}")
    if e.reason:
        lines.append(f"Alasan penolakan: {e.reason}")
    return lines


def headline(e: Entry) -> str:
    """The title with its class: ``Rapat Anggaran (Internal)``."""
    return f"{e.title} ({e.klass})" if e.klass else e.title


def text(digest: Digest) -> str:
    """The plain-text digest (the mail's text part and ``--print``)."""
    count = len(digest.entries)
    out = [f"Agenda Pimpinan Pemerintah Kota Kediri\n{digest.date}",
           f"{count} kegiatan" if count else "Tidak ada kegiatan pimpinan pada hari ini."]
    for n, e in enumerate(digest.entries, 1):
        block = [f"{n}. {e.time} [{e.status}]", f"   {headline(e)}"]
        block += [f"   {line}" for line in details(e)]
        out.append("\n".join(block))
    out.append(f"-- \n{FOOTER}")
    return "\n\n".join(out) + "\n"


_ENV = jinja2.Environment(loader=jinja2.PackageLoader("kalender.notify", "templates"),
                          autoescape=True, trim_blocks=True, lstrip_blocks=True)


def html(digest: Digest) -> str:
    """The HTML digest (the mail's HTML part), every value escaped."""
    return _ENV.get_template("digest.html").render(
        digest=digest, details=details, headline=headline, footer=FOOTER.splitlines())


def message(settings: Settings, to: str, digest: Digest) -> EmailMessage:
    """The digest as one mail to ``to``: text and HTML alternatives."""
    mail = EmailMessage()
    mail["From"] = settings.sender
    mail["To"] = to
    mail["Subject"] = digest.subject
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="kalender-opd")
    mail.set_content(text(digest))
    mail.add_alternative(html(digest), subtype="html")
    return mail
