"""Clash explanations in Bahasa Indonesia, and their machine-readable details.

A PIC reads one sentence per clash, e.g. "Ruang Joyoboyo sudah dipakai Dinas
Kesehatan Kota Kediri untuk "Rapat Stunting" pada Senin 2 Des 2024 09.00-11.00
WIB." The answer goes to another OPD, so it shows what ``kalender.visibility``
lets another OPD see: the title of a public event; any other event (CLASS
CONFIDENTIAL or PRIVATE, an unknown CLASS, an override of such a series, as
``Booking.private`` records) is called "kegiatan tertutup", and its title
appears nowhere in the answer, the machine-readable details included. A
tentative hold is named as one ("kegiatan tentatif "Rapat Stunting"", or
"kegiatan tentatif tertutup"), and a write accepted despite a hold (``[storage]
kalender_tentative = warn``) is told so by :func:`warned`.

A refusal also says what would fit (``kalender.clash.suggest``): "Waktu
kosong terdekat di Ruang Joyoboyo: 13.00-15.00; Ruang Kilisuci kosong pada
jam itu." (:func:`offer`), and lists the same as XML (:func:`offered`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from kalender.clash.free import Suggestions
from kalender.clash.rules import Booking, Clash

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
#: At most this many sentences in the message; the XML details list every clash.
MAX_SENTENCES = 3
#: At most this many free venues are named in the sentence (the XML lists all offered).
MAX_NAMED = 3


def when(start: int, end: int) -> str:
    """'Senin 2 Des 2024 09.00-11.00 WIB' (or a span over several days)."""
    a = dt.datetime.fromtimestamp(start, WIB)
    b = dt.datetime.fromtimestamp(end, WIB)

    def day(d: dt.datetime) -> str:
        return f"{DAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}"

    if a.date() == b.date() or (b - a <= dt.timedelta(days=1) and b.time() == dt.time(0)
                                and a.time() != dt.time(0)):
        return f"{day(a)} {a:%H.%M}-{b:%H.%M} WIB"
    if a.time() == dt.time(0) and b.time() == dt.time(0):
        last = b - dt.timedelta(days=1)
        return day(a) if last.date() == a.date() else f"{day(a)} s.d. {day(last)}"
    return f"{day(a)} {a:%H.%M} WIB s.d. {day(b)} {b:%H.%M} WIB"


#: How another OPD's event is named when its title may not be shown.
CLOSED = "kegiatan tertutup"
#: How a hold (STATUS:TENTATIVE, ``Booking.tentative``) is named, before its title.
TENTATIVE = "kegiatan tentatif"


def activity(b: Booking) -> str:
    """How an existing booking is named to another OPD: its title, or 'kegiatan tertutup'.

    A hold says so: 'kegiatan tentatif "Rapat"', or 'kegiatan tentatif tertutup'
    when its title may not be shown (kalender.visibility: never revealed).
    """
    if b.tentative:
        return f"{TENTATIVE} tertutup" if b.private or not b.title else (
            f"{TENTATIVE} \"{b.title}\"")
    return CLOSED if b.private or not b.title else f"\"{b.title}\""


def sentence(clash: Clash, resource_name: str, opd_name: str) -> str:
    """One sentence explaining ``clash``."""
    other = clash.other
    if clash.kind == "venue":
        return (f"{resource_name} sudah dipakai {opd_name} untuk {activity(other)} pada "
                f"{when(other.start, other.end)}.")
    return (f"{resource_name} sudah dijadwalkan hadir di {activity(other)} ({opd_name}) pada "
            f"{when(other.start, other.end)}.")


def _distinct(clashes: Sequence[Clash], render: Callable[[Clash, str, str], str],
              names: Callable[[str, str], str], opd_names: Mapping[str, str]) -> list[str]:
    """Each clash rendered with its resource's and OPD's names, repeats dropped, in order."""
    return list(dict.fromkeys(
        render(c, names(c.kind, c.resource), opd_names.get(c.other.opd, c.other.opd))
        for c in clashes))


def explain(clashes: Sequence[Clash], names: Callable[[str, str], str],
            opd_names: Mapping[str, str]) -> str:
    """The message for a refused write: the first clashes, then how many more."""
    seen = _distinct(clashes, sentence, names, opd_names)
    shown = " ".join(seen[:MAX_SENTENCES])
    if len(seen) > MAX_SENTENCES:
        shown += f" Dan {len(seen) - MAX_SENTENCES} bentrok lainnya."
    occurrences = {c.booking.start for c in clashes}
    if len(occurrences) > 1:
        shown += f" Bentrok terjadi pada {len(occurrences)} jadwal dari kegiatan berulang ini."
    return shown + " Pilih waktu atau tempat lain."


def warning(clash: Clash, resource_name: str, opd_name: str) -> str:
    """One clause of an accepted write's warning (a clash in which a side is a hold)."""
    other = clash.other
    where = f"di {resource_name}" if clash.kind == "venue" else f"untuk {resource_name}"
    return f"{activity(other)} ({opd_name}) {where} pada {when(other.start, other.end)}"


def warned(clashes: Sequence[Clash], names: Callable[[str, str], str],
           opd_names: Mapping[str, str]) -> str:
    """The sentence telling the writing OPD its accepted write clashes with a hold."""
    seen = _distinct(clashes, warning, names, opd_names)
    shown = "; ".join(seen[:MAX_SENTENCES])
    if len(seen) > MAX_SENTENCES:
        shown += f"; dan {len(seen) - MAX_SENTENCES} bentrok lainnya"
    mine = any(c.booking.tentative for c in clashes)
    head = "Diterima sebagai kegiatan tentatif" if mine else "Diterima"
    return f"{head}, tetapi bertabrakan dengan {shown}."


def iso(epoch: int) -> str:
    """UTC instant in the RFC 5545 basic format (e.g. 20241202T020000Z)."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def details(clashes: Sequence[Clash]) -> list[dict[str, str]]:
    """XML attributes of each clash (no title or UID of a private event)."""
    result = []
    for c in clashes:
        d = {"kind": c.kind, "resource": c.resource, "opd": c.other.opd,
             "start": iso(c.other.start), "end": iso(c.other.end),
             "occurrence-start": iso(c.booking.start), "occurrence-end": iso(c.booking.end)}
        if not c.other.private:
            d["title"] = c.other.title
        if c.other.tentative:  # a hold (RFC 5545 §3.8.1.11 STATUS:TENTATIVE)
            d["tentative"] = "true"
        result.append(d)
    return result


def listed(names: Sequence[str], last: str = "dan") -> str:
    """'A', 'A dan B', 'A, B dan C' (Indonesian enumeration)."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}"


def _clock(epoch: int) -> str:
    """'13.00' (WIB)."""
    return f"{dt.datetime.fromtimestamp(epoch, WIB):%H.%M}"


def _times(s: Suggestions) -> str:
    """'13.00-15.00 atau 15.30-17.30', prefixed by the day when it is another day."""
    spans = [f"{_clock(a)}-{_clock(b)}" for a, b in s.times]
    first = dt.datetime.fromtimestamp(s.times[0][0], WIB)
    text = listed(spans, "atau")
    if s.day and first.date() != dt.datetime.fromtimestamp(s.day, WIB).date():
        text = f"{DAYS[first.weekday()]} {first.day} {MONTHS[first.month - 1]} {first.year} {text}"
    return text


def offer(s: Suggestions, person: Callable[[str], str]) -> str:
    """The sentence offering ``s`` ('' when nothing is offered); ``person`` names a person id."""
    parts = []
    if s.times:
        where = (f"di {s.name(s.venue)}" if s.venue is not None
                 else f"untuk {listed([person(p) for p in s.persons])}" if s.persons else "")
        every = " untuk semua jadwal kegiatan berulang ini" if s.series else ""
        parts.append("Waktu kosong terdekat" + (f" {where}" if where else "")
                     + f"{every}: {_times(s)}")
    if s.venues:
        names = [s.name(v) for v in s.venues[:MAX_NAMED]]
        if len(s.venues) > MAX_NAMED:
            names.append(f"{len(s.venues) - MAX_NAMED} tempat lain")
        parts.append(f"{listed(names)} kosong pada jam itu")
    return ("; ".join(parts) + ".") if parts else ""


def local_iso(epoch: int) -> str:
    """An instant in WIB as RFC 3339 (e.g. 2026-12-03T13:00:00+07:00)."""
    return dt.datetime.fromtimestamp(epoch, WIB).isoformat()


def offered(s: Suggestions) -> list[tuple[str, dict[str, str]]]:
    """(local name, attributes) of the XML elements listing ``s`` (free-time, free-venue)."""
    result: list[tuple[str, dict[str, str]]] = []
    for start, end in s.times:
        attributes = {"start": local_iso(start), "end": local_iso(end)}
        if s.venue is not None:
            attributes["venue"] = s.venue
        result.append(("free-time", attributes))
    result += [("free-venue", {"id": v, "name": s.name(v)}) for v in s.venues]
    return result
