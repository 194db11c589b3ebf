"""A cheap check of an iCalendar body's shape, made before vobject parses it.

Radicale parses iCalendar with vobject, whose VTIMEZONE support (dateutil
``tzical``) walks every transition of every observance from its DTSTART up
to the date it converts: 20 daily observances from year 1 never finish, and
the server grows without end. ``check_calendar`` reads the text once, keeps a
few counters and raises a ``kalender.errors`` exception when a bound is
passed; it builds nothing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from kalender.errors import (
    BadCalendarError,
    BadTimezoneError,
    CalendarLimitError,
    ItemTooLargeError,
    grouped,
)

#: Observance DTSTARTs before this year are refused (Outlook writes 1601-01-01).
MIN_OBSERVANCE_YEAR = 1600
#: Transitions are costed up to this year, or the latest year the body names.
COST_YEAR = 2100
#: Components nest VCALENDAR > VEVENT > VALARM (RFC 5545 §3.6); deeper is not iCalendar.
MAX_NESTING = 8
OBSERVANCES = frozenset({"STANDARD", "DAYLIGHT"})
ITEMS = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"})
#: Properties whose DATE/DATE-TIME values say how far the timezone is consulted.
DATED = frozenset({"DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "RDATE", "EXDATE"})

_NAME = re.compile(r"[A-Za-z0-9-]+")
_YEAR = re.compile(r"(?<![0-9])([0-9]{4})[0-9]{4}(?![0-9])")
_UNTIL = re.compile(r"UNTIL=([0-9]{4})", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]|\r(?!\n)")


@dataclass(frozen=True)
class CalendarLimits:
    """Bounds on one iCalendar body (options in radicale_config/config.template)."""

    max_item: int = 10_000_000  #: characters of one item ([server] max_resource_size)
    components: int = 10_000  #: BEGIN blocks in one body
    properties: int = 2_000  #: properties of one component
    line_length: int = 1_000_000  #: characters of one unfolded content line
    tz_transitions: int = 10_000  #: observance transitions in one body (see check_calendar)


def check_calendar(text: str, limits: CalendarLimits) -> None:
    """Refuse iCalendar too large or too costly to parse (RFC 5545 §3.1, §3.6.5).

    Control characters are refused (vobject drops them). Bounds: characters
    per unfolded line, components per body, nesting, properties per component,
    characters per item (one UID, RFC 4791 §4.1), and the work VTIMEZONEs cost:
    observance blocks, their RDATE values and the transitions of their RRULEs
    (FREQ=YEARLY, from MIN_OBSERVANCE_YEAR on) up to COST_YEAR or the latest
    year the body names.
    """
    control = _CONTROL.search(text)
    if control:
        # vobject would drop these silently, or split a line at a bare CR (RFC 5545 §3.1)
        raise BadCalendarError(
            f"Data kalender memuat karakter kendali 0x{ord(control.group()):02X} pada baris "
            f"{text.count(chr(10), 0, control.start()) + 1}; hapus karakter itu (setiap baris "
            "diakhiri CRLF) lalu simpan ulang.")
    scan = _Scan(limits)
    for line in _unfolded(text):
        scan.line(line)
    scan.finish()


def _unfolded(text: str) -> Iterator[str]:
    """The content lines of ``text``, unfolded (RFC 5545 §3.1), empty lines skipped."""
    parts: list[str] = []
    for raw in io.StringIO(text, newline=""):
        raw = raw.rstrip("\r\n")
        if raw[:1] in (" ", "\t") and parts:
            parts.append(raw[1:])
            continue
        if parts:
            yield "".join(parts)
        parts = [raw] if raw.strip() else []
    if parts:
        yield "".join(parts)


def _value(line: str) -> str:
    """The value of a content line: after the first colon outside a quoted parameter."""
    head, _, tail = line.partition(":")
    if '"' not in head:
        return tail
    quoted = False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return line[i + 1:]
    return ""


def _int(text: str | None, default: int) -> int:
    """``int(text)``, or ``default`` when it is not a number (vobject reports those)."""
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


@dataclass
class _Observance:
    """A STANDARD/DAYLIGHT block being read."""

    tzid: str
    start_year: int = 0
    rrule: str = ""
    rdates: int = 0


class _Scan:
    """Counters over the content lines of one iCalendar body."""

    def __init__(self, limits: CalendarLimits) -> None:
        self.limits = limits
        self.stack: list[str] = []
        self.properties: list[int] = [0]
        self.components = 0
        self.item_depth = 0  # stack depth of the item component being read, 0 outside
        self.item_uid = ""
        self.item_size = 0
        self.sizes: dict[str, int] = {}
        self.tzid = ""
        self.observance: _Observance | None = None
        self.observances: list[_Observance] = []
        self.latest_year = COST_YEAR

    def line(self, line: str) -> None:
        """Take one unfolded content line."""
        match = _NAME.match(line)
        name = match.group(0).upper() if match else ""
        if self.item_depth:
            self.item_size += len(line) + 2
            if self.item_size > self.limits.max_item:
                raise ItemTooLargeError(self.limits.max_item, self.item_uid)
        if len(line) > self.limits.line_length:
            raise CalendarLimitError(f"Satu baris data kalender lebih dari "
                                     f"{grouped(self.limits.line_length)} karakter; "
                                     "perpendek isinya (misalnya deskripsi).")
        if name == "BEGIN":
            self.begin(_value(line).strip().upper())
        elif name == "END":
            self.end()
        else:
            self.property(name, line)

    def begin(self, component: str) -> None:
        """BEGIN:<component>."""
        self.components += 1
        if self.components > self.limits.components:
            raise CalendarLimitError(f"Data kalender memuat lebih dari "
                                     f"{grouped(self.limits.components)} komponen (BEGIN); impor "
                                     "dalam beberapa bagian.")
        if len(self.stack) >= MAX_NESTING:
            raise CalendarLimitError(f"Komponen data kalender bersarang lebih dari {MAX_NESTING} "
                                     "tingkat; periksa pasangan BEGIN/END.")
        self.stack.append(component)
        self.properties.append(0)
        if component in ITEMS and not self.item_depth:
            self.item_depth, self.item_uid = len(self.stack), ""
            self.item_size = len("BEGIN:") + len(component) + 2
        elif component == "VTIMEZONE":
            self.tzid = ""
        elif component in OBSERVANCES and "VTIMEZONE" in self.stack:
            self.observance = _Observance(self.tzid)
            self.observances.append(self.observance)
            if len(self.observances) > self.limits.tz_transitions:
                raise self.timezone_too_costly()

    def end(self) -> None:
        """END:<component> (a mismatched END is vobject's to report)."""
        if not self.stack:
            return
        if len(self.stack) == self.item_depth:
            size = self.sizes.get(self.item_uid, 0) + self.item_size
            if size > self.limits.max_item:
                raise ItemTooLargeError(self.limits.max_item, self.item_uid)
            self.sizes[self.item_uid] = size
            self.item_depth = 0
        if self.stack[-1] in OBSERVANCES:
            self.observance = None
        self.stack.pop()
        self.properties.pop()

    def property(self, name: str, line: str) -> None:
        """Any other content line."""
        self.properties[-1] += 1
        if self.properties[-1] > self.limits.properties:
            raise CalendarLimitError(f"Satu komponen data kalender memuat lebih dari "
                                     f"{grouped(self.limits.properties)} properti; kurangi isinya.")
        component = self.stack[-1] if self.stack else ""
        if name == "UID" and len(self.stack) == self.item_depth:
            self.item_uid = _value(line).strip()
        elif name == "TZID" and component == "VTIMEZONE":
            self.tzid = _value(line).strip()[:60]
        elif self.observance is not None and component in OBSERVANCES:
            if name == "DTSTART":
                self.observance.start_year = _int(_value(line).strip()[:4], 0)
            elif name == "RRULE":
                self.observance.rrule = _value(line).strip().upper()
            elif name == "RDATE":
                self.observance.rdates += _value(line).count(",") + 1
        elif name in DATED or name == "RRULE":
            years = _UNTIL.findall(line) if name == "RRULE" else _YEAR.findall(_value(line))
            self.latest_year = max([self.latest_year, *(min(int(y), 9999) for y in years)])

    def check_observance(self, observance: _Observance) -> None:
        """The structural rules of one STANDARD/DAYLIGHT block."""
        tz = observance.tzid or "?"
        if observance.start_year and observance.start_year < MIN_OBSERVANCE_YEAR:
            raise BadTimezoneError(
                f"Definisi zona waktu \"{tz}\" dimulai pada tahun {observance.start_year}; "
                f"tahun sebelum {MIN_OBSERVANCE_YEAR} tidak diterima. Gunakan zona waktu "
                "standar (misalnya Asia/Jakarta).")
        rule = _rule_parts(observance.rrule)
        if observance.rrule and rule.get("FREQ") != "YEARLY":
            raise BadTimezoneError(
                f"Aturan RRULE pada definisi zona waktu \"{tz}\" harus FREQ=YEARLY "
                "(peralihan waktu berulang tahunan, RFC 5545 §3.6.5). Gunakan zona waktu "
                "standar (misalnya Asia/Jakarta).")

    def finish(self) -> None:
        """Checks that need the whole body: the timezone definitions and their cost."""
        for observance in self.observances:
            self.check_observance(observance)
        total = sum(_cost(o, self.latest_year) for o in self.observances)
        if total > self.limits.tz_transitions:
            raise self.timezone_too_costly()

    def timezone_too_costly(self) -> BadTimezoneError:
        """The refusal of VTIMEZONEs with too many transitions."""
        return BadTimezoneError(
            f"Definisi zona waktu (VTIMEZONE) dalam data ini terlalu rumit: lebih dari "
            f"{grouped(self.limits.tz_transitions)} peralihan waktu. Gunakan zona waktu standar "
            "(misalnya Asia/Jakarta).")


def _rule_parts(rrule: str) -> dict[str, str]:
    """``FREQ=YEARLY;BYMONTH=3`` -> ``{"FREQ": "YEARLY", "BYMONTH": "3"}`` (RFC 5545 §3.3.10)."""
    parts = (p.partition("=") for p in rrule.split(";") if p)
    return {k.strip(): v.strip() for k, _, v in parts}


def _per_year(rule: dict[str, str]) -> int:
    """An upper bound of the occurrences per year of a FREQ=YEARLY rule (RFC 5545 §3.3.10)."""
    def count(key: str) -> int:
        return len([v for v in rule.get(key, "").split(",") if v]) if key in rule else 0

    months = count("BYMONTH")
    if count("BYYEARDAY"):
        days = count("BYYEARDAY")
    elif count("BYWEEKNO"):
        days = count("BYWEEKNO") * 7
    elif count("BYMONTHDAY"):
        days = (months or 12) * count("BYMONTHDAY")
    elif count("BYDAY"):
        ordinal = [d for d in rule["BYDAY"].split(",") if d and d[0] in "+-0123456789"]
        plain = count("BYDAY") - len(ordinal)
        days = (months or 1) * len(ordinal) + (months * 5 if months else 53) * plain
    else:
        days = months or 1
    if count("BYSETPOS"):
        days = min(days, count("BYSETPOS"))
    return days * max(1, count("BYHOUR")) * max(1, count("BYMINUTE")) * max(1, count("BYSECOND"))


def _cost(observance: _Observance, latest_year: int) -> int:
    """The transitions dateutil may walk for one observance: the block, its RDATEs, its RRULE."""
    cost = 1 + observance.rdates
    if not observance.rrule:
        return cost
    rule = _rule_parts(observance.rrule)
    until = _UNTIL.search(observance.rrule)
    end = min(latest_year, int(until.group(1))) if until else latest_year
    start = observance.start_year or end
    years = max(0, end - start) + 1
    interval = max(1, _int(rule.get("INTERVAL"), 1))
    occurrences = -(-_per_year(rule) * years // interval)
    if "COUNT" in rule:
        occurrences = min(occurrences, max(0, _int(rule["COUNT"], occurrences)))
    return cost + occurrences
