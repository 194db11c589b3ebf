"""When an imported item happens: its first start and the end of its last occurrence.

The import writes items in chronological order and tells history (everything
ended before now) from what is still to come. Times are read as the clash
engine reads them (``kalender.clash.extract``): a TZID through
:func:`kalender.clash.tz.resolve_tzid` (Windows and Outlook names too),
floating times and DATEs in WIB. The last occurrence of a bounded series is
found with dateutil (RFC 5545 §3.3.10 COUNT or UNTIL, plus RDATEs and moved
overrides); a series without end has none. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
from dateutil import rrule

from kalender.clash.tz import JAKARTA, resolve_tzid
from kalender.errors import BadCalendarError, UnknownTimezoneError

__all__ = ["span"]

#: A COUNT beyond this is treated as endless (the guard refuses such series anyway).
_MAX_COUNT = 100_000


def _moment(prop: Any, zones: Mapping[str, Any]) -> datetime:
    """A DTSTART-like property as an aware datetime (DATE: midnight WIB)."""
    value = prop.dt if hasattr(prop, "dt") else prop
    if isinstance(value, datetime):
        tzid = getattr(prop, "params", {}).get("TZID")
        if tzid:
            try:
                return value.replace(tzinfo=resolve_tzid(str(tzid), zones))
            except UnknownTimezoneError:
                return value.replace(tzinfo=JAKARTA)  # the guard says why it is refused
        return value if value.tzinfo is not None else value.replace(tzinfo=JAKARTA)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=JAKARTA)
    raise BadCalendarError(f"Waktu kegiatan tidak dapat dibaca: {value!r}.")


def _end_of(event: Any, zones: Mapping[str, Any], start: datetime) -> datetime:
    """When this one occurrence (the component itself) ends (RFC 5545 §3.6.1 defaults)."""
    if event.get("DTEND") is not None:
        return max(start, _moment(event["DTEND"], zones))
    if event.get("DURATION") is not None:
        return start + max(timedelta(0), event["DURATION"].dt)
    return start + (timedelta(0) if isinstance(event["DTSTART"].dt, datetime)
                    else timedelta(days=1))


def _last_start(event: Any, start: datetime) -> datetime | None:
    """The start of the last occurrence of the master's rules, None if they never end."""
    last = start
    rules = event.get("RRULE")
    for rule in rules if isinstance(rules, list) else ([rules] if rules is not None else []):
        count, until = rule.get("COUNT"), rule.get("UNTIL")
        if not count and not until:
            return None
        if count and int(count[0]) > _MAX_COUNT:
            return None
        text = rule.to_ical().decode()
        naive = start.replace(tzinfo=None)
        try:
            # dateutil wants UNTIL like DTSTART (aware or not): walk in local wall time
            if until:
                bound = until[0]
                if isinstance(bound, datetime):
                    bound = (bound.astimezone(start.tzinfo).replace(tzinfo=None)
                             if bound.tzinfo else bound)
                else:
                    bound = datetime(bound.year, bound.month, bound.day, 23, 59, 59)
                parts = [p for p in text.split(";") if not p.upper().startswith("UNTIL=")]
                found = rrule.rrulestr(";".join(parts), dtstart=naive).before(bound, inc=True)
            else:
                found = list(rrule.rrulestr(text, dtstart=naive))[-1]
        except (ValueError, TypeError, IndexError) as e:
            raise BadCalendarError(f"RRULE tidak dapat dibaca ({e}); periksa FREQ, COUNT, "
                                   "UNTIL dan bagian BY-nya (RFC 5545 §3.3.10).") from e
        if found is not None:
            last = max(last, found.replace(tzinfo=start.tzinfo))
    return last


def span(item: icalendar.Calendar, zones: Mapping[str, Any]) -> tuple[int, int | None]:
    """(epoch of the earliest start, epoch when the last occurrence ends or None)."""
    events = [c for c in item.subcomponents if c.name == "VEVENT"]
    starts: list[datetime] = []
    ends: list[datetime] = []
    endless = False
    for event in events:
        if event.get("DTSTART") is None:
            raise BadCalendarError("Kegiatan tidak memiliki DTSTART (waktu mulai); isi waktu "
                                   "mulainya.")
        start = _moment(event["DTSTART"], zones)
        starts.append(start)
        length = _end_of(event, zones, start) - start
        ends.append(start + length)
        if event.get("RECURRENCE-ID") is not None:
            continue
        last = _last_start(event, start)
        if last is None:
            endless = True
        else:
            ends.append(last + length)
        rdates = event.get("RDATE")
        for values in rdates if isinstance(rdates, list) else ([rdates] if rdates else []):
            for value in values.dts:
                moment = value.dt[0] if isinstance(value.dt, tuple) else value.dt
                ends.append(_moment(moment, zones).astimezone(UTC) + length)
    first = int(min(starts).timestamp()) if starts else 0
    return first, None if endless or not ends else int(max(ends).timestamp())
