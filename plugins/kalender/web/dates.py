"""Dates and times as the city writes them: Bahasa Indonesia, WIB.

"Selasa, 1 Desember 2026", "1 Des 2026", "09.00-11.00 WIB" (the Indonesian
style uses a dot between hours and minutes, PUEBI). Every value is shown in
WIB (UTC+7), the zone of Kota Kediri, whatever zone it arrives in. The names
in :data:`FILTERS` are the template filters every page uses (fixed by the web
contract: ``hari_tanggal``, ``jam``, ``tanggal_pendek``, ``jam_saja``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

WIB = dt.timezone(dt.timedelta(hours=7), "WIB")
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
HARI_PENDEK = ("Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min")
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
         "September", "Oktober", "November", "Desember")
BULAN_PENDEK = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov",
                "Des")


class Timed(Protocol):
    """What :func:`jam` needs of an occurrence."""

    @property
    def start(self) -> dt.datetime:
        """The beginning, aware."""

    @property
    def end(self) -> dt.datetime:
        """The end, aware (exclusive)."""

    @property
    def all_day(self) -> bool:
        """Whether the times are whole days."""


def wib(moment: dt.datetime) -> dt.datetime:
    """``moment`` in WIB (a naive value is taken to be WIB already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=WIB)
    return moment.astimezone(WIB)


def _day(value: dt.date) -> dt.date:
    """The WIB calendar day of a date or datetime."""
    if isinstance(value, dt.datetime):
        return wib(value).date()
    return value


def hari_tanggal(value: dt.date) -> str:
    """The long date: ``Selasa, 1 Desember 2026``."""
    day = _day(value)
    return f"{HARI[day.weekday()]}, {day.day} {BULAN[day.month - 1]} {day.year}"


def tanggal(value: dt.date) -> str:
    """The date without its weekday: ``1 Desember 2026``."""
    day = _day(value)
    return f"{day.day} {BULAN[day.month - 1]} {day.year}"


def tanggal_pendek(value: dt.date) -> str:
    """The short date: ``1 Des 2026``."""
    day = _day(value)
    return f"{day.day} {BULAN_PENDEK[day.month - 1]} {day.year}"


def bulan_tahun(value: dt.date) -> str:
    """The month: ``Desember 2026``."""
    day = _day(value)
    return f"{BULAN[day.month - 1]} {day.year}"


def hari(value: dt.date) -> str:
    """The weekday's name: ``Selasa``."""
    return HARI[_day(value).weekday()]


def jam_saja(moment: dt.datetime) -> str:
    """The time of day in WIB: ``09.00``."""
    return wib(moment).strftime("%H.%M")


def jam(occurrence: Timed) -> str:
    """The time span: ``09.00-11.00 WIB``, ``Sepanjang hari``, or with dates when it spans days."""
    start, end = wib(occurrence.start), wib(occurrence.end)
    if occurrence.all_day:
        last = end.date() - dt.timedelta(days=1)  # DTEND of a DATE is exclusive (RFC 5545 §3.6.1)
        if last <= start.date():
            return "Sepanjang hari"
        return f"Sepanjang hari, {rentang(start.date(), last)}"
    if end.date() == start.date():
        if end == start:
            return f"{jam_saja(start)} WIB"
        return f"{jam_saja(start)}-{jam_saja(end)} WIB"
    if end.time() == dt.time(0) and end.date() == start.date() + dt.timedelta(days=1):
        return f"{jam_saja(start)}-24.00 WIB"  # ends at midnight: the end of its own day
    return (f"{tanggal_pendek(start)} {jam_saja(start)} - "
            f"{tanggal_pendek(end)} {jam_saja(end)} WIB")


def rentang(first: dt.date, last: dt.date) -> str:
    """A span of days: ``1-3 Desember 2026``, ``30 Nov - 2 Des 2026``."""
    if first.year != last.year:
        return f"{tanggal_pendek(first)} - {tanggal_pendek(last)}"
    if first.month != last.month:
        return (f"{first.day} {BULAN_PENDEK[first.month - 1]} - {last.day} "
                f"{BULAN_PENDEK[last.month - 1]} {last.year}")
    return f"{first.day}-{last.day} {BULAN[last.month - 1]} {last.year}"


def iso(value: dt.date) -> str:
    """ISO 8601 for ``<time datetime>`` and links: ``2026-12-01`` or ``2026-12-01T09:00+07:00``."""
    if isinstance(value, dt.datetime):
        return wib(value).isoformat(timespec="minutes")
    return value.isoformat()


def parse_day(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` day (ValueError for anything else)."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError(text)
    return dt.date.fromisoformat(text)


#: The template filters (kalender.web.render installs them).
FILTERS: dict[str, Callable[..., Any]] = {
    "hari_tanggal": hari_tanggal,
    "tanggal": tanggal,
    "tanggal_pendek": tanggal_pendek,
    "bulan_tahun": bulan_tahun,
    "hari": hari,
    "jam": jam,
    "jam_saja": jam_saja,
    "iso": iso,
    "rentang": rentang,
}
