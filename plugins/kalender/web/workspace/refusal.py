"""A refused write as the activity form shows it: sentences beside fields, one-click offers.

The CalDAV application answers a refused PUT with a DAV:error (RFC 4918 §16)
holding the precondition, one ``<K:clash kind= resource= .../>`` per clash
(``kalender.clash.messages.details``), the offers ``<K:free-time start= end=
venue=/>`` and ``<K:free-venue id= name=/>`` (``messages.offered``) and the
``<K:message>`` sentence. The live check gets the same from
``Guard.trial`` without XML. Either way :func:`explain` turns them into a
:class:`Refusal`: the sentence, one sentence per field concerned (a venue
clash beside ``ruang``, a person clash beside ``pejabat``, made by
``messages.sentence`` exactly as in the CalDAV answer) and the offers as
changes of form values.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import defusedxml
import defusedxml.ElementTree as DefusedET

from kalender.clash import messages
from kalender.clash.rules import Booking, Clash
from kalender.clash.tz import JAKARTA
from kalender.dav.answers import DAV, k

#: Which field a clash is shown beside, by its kind.
FIELD_OF = {"venue": "ruang", "person": "pejabat"}
#: Which field a 400 refusal is shown beside, by its precondition element.
CONDITION_FIELD = {"max-instances": "ulang", "too-many-dates": "ulang",
                   "valid-timezone": "mulai", "no-person-clash": "pejabat",
                   "no-venue-clash": "ruang", "need-privileges": "opd"}
#: The 412 of an If-Match that no longer holds.
CHANGED = ("Kegiatan ini baru saja diubah di tempat lain; muat ulang halaman, lalu ulangi "
           "perubahan Anda.")


@dataclass(frozen=True)
class Offer:
    """One suggestion: a button label and the form values it changes."""

    label: str
    changes: tuple[tuple[str, str], ...]

    def fields(self) -> dict[str, str]:
        """The changed values as a dict."""
        return dict(self.changes)


@dataclass(frozen=True)
class Refusal:
    """What the form says about a refused (or would-be refused) write."""

    message: str
    errors: dict[str, str] = field(default_factory=dict)
    offers: tuple[Offer, ...] = ()
    clashes: tuple[dict[str, str], ...] = ()


def _epoch(text: str) -> int:
    """An instant of the XML details: ``20241202T020000Z`` or RFC 3339."""
    text = text.strip()
    if text.endswith("Z") and "-" not in text:
        return int(dt.datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=dt.UTC).timestamp())
    return int(dt.datetime.fromisoformat(text).timestamp())


def _sentence(detail: Mapping[str, str], registry: Any) -> str:
    """The sentence of one clash, as ``kalender.clash.messages`` writes it."""
    kind, resource = detail.get("kind", ""), detail.get("resource", "")
    if kind == "venue":
        venue = registry.venues().get(resource)
        name = venue.name if venue else resource
    else:
        person = registry.persons().get(resource)
        name = person.title if person else resource
    opds = {o.id: o.name for o in registry.opds()}
    other = Booking("", detail.get("opd", ""), _epoch(detail["start"]), _epoch(detail["end"]),
                    title=detail.get("title", ""), private="title" not in detail,
                    tentative=detail.get("tentative") == "true")
    mine = Booking("", "", _epoch(detail.get("occurrence-start", detail["start"])),
                   _epoch(detail.get("occurrence-end", detail["end"])))
    clash = Clash("venue" if kind == "venue" else "person", resource, mine, other)
    return messages.sentence(clash, name, opds.get(other.opd, other.opd))


def _offer(name: str, attributes: Mapping[str, str], registry: Any,
           day: dt.date | None) -> Offer | None:
    """A ``free-time`` or ``free-venue`` element as a change of form values."""
    venues = registry.venues()
    if name == "free-venue" and attributes.get("id") in venues:
        vid = attributes["id"]
        return Offer(f"Pakai {attributes.get('name') or venues[vid].name}", (("ruang", vid),))
    if name != "free-time":
        return None
    try:
        start = dt.datetime.fromtimestamp(_epoch(attributes["start"]), JAKARTA)
        end = dt.datetime.fromtimestamp(_epoch(attributes["end"]), JAKARTA)
    except (KeyError, ValueError):
        return None
    changes = [("tanggal", start.date().isoformat()), ("mulai", f"{start:%H.%M}"),
               ("selesai", f"{end:%H.%M}")]
    if start.date() != end.date():
        return None  # the form holds one day
    label = f"Pakai {start:%H.%M}-{end:%H.%M}"
    if start.date() != day:
        label += (f", {messages.DAYS[start.weekday()]} {start.day} "
                  f"{messages.MONTHS[start.month - 1]} {start.year}")
    venue = attributes.get("venue", "")
    if venue in venues:
        changes.append(("ruang", venue))
        label += f" di {venues[venue].name}"
    return Offer(label, tuple(changes))


def explain(message: str, details: Iterable[Mapping[str, str]],
            offered: Iterable[tuple[str, Mapping[str, str]]], registry: Any,
            condition: str = "", day: dt.date | None = None) -> Refusal:
    """A refusal's sentence, its sentences by field and its offers (``day``: the form's)."""
    found = tuple(dict(d) for d in details)
    errors: dict[str, list[str]] = {}
    for detail in found:
        try:
            text = _sentence(detail, registry)
        except (KeyError, ValueError):
            continue
        target = errors.setdefault(FIELD_OF.get(detail.get("kind", ""), "ruang"), [])
        if text not in target:
            target.append(text)
    if not errors and condition in CONDITION_FIELD:
        errors[CONDITION_FIELD[condition]] = [message]
    offers = [o for name, attributes in offered
              if (o := _offer(name, attributes, registry, day)) is not None]
    return Refusal(message, {f: " ".join(texts[:3]) for f, texts in errors.items()},
                   tuple(dict.fromkeys(offers)), found)


def of_answer(status: int, body: bytes, registry: Any, day: dt.date | None = None) -> Refusal:
    """The refusal in a CalDAV answer's DAV:error body (a plain sentence when there is none)."""
    if status == 412:
        return Refusal(CHANGED, {})
    try:
        root = DefusedET.fromstring(body) if body.strip() else None
    except (ET.ParseError, defusedxml.DefusedXmlException, ValueError):
        root = None
    if root is None or root.tag != f"{{{DAV}}}error":
        return Refusal(f"Kegiatan tidak tersimpan (kode {status}); coba lagi.")
    message = (root.findtext(k("message")) or "").strip() or \
        f"Kegiatan tidak tersimpan (kode {status}); coba lagi."
    condition = next((c.tag.rpartition("}")[2] for c in root if c.tag != k("message")), "")
    details = [dict(e.attrib) for e in root.iter(k("clash"))]
    offered = [(e.tag.rpartition("}")[2], dict(e.attrib)) for e in root.iter()
               if e.tag in (k("free-time"), k("free-venue"))]
    return explain(message, details, offered, registry, condition, day)


def of_trial(trial: Any, registry: Any, day: dt.date | None = None) -> Refusal:
    """The refusal a ``Guard.trial`` result foretells (empty message when it would pass)."""
    if not trial.clashes:
        return Refusal("")
    suggestions = trial.suggestions
    offered = messages.offered(suggestions) if suggestions else []
    return explain(trial.message, messages.details(trial.clashes), offered, registry, day=day)
