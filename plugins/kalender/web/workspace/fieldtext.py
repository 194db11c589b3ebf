"""How each field of the activity form is read: times, dates, places, persons (pure).

:class:`Reader` reads the submitted values one field at a time and keeps one
sentence in Bahasa Indonesia per wrong field; ``kalender.web.workspace.compose.read``
puts the results together into an Entry. The helpers write a time the
Indonesian way (``13.00``) and read both ``13.00`` and ``13:00``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Protocol as Shape
from urllib.parse import urlsplit

from kalender.pemda.protocol import Protocol
from kalender.web.dates import tanggal as long_date

if TYPE_CHECKING:  # pragma: no cover
    from kalender.web.workspace.compose import Choices, Values

KELAS = {"publik": "PUBLIC", "internal": "CONFIDENTIAL", "rahasia": "PRIVATE"}
#: The form's status -> STATUS (RFC 5545 §3.8.1.11).
STATUS = {"definitif": "CONFIRMED", "tentatif": "TENTATIVE", "batal": "CANCELLED"}
SAMBUTAN = {"ya": True, "tidak": False, "": None}
#: The largest invitation PDF (bytes), as kalender.web.forms.MAX_FILE.
MAX_PDF = 2 * 1024 * 1024
#: What a browser may call a PDF (an unknown type only with a .pdf name).
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
ULANG = {"tidak": None, "mingguan": "WEEKLY", "bulanan": "MONTHLY"}
#: The repetition of an app's event the form cannot express: kept as it is.
KEEP_RULE = "asal"
LAIN, DARING = "lain", "daring"
#: A repetition may run this long: the clash check expands series two years ahead.
MAX_REPEAT_DAYS = 730
MAX_TITLE, MAX_LINE, MAX_TEXT, MAX_URL = 200, 500, 5000, 2000
MAX_CATEGORIES = 10
_TIME = re.compile(r"^(\d{1,2})(?:[.:](\d{2})(?::00)?)?(?:\s*wib)?$", re.IGNORECASE)
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")


class Upload(Shape):
    """A posted file as ``kalender.web.forms.Upload`` has it."""

    @property
    def filename(self) -> str: ...  # pragma: no cover
    @property
    def content_type(self) -> str: ...  # pragma: no cover
    @property
    def data(self) -> bytes: ...  # pragma: no cover


@dataclass(frozen=True)
class Invitation:
    """An invitation letter (PDF) to attach to the event (RFC 5545 §3.8.1.1)."""

    filename: str
    data: bytes


def parse_time(text: str) -> dt.time:
    """``13.00``, ``13:00``, ``9.30``, ``13:00:00``, ``13`` (ValueError otherwise)."""
    found = _TIME.match(text.strip())
    if not found:
        raise ValueError(text)
    return dt.time(int(found[1]), int(found[2] or 0))


def parse_date(text: str) -> dt.date:
    """``2026-12-03`` (what a date field sends) or ``03-12-2026`` / ``3/12/2026``."""
    text = text.strip()
    if found := _DMY.match(text):
        return dt.date(int(found[3]), int(found[2]), int(found[1]))
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    return dt.date.fromisoformat(text)


def show_time(value: dt.time) -> str:
    """``13.00`` (the Indonesian way of writing a time)."""
    return f"{value:%H.%M}"


def input_time(text: str) -> str:
    """A time as a time field's value wants it (``13:00``); other text as it is."""
    try:
        return f"{parse_time(text):%H:%M}"
    except ValueError:
        return text


def one_line(text: str) -> str:
    """Text with its line breaks and runs of spaces made single spaces."""
    return " ".join(text.split())


class Reader:
    """Reads the values field by field, collecting one sentence per wrong field."""

    def __init__(self, values: Values, choices: Choices) -> None:
        self.values, self.choices = values, choices
        self.errors: dict[str, str] = {}

    def text(self, name: str) -> str:
        return str(self.values.get(name) or "").strip()

    def fail(self, name: str, sentence: str) -> None:
        self.errors.setdefault(name, sentence)

    def judul(self) -> str:
        title = one_line(self.text("judul"))
        if not title:
            self.fail("judul", "Judul kegiatan wajib diisi.")
        elif len(title) > MAX_TITLE:
            self.fail("judul", f"Judul terlalu panjang; paling banyak {MAX_TITLE} karakter.")
        return title

    def day(self, name: str, what: str, required: bool = True) -> dt.date | None:
        text = self.text(name)
        if not text:
            if required:
                self.fail(name, f"{what} wajib diisi.")
            return None
        try:
            day = parse_date(text)
        except ValueError:
            self.fail(name, f"{what} \"{text[:20]}\" bukan tanggal yang ada; tulis seperti "
                            "2026-12-03 atau pilih dari kalender.")
            return None
        if not 2000 <= day.year <= 2100:
            self.fail(name, f"{what} harus antara tahun 2000 dan 2100.")
        return day

    def clock(self, name: str, what: str) -> dt.time | None:
        text = self.text(name)
        if not text:
            self.fail(name, f"Jam {what} wajib diisi.")
            return None
        try:
            return parse_time(text)
        except ValueError:
            self.fail(name, f"Jam {what} \"{text[:20]}\" tidak valid; tulis seperti 13.00 "
                            "atau 13:00.")
            return None

    def times(self) -> tuple[dt.time | None, dt.time | None]:
        start, end = self.clock("mulai", "mulai"), self.clock("selesai", "selesai")
        if start is not None and end is not None and end <= start:
            self.fail("selesai", f"Jam selesai harus setelah jam mulai ({show_time(start)}).")
        return start, end

    def place(self) -> tuple[str, str, str]:
        ruang, tautan = self.text("ruang"), self.text("tautan")
        lokasi = one_line(self.text("lokasi"))
        if not ruang:
            self.fail("ruang", "Pilih tempat kegiatan: ruang terdaftar, lokasi lain, atau daring.")
        elif ruang == LAIN:
            if not lokasi:
                self.fail("lokasi", "Tulis nama dan alamat lokasi lain.")
            elif len(lokasi) > MAX_LINE:
                self.fail("lokasi", f"Lokasi terlalu panjang; paling banyak {MAX_LINE} karakter.")
            return ruang, lokasi, ""
        elif ruang == DARING:
            if not tautan:
                self.fail("tautan", "Tulis tautan rapat daring, diawali https://.")
            elif not is_web_address(tautan):
                self.fail("tautan", "Tautan harus alamat web lengkap yang diawali http:// atau "
                                    "https://, tanpa spasi.")
            return ruang, "", tautan
        elif ruang not in self.choices.venues:
            self.fail("ruang", "Tempat yang dipilih tidak terdaftar; pilih dari daftar tempat.")
        return ruang, "", ""

    def persons(self) -> tuple[str, ...]:
        chosen = self.values.get("pejabat") or []
        chosen = [chosen] if isinstance(chosen, str) else list(chosen)
        unknown = [p for p in chosen if p not in self.choices.persons]
        if unknown:
            self.fail("pejabat", "Pejabat yang dipilih tidak terdaftar: "
                                 f"{', '.join(unknown)[:100]}; pilih dari daftar pejabat.")
        return tuple(p for p in self.choices.persons if p in chosen)

    def named(self, name: str, text: str, what: str) -> None:
        """Refuse a free text that names a registered key person (it would book them)."""
        ids = self.choices.matcher.persons({"DESCRIPTION": text})
        if ids:
            titles = "; ".join(self.choices.persons[i].title for i in sorted(ids)
                               if i in self.choices.persons)
            self.fail(name, f"{what} menyebut pejabat terdaftar ({titles}); pilih pejabat itu "
                            "di kolom Pejabat agar jadwalnya diperiksa.")

    def speakers(self) -> str:
        text = "; ".join(p.strip() for p in self.text("narasumber").splitlines() if p.strip())
        if len(text) > MAX_LINE:
            self.fail("narasumber", f"Narasumber terlalu panjang; paling banyak {MAX_LINE} "
                                    "karakter.")
        elif text:
            self.named("narasumber", f"Narasumber: {text}", "Narasumber")
        return text

    def notes(self) -> str:
        text = "\n".join(line.rstrip() for line in self.text("deskripsi").splitlines()).strip()
        if len(text) > MAX_TEXT:
            self.fail("deskripsi", f"Deskripsi terlalu panjang; paling banyak {MAX_TEXT} "
                                   "karakter.")
        elif text:
            self.named("deskripsi", text, "Deskripsi")
        return text

    def stand_ins(self, persons: tuple[str, ...]) -> tuple[tuple[str, str, str], ...]:
        """(represented, stand-in id or "", stand-in text) of each chosen key person."""
        chosen = self.values.get("diwakili") or {}
        texts = self.values.get("diwakili_lain") or {}
        found = []
        for pid in persons:
            choice = str(chosen.get(pid) or "").strip()
            name, title = f"diwakili_{pid}", self.choices.persons[pid].title
            if not choice:
                continue
            if choice == LAIN:
                text = one_line(str(texts.get(pid) or ""))
                ids = self.choices.matcher.match_person(text) if text else frozenset()
                if not text:
                    self.fail(name, f"Tulis nama dan jabatan yang mewakili {title}.")
                elif len(text) > MAX_TITLE:
                    self.fail(name, f"Nama yang mewakili terlalu panjang; paling banyak "
                                    f"{MAX_TITLE} karakter.")
                elif len(ids) == 1 and pid not in ids:  # a registered person after all
                    found.append((pid, next(iter(ids)), self.choices.persons[next(iter(ids))]
                                  .title))
                elif ids:
                    self.fail(name, f"\"{text[:60]}\" menyebut pejabat terdaftar; pilih "
                                    "pejabat itu dari daftar.")
                else:
                    found.append((pid, "", text))
            elif choice == pid:
                self.fail(name, f"{title} tidak dapat mewakili dirinya sendiri.")
            elif choice not in self.choices.persons:
                self.fail(name, "Pejabat yang mewakili tidak terdaftar; pilih dari daftar "
                                "atau pilih \"Lainnya\" dan tulis namanya.")
            else:
                found.append((pid, choice, self.choices.persons[choice].title))
        return tuple(found)

    def status(self) -> str:
        status = self.text("status")
        if status and status not in STATUS:
            self.fail("status", "Pilih status kegiatan: Definitif, Tentatif atau Dibatalkan.")
            return ""
        return status

    def protocol(self) -> Protocol:
        """The protocol details: one line each, not too long."""
        texts = {}
        for name, what, limit in (("pakaian", "Pakaian", 100),
                                  ("nomor_surat", "Nomor surat", 100),
                                  ("perihal", "Perihal", MAX_TITLE),
                                  ("narahubung", "Narahubung", MAX_TITLE)):
            texts[name] = one_line(self.text(name))
            if len(texts[name]) > limit:
                self.fail(name, f"{what} terlalu panjang; paling banyak {limit} karakter.")
        sambutan = self.text("sambutan").casefold()
        if sambutan not in SAMBUTAN:
            self.fail("sambutan", "Pilih apakah pejabat memberi sambutan: Ya, Tidak, atau "
                                  "belum diketahui.")
            sambutan = ""
        return Protocol(**texts, sambutan=SAMBUTAN[sambutan])

    def ticked(self, name: str) -> bool:
        return self.text(name) not in ("", "0", "tidak")

    def invitation(self, upload: Upload | None) -> Invitation | None:
        """The posted invitation: a PDF (its %PDF- signature) of at most MAX_PDF bytes."""
        if upload is None or (not upload.data and not upload.filename):
            return None
        name = one_line(re.sub(r"[\x00-\x1f\x7f\"]", "", upload.filename))[:MAX_TITLE]
        kind = upload.content_type.split(";")[0].strip().lower()
        if not upload.data:
            self.fail("undangan", "Berkas undangan kosong; pilih berkas PDF suratnya.")
        elif len(upload.data) > MAX_PDF:
            self.fail("undangan", f"Berkas undangan terlalu besar: paling besar "
                                  f"{MAX_PDF // (1024 * 1024)} MB.")
        elif not upload.data.startswith(b"%PDF-") or not (
                kind in PDF_TYPES or name.lower().endswith(".pdf")):
            self.fail("undangan", "Berkas undangan harus berupa PDF (.pdf); pindai atau "
                                  "simpan suratnya sebagai PDF.")
        else:
            return Invitation(name or "undangan.pdf", upload.data)
        return None

    def klass(self) -> str:
        kelas = self.text("kelas") or "publik"
        if kelas not in KELAS:
            self.fail("kelas", "Pilih sifat kegiatan: Publik, Internal atau Rahasia.")
            return "publik"
        return kelas

    def categories(self) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(one_line(c) for c in self.text("kategori").split(",")
                                    if c.strip()))
        if len(names) > MAX_CATEGORIES or any(len(n) > 60 for n in names):
            self.fail("kategori", f"Paling banyak {MAX_CATEGORIES} kategori, masing-masing "
                                  "paling banyak 60 karakter, dipisah koma.")
        return names

    def repetition(self, day: dt.date | None, allowed: Iterable[str]) -> tuple[str, dt.date | None]:
        ulang = self.text("ulang") or "tidak"
        if ulang not in allowed:
            self.fail("ulang", "Pilih pengulangan: tidak berulang, mingguan atau bulanan.")
            return "tidak", None
        if ulang in ("tidak", KEEP_RULE):
            return ulang, None
        until = self.day("ulang_sampai", "Tanggal akhir pengulangan")
        if until is not None and day is not None:
            last = day + dt.timedelta(days=MAX_REPEAT_DAYS)
            if until <= day:
                self.fail("ulang_sampai", "Tanggal akhir pengulangan harus setelah tanggal "
                                          f"kegiatan ({long_date(day)}).")
            elif until > last:
                self.fail("ulang_sampai", "Pengulangan paling lama dua tahun: paling akhir "
                                          f"{long_date(last)}.")
        return ulang, until


def is_web_address(text: str) -> bool:
    """An absolute http(s) URL with a host and no spaces."""
    if len(text) > MAX_URL or any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
