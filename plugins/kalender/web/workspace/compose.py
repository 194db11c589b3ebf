"""The activity form: its fields, read and checked into an :class:`Entry` (pure).

A PIC enters an activity with structured fields (issue 10 item 3) instead of
free text in a calendar app. :func:`read` turns the submitted values into a
frozen :class:`Entry` and one sentence in Bahasa Indonesia per field that is
wrong (each field is read by ``fieldtext.Reader``); ``icalform`` turns an
Entry into the iCalendar text the server stores, ``icalread`` an existing
event back into form values. No Radicale, no clock, no HTTP here: the
registries come in as :class:`Choices`.

Fields live in one table (:data:`FIELDS`) so later issues add a row and a
reader; issue 11 added the status, the stand-ins (``diwakili_<person id>``,
kept as two dicts: :data:`DICTS`), the protocol details of
``kalender.pemda.protocol`` and the invitation PDF (an upload, passed apart
from the values). An edit passes the event's
own values as ``initial``: a group of fields the PIC left as it was (say the
times of a multi-day event made in an app, which the form cannot express) is
not judged again and is kept exactly as the app wrote it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kalender.clash.match import Matcher
from kalender.clash.rules import Person, Venue
from kalender.pemda.protocol import Protocol
from kalender.web.workspace.fieldtext import (
    DARING,
    KEEP_RULE,
    KELAS,
    LAIN,
    MAX_REPEAT_DAYS,
    STATUS,
    ULANG,
    Invitation,
    Reader,
    Upload,
    input_time,
    is_web_address,
    one_line,
    parse_date,
    parse_time,
    show_time,
)

__all__ = ["DARING", "DICTS", "FIELDS", "GROUPS", "KEEP_RULE", "KELAS", "LABELS", "LAIN",
           "MANY", "MAX_REPEAT_DAYS", "STATUS", "ULANG", "Choices", "Entry", "Invitation",
           "Upload", "Values", "changed", "empty",
           "input_time", "is_web_address", "one_line", "parse_date", "parse_time", "read",
           "same", "show_time", "values_from_entry", "values_of"]

#: Form values: one string per field, a list for the fields in :data:`MANY`.
Values = dict[str, Any]

#: Every field of the form, in page order (names fixed by issue 10).
FIELDS = ("judul", "status", "tanggal", "mulai", "selesai", "ruang", "lokasi", "tautan",
          "pejabat", "diwakili", "diwakili_lain", "narasumber", "opd", "deskripsi", "kelas",
          "kategori", "ulang", "ulang_sampai", "pakaian", "nomor_surat", "perihal",
          "narahubung", "sambutan", "undangan_publik", "hapus_lampiran")
MANY = frozenset({"pejabat"})
#: Fields posted once per key person, as ``<name>_<person id>``: {person id: value}.
DICTS = ("diwakili_lain", "diwakili")  # the longer prefix first
#: Checkboxes: "ya" when ticked (a browser sends nothing for an unticked one).
TICKS = frozenset({"undangan_publik", "hapus_lampiran"})
#: How each field is named to people (error summaries, the live check).
LABELS = {"judul": "Judul", "tanggal": "Tanggal", "mulai": "Jam mulai", "selesai": "Jam selesai",
          "ruang": "Tempat", "lokasi": "Lokasi lain", "tautan": "Tautan rapat daring",
          "pejabat": "Pejabat", "narasumber": "Narasumber", "opd": "OPD penyelenggara",
          "deskripsi": "Deskripsi", "kelas": "Sifat kegiatan", "kategori": "Kategori",
          "ulang": "Pengulangan", "ulang_sampai": "Berulang sampai",
          "status": "Status kegiatan", "pakaian": "Pakaian", "nomor_surat": "Nomor surat",
          "perihal": "Perihal surat", "narahubung": "Narahubung", "sambutan": "Sambutan",
          "undangan": "Surat undangan (PDF)", "undangan_publik": "Undangan boleh publik",
          "hapus_lampiran": "Hapus lampiran"}
#: Fields judged together: an edit that leaves a whole group as it was keeps it.
GROUPS: dict[str, tuple[str, ...]] = {
    "judul": ("judul",),
    "waktu": ("tanggal", "mulai", "selesai"),
    "tempat": ("ruang", "lokasi", "tautan"),
    "orang": ("pejabat", "diwakili", "diwakili_lain", "narasumber", "deskripsi"),
    "kelas": ("kelas",),
    "kategori": ("kategori",),
    "ulang": ("ulang", "ulang_sampai"),
    "status": ("status",),
    "protokol": ("pakaian", "nomor_surat", "perihal", "narahubung", "sambutan"),
    "lampiran": ("undangan_publik", "hapus_lampiran"),
}


@dataclass(frozen=True)
class Choices:
    """What the form offers: registered venues, key persons, and the matcher over them."""

    venues: Mapping[str, Venue]
    persons: Mapping[str, Person]
    matcher: Matcher

    @classmethod
    def of(cls, registry: Any) -> Choices:
        """The choices of a ``kalender.deployment.CachedRegistry`` (current files)."""
        return cls(registry.venues(), registry.persons(), registry.matcher())


@dataclass(frozen=True)
class Entry:
    """One activity as the form describes it (times are WIB wall-clock times)."""

    judul: str
    tanggal: dt.date
    mulai: dt.time | None  # None (with selesai None): an all-day event kept from an app
    selesai: dt.time | None
    ruang: str  # a venue id, LAIN (lokasi) or DARING (tautan)
    opd: str
    lokasi: str = ""
    tautan: str = ""
    pejabat: tuple[str, ...] = ()  # person ids, in registry order
    narasumber: str = ""
    deskripsi: str = ""
    kelas: str = "publik"
    kategori: tuple[str, ...] = ()
    ulang: str = "tidak"  # tidak | mingguan | bulanan | KEEP_RULE
    ulang_sampai: dt.date | None = None
    status: str = "definitif"  # definitif | tentatif | batal ("": as stored, none)
    #: (represented person id, stand-in person id or "", the stand-in as written)
    wakil: tuple[tuple[str, str, str], ...] = ()
    protocol: Protocol = field(default_factory=Protocol)
    undangan: Invitation | None = None  # a new invitation PDF
    undangan_publik: bool = False  # the invitation may be shown to the public
    hapus_lampiran: bool = False  # remove the stored invitation

    @property
    def stand_ins(self) -> dict[str, str]:
        """{represented person id: stand-in id or LAIN}."""
        return {a: p or LAIN for a, p, _ in self.wakil}

    @property
    def klass(self) -> str:
        """The CLASS value (RFC 5545 §3.8.1.3)."""
        return KELAS[self.kelas]


def empty() -> Values:
    """The values of an empty form."""
    values: Values = {name: "" for name in FIELDS}
    values.update(pejabat=[], kelas="publik", ulang="tidak", status="definitif",
                  diwakili={}, diwakili_lain={},
                  lampiran="")  # the stored invitation's file name (shown, never posted)
    return values


def values_of(fields: Mapping[str, Sequence[str]], base: Values | None = None) -> Values:
    """Form values from submitted fields (``{name: [value, ...]}``, unknown names ignored).

    ``base`` gives the fields that were not submitted (a query that only names
    a time keeps the rest of the form).
    """
    values = dict(base) if base is not None else empty()
    posted: dict[str, dict[str, str]] = {name: {} for name in DICTS}
    for key, given in fields.items():
        prefix = next((n for n in DICTS if key.startswith(n + "_")), None)
        if prefix is not None and given and isinstance(given[0], str):
            posted[prefix][key[len(prefix) + 1:]] = given[0]
    for name in DICTS:  # a query that names no stand-in keeps the base's
        if posted[name] or base is None:
            values[name] = posted[name]
    for name in FIELDS:
        if name in DICTS:
            continue
        if name in fields:
            given = [v for v in fields[name] if isinstance(v, str)]
            if name in MANY:
                values[name] = list(dict.fromkeys(v.strip() for v in given if v.strip()))
            else:
                values[name] = given[0] if given else ""
    return values


def changed(values: Values, initial: Values | None) -> set[str]:
    """The groups whose values differ from ``initial`` (every group when there is none)."""
    if initial is None:
        return set(GROUPS)
    return {g for g, names in GROUPS.items()
            if any(same(n, values.get(n)) != same(n, initial.get(n)) for n in names)}


def same(name: str, value: Any) -> Any:
    """A field's value as compared for "left unchanged": 13:00 is 13.00, order of a list
    and runs of spaces do not count."""
    if isinstance(value, list):
        return sorted(value)
    if isinstance(value, dict):
        return sorted((k, " ".join(str(v).split())) for k, v in value.items() if str(v).strip())
    text = " ".join(str(value or "").split())
    if name == "status":
        return text or "definitif"  # an event without STATUS is definite (RFC 5545 §3.8.1.11)
    try:
        if name in ("mulai", "selesai"):
            return show_time(parse_time(text))
        if name in ("tanggal", "ulang_sampai"):
            return parse_date(text).isoformat()
    except ValueError:
        pass
    return text


def read(values: Values, choices: Choices, opds: Sequence[str],
         initial: Values | None = None,
         upload: Upload | None = None) -> tuple[Entry | None, dict[str, str]]:
    """The entry the values describe, and ``{field: sentence}`` for every wrong field.

    ``opds``: the OPD calendars the account may write (an ``opd`` value outside
    them is an error, whatever the page offered). ``initial``: the values of
    the event being edited; a group left as it was is not judged again.
    ``upload``: the invitation file posted with the form (always judged).
    The entry is None when a field is wrong.
    """
    r = Reader(values, choices)
    kept = set(GROUPS) - changed(values, initial)
    all_day = "waktu" in kept and not r.text("mulai") and not r.text("selesai")
    title = r.judul()
    day = r.day("tanggal", "Tanggal")
    start, end = (None, None) if all_day else r.times()
    ruang, lokasi, tautan = r.place()
    persons, speakers, notes = r.persons(), r.speakers(), r.notes()
    stand_ins = r.stand_ins(persons)
    klass, categories = r.klass(), r.categories()
    status, protocol = r.status(), r.protocol()
    invitation = r.invitation(upload)
    allowed = [*ULANG, KEEP_RULE] if initial and initial.get("ulang") == KEEP_RULE else ULANG
    ulang, until = r.repetition(day, allowed)
    opd = r.text("opd") or (opds[0] if len(opds) == 1 else "")
    if not opd:
        r.fail("opd", "Pilih OPD penyelenggara.")
    elif opd not in opds:
        r.fail("opd", "Akun Anda tidak berhak mengisi kalender OPD ini; pilih OPD Anda sendiri.")
    errors = {name: sentence for name, sentence in r.errors.items()
              if name == "opd" or _group_of(name) not in kept}
    if errors or day is None:
        return None, errors
    return Entry(title, day, start, end, ruang, opd, lokasi, tautan, persons, speakers, notes,
                 klass, categories, ulang, until, status, stand_ins, protocol, invitation,
                 r.ticked("undangan_publik"), r.ticked("hapus_lampiran")), {}


def _group_of(name: str) -> str:
    if name.startswith("diwakili_"):  # diwakili_<person id>: its stand-in's sentence
        return "orang"
    return next((g for g, names in GROUPS.items() if name in names), name)


def values_from_entry(entry: Entry) -> Values:
    """The form values that describe ``entry`` (what :func:`read` reads back)."""
    values = empty()
    values.update(
        judul=entry.judul, tanggal=entry.tanggal.isoformat(),
        mulai=show_time(entry.mulai) if entry.mulai else "",
        selesai=show_time(entry.selesai) if entry.selesai else "",
        ruang=entry.ruang, lokasi=entry.lokasi, tautan=entry.tautan,
        pejabat=list(entry.pejabat), narasumber=entry.narasumber, opd=entry.opd,
        deskripsi=entry.deskripsi, kelas=entry.kelas, kategori=", ".join(entry.kategori),
        ulang=entry.ulang,
        ulang_sampai=entry.ulang_sampai.isoformat() if entry.ulang_sampai else "",
        status=entry.status, diwakili=entry.stand_ins,
        diwakili_lain={a: text for a, p, text in entry.wakil if not p},
        pakaian=entry.protocol.pakaian, nomor_surat=entry.protocol.nomor_surat,
        perihal=entry.protocol.perihal, narahubung=entry.protocol.narahubung,
        sambutan={True: "ya", False: "tidak", None: ""}[entry.protocol.sambutan],
        undangan_publik="ya" if entry.undangan_publik else "",
        hapus_lampiran="ya" if entry.hapus_lampiran else "")
    return values
