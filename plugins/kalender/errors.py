"""The error hierarchy of Kalender OPD.

Every exception carries the HTTP status and reason phrase it becomes and a
sentence in Bahasa Indonesia for the person who made the request. The storage
plugin and the parsers raise them; ``kalender.dav.app`` turns them into HTTP
responses in one place (``kalender.dav.base.error_response``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # pragma: no cover
    from kalender.clash.free import Suggestions
    from kalender.clash.rules import Clash


class KalenderError(ValueError):
    """Base class: an HTTP status, an ASCII reason phrase and a message for people."""

    status: int = 400
    reason: str = "Permintaan Ditolak"
    #: local name of the precondition element in the project's XML namespace
    condition: str = "valid-calendar-data"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadCalendarError(KalenderError):
    """The iCalendar data cannot be read (RFC 5545 syntax) or is not a usable event."""

    status = 400
    reason = "Data Kalender Tidak Valid"
    condition = "valid-calendar-data"


class UnknownTimezoneError(BadCalendarError):
    """A TZID that is neither a known zone name nor defined by an embedded VTIMEZONE."""

    reason = "Zona Waktu Tidak Dikenal"
    condition = "valid-timezone"

    def __init__(self, tzid: str) -> None:
        super().__init__(
            f"Zona waktu \"{tzid}\" tidak dikenal dan tidak disertai definisi VTIMEZONE; "
            "pilih zona waktu lain (misalnya Asia/Jakarta) lalu simpan ulang."
        )
        self.tzid = tzid


class TooManyOccurrencesError(BadCalendarError):
    """A recurrence that expands to more occurrences than the server accepts."""

    reason = "Pengulangan Terlalu Banyak"
    condition = "max-instances"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"Kegiatan berulang ini menghasilkan lebih dari {limit} kejadian dalam jangka "
            "pemeriksaan; perpendek pengulangannya."
        )
        self.limit = limit


class ClashError(KalenderError):
    """The write would book a venue or a key person twice (see ``kalender.clash.rules``)."""

    status = 403
    reason = "Jadwal Bentrok"

    def __init__(self, clashes: Sequence[Clash], message: str,
                 suggestions: Suggestions | None = None) -> None:
        super().__init__(message)
        self.clashes = tuple(clashes)
        #: the nearest free times and the free venues (``kalender.clash.suggest``), if any
        self.suggestions = suggestions

    def details(self) -> list[dict[str, str]]:
        """Machine-readable attributes of every clash (see ``kalender.clash.messages``)."""
        from kalender.clash.messages import details

        return details(self.clashes)

    def offered(self) -> list[tuple[str, dict[str, str]]]:
        """(local name, attributes) of the free-time and free-venue elements (may be empty)."""
        from kalender.clash.messages import offered

        return offered(self.suggestions) if self.suggestions else []

    @property
    def condition(self) -> str:  # type: ignore[override]
        """``no-venue-clash`` when any venue clashes, else ``no-person-clash``."""
        kinds = {c.kind for c in self.clashes}
        return "no-venue-clash" if "venue" in kinds else "no-person-clash"


class ForbiddenChangeError(KalenderError):
    """A change the caller's role may not make (e.g. a PIC renaming a calendar)."""

    status = 403
    reason = "Tidak Diizinkan"
    condition = "need-privileges"


class NoFeedError(KalenderError):
    """A feed asked for by a filter that names nothing (``?opd=`` of no OPD)."""

    status = 404
    reason = "Tidak Ditemukan"
    condition = "feed-exists"


class CliError(Exception):
    """An error of the ``kalender`` command, shown as one line; exit code 1."""


def grouped(n: int) -> str:
    """``20000000`` -> ``20.000.000`` (Indonesian digit grouping, for messages)."""
    return f"{n:,}".replace(",", ".")


class BadRequestError(KalenderError):
    """An HTTP request the server cannot read (malformed framing, headers or path)."""

    status = 400
    reason = "Permintaan Tidak Valid"
    condition = "valid-request"


class BadPathError(BadRequestError):
    """A request path whose percent-escapes are not UTF-8 (RFC 3986 §2.5)."""

    reason = "Alamat Tidak Valid"
    condition = "valid-path"

    def __init__(self) -> None:
        super().__init__("Alamat (URL) permintaan memuat karakter yang bukan UTF-8; "
                         "gunakan nama berkas dengan huruf UTF-8 yang sah.")


class TooLargeError(KalenderError):
    """A request body above ``[server] max_content_length`` (HTTP 413, RFC 9110 §15.5.14)."""

    status = 413
    reason = "Data Terlalu Besar"
    condition = "max-request-size"

    def __init__(self, limit: int, message: str = "") -> None:
        super().__init__(message or (
            f"Isi permintaan melebihi batas {grouped(limit)} byte; kirim data yang lebih "
            "kecil, misalnya impor kalender dalam beberapa bagian."))
        self.limit = limit


class ItemTooLargeError(TooLargeError):
    """One calendar item above ``[server] max_resource_size`` (RFC 4791 §5.3.2.1)."""

    condition = "max-resource-size"

    def __init__(self, limit: int, uid: str) -> None:
        name = f" \"{uid[:80]}\"" if uid else ""
        super().__init__(limit, f"Kegiatan{name} melebihi batas {grouped(limit)} byte per "
                                "kegiatan; perpendek deskripsinya atau hapus lampirannya.")
        self.uid = uid


class HeadersTooLargeError(KalenderError):
    """Request headers above the server's limit (HTTP 431, RFC 6585 §5)."""

    status = 431
    reason = "Header Terlalu Besar"
    condition = "max-header-size"

    def __init__(self, limit: int) -> None:
        super().__init__(f"Header permintaan melebihi batas {grouped(limit)} byte; "
                         "kurangi ukuran header (misalnya cookie) lalu kirim ulang.")
        self.limit = limit


class BadXmlError(KalenderError):
    """An XML request body that is malformed, uses a DTD, or is too deep or too large."""

    status = 400
    reason = "XML Tidak Valid"
    condition = "valid-xml"


class CalendarLimitError(BadCalendarError):
    """iCalendar data whose size or shape exceeds what the server parses (components, lines)."""

    reason = "Data Kalender Melebihi Batas"
    condition = "calendar-limits"


class BadTimezoneError(BadCalendarError):
    """A VTIMEZONE whose observances would cost unbounded work (RFC 5545 §3.6.5)."""

    reason = "Zona Waktu Tidak Valid"
    condition = "valid-timezone"


class TooManyDatesError(BadCalendarError):
    """A series with more EXDATE or RDATE values, or overrides, than the server accepts."""

    reason = "Pengecualian Terlalu Banyak"
    condition = "max-recurrence-dates"
    #: property -> how a PIC calls it
    WHAT: ClassVar[dict[str, str]] = {
        "EXDATE": "tanggal yang dikecualikan (EXDATE)",
        "RDATE": "tanggal tambahan (RDATE)",
        "RECURRENCE-ID": "kejadian yang diubah tersendiri (RECURRENCE-ID)"}

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(
            f"Kegiatan berulang ini memuat lebih dari {grouped(limit)} "
            f"{self.WHAT.get(what, what)}; server menerima paling banyak {grouped(limit)}. "
            "Pecah menjadi beberapa seri atau perpendek pengulangannya.")
        self.what = what
        self.limit = limit


class RuleTooCostlyError(TooManyOccurrencesError):
    """A recurrence rule whose expansion would cost more work than the server spends on one.

    Also a rule Radicale itself would refuse (COUNT or UNTIL beyond its
    ``[server] max_vevent_rrule_occurrence``); ``message`` says which and what to change.
    """

    def __init__(self, limit: int, message: str) -> None:
        KalenderError.__init__(self, message)
        self.limit = limit


class UnsupportedComponentError(BadCalendarError):
    """An item an OPD calendar cannot hold (RFC 4791 §5.3.2.1: it supports VEVENT only)."""

    status = 403
    reason = "Komponen Tidak Didukung"
    condition = "supported-calendar-component"

    def __init__(self, kinds: str) -> None:
        super().__init__(f"Kalender OPD hanya menyimpan kegiatan (VEVENT); data ini berisi "
                         f"{kinds}. Simpan tugas atau catatan di aplikasi lain, atau buat "
                         "ulang sebagai kegiatan.")
