"""The error hierarchy of Kalender OPD.

Every exception carries the HTTP status and reason phrase it becomes and a
sentence in Bahasa Indonesia for the person who made the request. The storage
plugin and the parsers raise them; ``kalender.dav.app`` turns them into HTTP
responses in one place (``kalender.dav.app.error_response``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
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

    def __init__(self, clashes: Sequence[Clash], message: str) -> None:
        super().__init__(message)
        self.clashes = tuple(clashes)

    def details(self) -> list[dict[str, str]]:
        """Machine-readable attributes of every clash (see ``kalender.clash.messages``)."""
        from kalender.clash.messages import details

        return details(self.clashes)

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


class CliError(Exception):
    """An error of the ``kalender`` command, shown as one line; exit code 1."""
