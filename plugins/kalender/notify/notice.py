"""What a PIC is told: a refused write or a location to check, as plain data and text.

Pure: no Radicale, no clock (``at`` is passed in). A :class:`Notice` becomes
one entry of the OPD's Bentrok calendar (``/bentrok/<opd>/``) and, for a
refusal, one e-mail. Entries are keyed by (OPD, UID), so a client that
re-sends a refused event forever updates one entry instead of adding one per
try. The sentence of a refusal is the one the 403 carried, which was built
through the visibility rule (``kalender.clash.messages``): nothing here reads
another OPD's event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from kalender.clash.messages import DAYS, MONTHS, WIB, when

#: Kinds of notice: a refused write, an accepted event whose place is unclear, an
#: activity the protocol office (Prokopim) rejected (kalender.pemda.decisions), and an
#: accepted write that clashes with a tentative hold (``kalender_tentative = warn``).
REFUSED = "ditolak"
CHECK_LOCATION = "periksa-lokasi"
REJECTED_BY_PROTOCOL = "ditolak-prokopim"
WARNED = "peringatan"
#: The label of each kind: the Bentrok entry's SUMMARY prefix and its CATEGORIES.
LABELS = {REFUSED: "DITOLAK", CHECK_LOCATION: "PERIKSA LOKASI",
          REJECTED_BY_PROTOCOL: "DITOLAK PROKOPIM", WARNED: "PERINGATAN"}
CATEGORIES = {REFUSED: "Bentrok", CHECK_LOCATION: "Periksa Lokasi",
              REJECTED_BY_PROTOCOL: "Ditolak Prokopim", WARNED: "Peringatan"}
HOUR = 3600

#: What to do next, by the reason phrase of the refusal (``kalender.errors``).
NEXT_STEPS = {
    "Jadwal Bentrok": "Pilih waktu atau tempat lain, lalu simpan ulang kegiatan ini di "
                      "kalender OPD Anda.",
    "Zona Waktu Tidak Dikenal": "Atur zona waktu kegiatan ke Asia/Jakarta (WIB) di aplikasi "
                                "kalender Anda, lalu simpan ulang.",
    "Pengulangan Terlalu Banyak": "Perpendek pengulangannya (beri tanggal akhir atau jumlah "
                                  "kejadian), lalu simpan ulang.",
    "Data Kalender Tidak Valid": "Buat ulang kegiatan ini di aplikasi kalender Anda; bila "
                                 "masih ditolak, hubungi admin Diskominfo.",
    "Tidak Diizinkan": "Anda hanya dapat menulis di kalender OPD Anda sendiri; hubungi admin "
                       "bila Anda memerlukan akses.",
}
DEFAULT_STEP = "Periksa kegiatan ini, lalu simpan ulang; bila masih ditolak, hubungi admin."
RESEND = ("Bila kegiatan yang ditolak masih tampil di aplikasi Anda, hapus dari sana: "
          "beberapa aplikasi terus mengirim ulang kegiatan yang ditolak.")


@dataclass(frozen=True)
class Notice:
    """One thing to tell the PICs of an OPD about one of their events."""

    kind: str  # REFUSED, CHECK_LOCATION, REJECTED_BY_PROTOCOL or WARNED
    opd: str
    opd_name: str
    uid: str
    title: str
    start: int | None  # the refused event's (first clashing) occurrence, epoch
    end: int | None
    location: str
    reason: str  # the answer's reason phrase, e.g. "Jadwal Bentrok"
    message: str  # the sentence the client was given (or the likely venue)
    actor: str
    at: int  # when it was tried, epoch


def entry_href(opd: str, uid: str) -> str:
    """File name of the one entry of (OPD, UID) in the Bentrok calendar."""
    return hashlib.sha256(f"{opd}\0{uid}".encode()).hexdigest()[:32] + ".ics"


def summary(notice: Notice) -> str:
    """'DITOLAK: <title>', 'PERIKSA LOKASI: <title>', 'DITOLAK PROKOPIM: <title>' ..."""
    label = LABELS.get(notice.kind, "PERIKSA LOKASI")
    return f"{label}: {notice.title or '(tanpa judul)'}"


def _moment(epoch: int) -> str:
    """'Senin 2 Des 2024 09.00 WIB'."""
    d = dt.datetime.fromtimestamp(epoch, WIB)
    return f"{DAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year} {d:%H.%M} WIB"


def description(notice: Notice) -> str:
    """The entry's text: why, what to do, the refused data, who tried and when."""
    if notice.kind == REFUSED:
        lines = [f"Kegiatan ini DITOLAK server dan tidak tersimpan di kalender "
                 f"{notice.opd_name}.", "", f"Alasan: {notice.message}", "",
                 f"Yang perlu dilakukan: {NEXT_STEPS.get(notice.reason, DEFAULT_STEP)}",
                 RESEND]
    elif notice.kind == REJECTED_BY_PROTOCOL:
        lines = [f"Kegiatan ini DITOLAK oleh Prokopim (Bagian Protokol dan Komunikasi "
                 f"Pimpinan). Kegiatan tetap tersimpan di kalender {notice.opd_name}, tetapi "
                 "tidak tampil sebagai kegiatan definitif di agenda publik.", "",
                 f"Alasan penolakan: {notice.message}", "",
                 "Yang perlu dilakukan: ubah kegiatan ini sesuai alasan di atas lalu simpan "
                 "ulang (kegiatan akan menunggu persetujuan lagi), atau hubungi Prokopim."]
    elif notice.kind == WARNED:
        lines = [f"Kegiatan ini TERSIMPAN di kalender {notice.opd_name}, tetapi "
                 f"{(notice.reason or 'bertabrakan dengan kegiatan tentatif').lower()}.", "",
                 f"Keterangan: {notice.message}", "",
                 "Yang perlu dilakukan: pastikan dengan OPD pemilik kegiatan tentatif itu "
                 "bahwa waktu dan tempatnya tidak dipakai bersamaan."]
    else:
        lines = [f"Lokasi \"{notice.location}\" tidak cocok dengan tempat terdaftar. "
                 f"{notice.message}", "",
                 "Yang perlu dilakukan: tulis nama tempat persis seperti di daftar tempat "
                 "agar jadwal tempat itu terjaga, atau tulis \"Lokasi lain: ...\" bila memang "
                 "di tempat lain."]
    lines += ["", "Data kegiatan:", f"Judul: {notice.title or '(tanpa judul)'}"]
    if notice.start is not None and notice.end is not None:
        lines.append(f"Waktu: {when(notice.start, notice.end)}")
    if notice.location:
        lines.append(f"Tempat: {notice.location}")
    who = {REFUSED: "Dicoba", REJECTED_BY_PROTOCOL: "Ditolak"}.get(notice.kind, "Disimpan")
    lines += ["", f"{who} oleh {notice.actor} pada {_moment(notice.at)}."]
    return "\n".join(lines)


def _escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11)."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines of at most 75 octets (RFC 5545 §3.1), never splitting a UTF-8 character."""
    out: list[str] = []
    current = ""
    for ch in line:
        if len((current + ch).encode("utf-8")) > (75 if not out else 74):
            out.append(current)
            current = ""
        current += ch
    out.append(current)
    return "\r\n ".join(out)


def _utc(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def ics(notice: Notice) -> str:
    """The Bentrok calendar entry of ``notice`` as an iCalendar object."""
    start = notice.start if notice.start is not None else notice.at
    end = notice.end if notice.end is not None and notice.end > start else start + HOUR
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pemerintah Kota Kediri//Kalender OPD//ID",
        "BEGIN:VEVENT",
        f"UID:bentrok-{entry_href(notice.opd, notice.uid)[:-4]}@kalender-opd",
        f"DTSTAMP:{_utc(notice.at)}", f"DTSTART:{_utc(start)}", f"DTEND:{_utc(end)}",
        f"SUMMARY:{_escape(summary(notice))}",
        f"DESCRIPTION:{_escape(description(notice))}",
        # an entry is a message, not a booking: it never shows as busy (RFC 5545 §3.8.2.7)
        "TRANSP:TRANSPARENT",
        f"CATEGORIES:{CATEGORIES.get(notice.kind, 'Periksa Lokasi')}",
        f"X-KALENDER-UID:{_escape(notice.uid)}", f"X-KALENDER-KIND:{notice.kind}",
        "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(_fold(line) for line in lines)


def local_time(epoch: int) -> str:
    """'2024-12-02 09.00 WIB' for mail headers and logs."""
    return dt.datetime.fromtimestamp(epoch, WIB).strftime("%Y-%m-%d %H.%M WIB")
