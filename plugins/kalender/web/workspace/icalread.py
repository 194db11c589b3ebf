"""An event as the activity form's values: best effort for events made in apps (pure).

:func:`form_values` is what the edit page opens with. The series VEVENT is
read in WIB whatever TZID an app used (``kalender.clash.tz``); the venue and
the key persons are what the clash engine's matcher finds (LOCATION, Apple's
structured location, room attendees; attendees and labelled lines such as
``Hadir:`` and ``Pimpinan:``), so the form shows what the server checks; a
``Narasumber:`` line's other names become the narasumber field, the other
lines stay the description; an RRULE the form cannot say is ``asal`` (kept).
Issue 11: STATUS is the form's status (none stays none); the protocol lines
(``kalender.pemda.protocol``, as PICs type them in apps) fill the protocol
fields and the stand-in lines (``kalender.pemda.standin``) the ``diwakili``
choices, so neither shows in the description field; an inline PDF ATTACH is
the invitation letter.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import icalendar

from kalender.clash.icaltext import parse
from kalender.clash.tz import JAKARTA, resolve_tzid
from kalender.pemda import protocol, standin
from kalender.visibility import class_of_value
from kalender.web.workspace import compose
from kalender.web.workspace.compose import DARING, KEEP_RULE, LAIN, Choices, Values

#: Locations that mean "online" when an app wrote them.
ONLINE = frozenset({"daring", "online", "zoom", "zoom meeting", "google meet", "meet",
                    "microsoft teams", "teams", "webex", "virtual", "video conference"})
_SPEAKERS = re.compile(r"^\W*narasumber(?:\s+[^\W\d_]+){0,2}\s*:\s*(.*)$", re.I)
_LINK = re.compile(r"^\s*tautan\s*:\s*(\S+)\s*$", re.I)
_LABELLED = re.compile(r"^\W*([^\W\d_]+(?:\s+[^\W\d_]+){0,3})\s*:\s*(.*)$")
_BREAK = re.compile(r"<\s*(?:br\s*/?|/p|/div|/li)\s*>", re.I)
_TAG = re.compile(r"<[^>]+>")
#: The ATTACH parameter that lets the public download the invitation (issue 11).
PUBLIC_PARAM = "X-KALENDER-PUBLIK"
_STATUS = {v: k for k, v in compose.STATUS.items()}


def as_list(value: Any) -> list[Any]:
    """A property's values as a list (icalendar gives one value or a list)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def wib(value: Any, tzid: str | None, zones: dict[str, Any]) -> Any:
    """A DTSTART/DTEND value as WIB wall-clock time (a DATE stays a date)."""
    if not isinstance(value, dt.datetime):
        return value
    if tzid:
        value = value.replace(tzinfo=resolve_tzid(tzid, zones))
    elif value.tzinfo is None:
        value = value.replace(tzinfo=JAKARTA)  # floating time is WIB (docs/rules.md)
    return value.astimezone(JAKARTA)


def master(calendar: icalendar.Calendar) -> Any:
    """The series VEVENT (no RECURRENCE-ID), else the first one."""
    events = list(calendar.walk("VEVENT"))
    if not events:
        raise ValueError("no VEVENT")
    return next((e for e in events if e.get("RECURRENCE-ID") is None), events[0])


def span(event: Any, zones: dict[str, Any]) -> tuple[Any, Any]:
    """(start, end) in WIB; the end from DTEND, else DURATION, else RFC 5545 defaults."""
    prop = event["DTSTART"]
    start = wib(prop.dt, prop.params.get("TZID"), zones)
    if (end_prop := event.get("DTEND")) is not None:
        end = wib(end_prop.dt, end_prop.params.get("TZID"), zones)
    elif (duration := event.get("DURATION")) is not None:
        end = start + duration.dt
    else:
        end = start + dt.timedelta(days=1) if not isinstance(start, dt.datetime) else start
    return start, end


def _plain(text: str) -> str:
    """A DESCRIPTION as plain lines (Google sends HTML with <br>)."""
    if re.search(r"<[a-zA-Z/][^>]*>", text):
        text = html.unescape(_TAG.sub("", _BREAK.sub("\n", text)))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def invitations(event: Any) -> list[Any]:
    """The event's inline PDF attachments (the invitation letter), in order."""
    return [a for a in as_list(event.get("ATTACH"))
            if str(a.params.get("VALUE", "")).upper() == "BINARY"
            and str(a.params.get("FMTTYPE", "")).lower() == "application/pdf"]


def _stand_in(line: str, choices: Choices) -> tuple[str, str, str] | None:
    """(represented id, stand-in id or LAIN, stand-in text) of a stand-in line, or None."""
    pairs = standin.read(line)
    if len(pairs) != 1:
        return None
    absent, present = (choices.matcher.match_person(t) for t in pairs[0])
    if len(absent) != 1 or len(present) > 1 or absent == present:
        return None  # the form cannot say it: the line stays in the description
    if present:
        return next(iter(absent)), next(iter(present)), ""
    return next(iter(absent)), LAIN, pairs[0][1]


def _people(event: Any, choices: Choices, url: str,
            text: str) -> tuple[set[str], list[str], str, list[tuple[str, str, str]]]:
    """(person ids, narasumber texts, the rest of the description, stand-ins) of one VEVENT."""
    matcher = choices.matcher
    persons: set[str] = set()
    for attendee in as_list(event.get("ATTENDEE")):
        persons |= matcher.persons({"ATTENDEE": attendee})
    speakers: list[str] = []
    kept: list[str] = []
    stand_ins: list[tuple[str, str, str]] = []
    for line in text.split("\n"):
        link = _LINK.match(line)
        if link and link[1] == url:
            continue
        if (found_in := _stand_in(line, choices)) is not None:
            stand_ins.append(found_in)
            persons.add(found_in[0])
            continue
        found = matcher.persons({"DESCRIPTION": line})
        speaker = _SPEAKERS.match(line)
        if found:
            persons |= found
            unknown = "; ".join(matcher.unknown_persons({"DESCRIPTION": line}))
            if speaker and unknown:
                speakers.append(unknown)
            elif unknown and (label := _LABELLED.match(line)):
                kept.append(f"{label[1].strip()}: {unknown}")
        elif speaker and speaker[1].strip():
            speakers.append(speaker[1].strip())
        else:
            kept.append(line.rstrip())
    rest = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    return persons, speakers, rest, stand_ins


def _rule(event: Any, start: Any) -> tuple[str, str]:
    """(ulang, ulang_sampai) of the series' RRULE; KEEP_RULE when the form cannot say it."""
    rules = as_list(event.get("RRULE"))
    if not rules:
        return ("tidak", "") if event.get("RDATE") is None else (KEEP_RULE, "")
    if len(rules) > 1 or event.get("RDATE") is not None:
        return KEEP_RULE, ""
    rule = rules[0]
    freq = [str(f).upper() for f in rule.get("FREQ", [])]
    day = start.date() if isinstance(start, dt.datetime) else start
    simple = {"FREQ", "UNTIL", "COUNT", "INTERVAL", "WKST", "BYDAY", "BYMONTHDAY"}
    if set(rule) - simple or [int(i) for i in rule.get("INTERVAL", [1])] != [1]:
        return KEEP_RULE, ""
    weekday = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[day.weekday()]
    if freq == ["WEEKLY"] and [str(d) for d in rule.get("BYDAY", [weekday])] == [weekday] \
            and "BYMONTHDAY" not in rule:
        ulang, step = "mingguan", dt.timedelta(days=7)
    elif freq == ["MONTHLY"] and "BYDAY" not in rule and \
            [int(d) for d in rule.get("BYMONTHDAY", [day.day])] == [day.day]:
        ulang, step = "bulanan", None
    else:
        return KEEP_RULE, ""
    if until := rule.get("UNTIL"):
        last = until[0]
        if isinstance(last, dt.datetime):
            last = (last if last.tzinfo else last.replace(tzinfo=JAKARTA)).astimezone(JAKARTA)
            last = last.date()
        return ulang, last.isoformat()
    if count := rule.get("COUNT"):
        if step is None:
            return KEEP_RULE, ""
        return ulang, (day + step * (int(count[0]) - 1)).isoformat()
    return ulang, ""


def form_values(text: str, choices: Choices) -> Values:
    """The form's values for a stored event (best effort for one made in an app)."""
    calendar = parse(text)
    zones = {str(z.get("TZID", "")): z for z in calendar.walk("VTIMEZONE")}
    event = master(calendar)
    values = compose.empty()
    start, end = span(event, zones)
    values["judul"] = compose.one_line(str(event.get("SUMMARY", "")))
    if isinstance(start, dt.datetime):
        values.update(tanggal=start.date().isoformat(), mulai=compose.show_time(start.time()),
                      selesai=compose.show_time(end.time()) if end != start else "")
    else:
        values["tanggal"] = start.isoformat()
    location = compose.one_line(str(event.get("LOCATION", "")))
    url = str(event.get("URL", "")).strip()
    ids, _ = choices.matcher.venues(event)
    if len(ids) == 1:
        values["ruang"] = next(iter(ids))
    elif ids:  # two rooms at once: the text says both, the form keeps it as written
        values.update(ruang=LAIN, lokasi=location)
    elif compose.is_web_address(location) or (
            (location.casefold() in ONLINE or not location) and compose.is_web_address(url)):
        values.update(ruang=DARING, tautan=url or location)
    elif location.casefold() in ONLINE:
        values["ruang"] = DARING
    elif location:
        values.update(ruang=LAIN, lokasi=location)
    text = _plain(str(event.get("DESCRIPTION", "")))
    details = protocol.read(text)
    persons, speakers, rest, stand_ins = _people(event, choices, values["tautan"],
                                                 protocol.without(text))
    values.update(pejabat=[p for p in choices.persons if p in persons],
                  narasumber="; ".join(speakers), deskripsi=rest,
                  diwakili={a: p for a, p, _ in stand_ins},
                  diwakili_lain={a: t for a, p, t in stand_ins if p == LAIN},
                  pakaian=details.pakaian, nomor_surat=details.nomor_surat,
                  perihal=details.perihal, narahubung=details.narahubung,
                  sambutan={True: "ya", False: "tidak", None: ""}[details.sambutan])
    values["status"] = _STATUS.get(str(event.get("STATUS", "")).strip().upper(), "")
    attached = invitations(event)
    values["lampiran"] = str(attached[0].params.get("X-FILENAME", "") or "undangan.pdf") \
        if attached else ""
    values["undangan_publik"] = "ya" if attached and str(
        attached[0].params.get(PUBLIC_PARAM, "")).upper() == "TRUE" else ""
    values["kelas"] = {"PUBLIC": "publik", "CONFIDENTIAL": "internal"}.get(
        class_of_value(event.get("CLASS")), "rahasia")
    categories = [str(c) for prop in as_list(event.get("CATEGORIES")) for c in prop.cats]
    values["kategori"] = ", ".join(dict.fromkeys(c.strip() for c in categories if c.strip()))
    values["ulang"], values["ulang_sampai"] = _rule(event, start)
    return values
