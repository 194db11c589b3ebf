"""``/kegiatan/<id>``: one activity's page, and ``/kegiatan/<id>.ics`` to add it to a calendar.

The page shows every public field of the occurrence, its organising OPD, a
map link when the registered venue has coordinates, the .ics download, share
links and schema.org ``Event`` JSON-LD (https://schema.org/Event) for search
engines. A CONFIDENTIAL block shows only its time, label and OPD: no place,
no description, no JSON-LD, no download (issue 9 item 7).
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import icalendar
from markupsafe import Markup

from kalender.web import dates, respond
from kalender.web.public import invitation
from kalender.web.public.agenda import place_of
from kalender.web.render import render
from kalender_sync.occurrences import Occurrence

if TYPE_CHECKING:
    from kalender.web.app import Request

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
PRODID = "-//Pemerintah Kota Kediri//Kalender OPD//ID"
UID_DOMAIN = "kalender-opd"
MISSING = "Kegiatan tidak ditemukan. Mungkin sudah dihapus, dipindah, atau bukan kegiatan publik."


def _find(request: Request, occurrence_id: str) -> Occurrence:
    """The occurrence of the page (404 when there is none)."""
    occurrence = request.index.get(occurrence_id)
    if occurrence is None:
        raise respond.NotFoundError(MISSING)
    return occurrence


def page(request: Request, occurrence_id: str) -> respond.Response:
    """The activity's page."""
    o = _find(request, occurrence_id)
    url = request.base_url + o.path
    venues = request.registry.venues()
    place, venue_id = place_of(o, venues)
    venue = venues.get(venue_id or "")
    building = venue.building if venue is not None and venue.building not in place else ""
    coordinates = getattr(venue, "coordinates", None) if venue is not None else None
    written = o.location if not o.internal and o.location not in (place, "") else ""
    share = f"{o.title} - {dates.hari_tanggal(o.start)}, {dates.jam(o)}\n{url}"
    letter = None if o.internal else public_letter(request, o)
    body = render("event.html", o=o, url=url, place=place, venue_id=venue_id,
                  building=building, written=written, map=map_link(coordinates),
                  letter=letter,
                  paragraphs=[] if o.internal else paragraphs(o.description),
                  whatsapp="https://wa.me/?text=" + quote(share, safe=""),
                  # RFC 6068 §5: a line break in a mailto body is %0D%0A
                  mailto=f"mailto:?subject={quote(o.title, safe='')}&body="
                  + quote(share.replace("\n", "\r\n"), safe=""),
                  jsonld=None if o.internal else json_ld(o, url, place, building, coordinates),
                  now=request.now, day=o.start.astimezone(dates.WIB).date())
    return respond.page(body, max_age=60)


def ics(request: Request, occurrence_id: str) -> respond.Response:
    """The occurrence as an iCalendar file to import (RFC 5545), a download."""
    o = _find(request, occurrence_id)
    if o.internal:
        raise respond.NotFoundError("Kegiatan internal tidak dapat diunduh.")
    place, venue_id = place_of(o, request.registry.venues())
    venue = request.registry.venues().get(venue_id or "")
    building = venue.building if venue is not None and venue.building not in place else ""
    location = ", ".join(p for p in (place, building) if p)
    body = calendar(o, request.base_url + o.path, location,
                    _stamp(request.index.source_text(o.uid)))
    name = f"kegiatan-{o.id}.ics"
    return respond.page(body, "text/calendar; charset=utf-8", max_age=300,
                        Content_Disposition=f'attachment; filename="{name}"')


def calendar(o: Occurrence, url: str, location: str,
             stamp: tuple[dt.datetime, int] | None) -> bytes:
    """A VCALENDAR with one VEVENT for this occurrence and the VTIMEZONE it uses."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    event = icalendar.Event()
    # a series instance becomes an event of its own: a UID of its own, so importing two
    # instances gives two events, not one replacing the other (RFC 5545 §3.8.4.7)
    event.add("uid", o.uid if "-" not in o.id else f"{o.id}@{UID_DOMAIN}")
    moment, sequence = stamp or (dt.datetime.now(dt.UTC).replace(microsecond=0), 0)
    event.add("dtstamp", moment)
    if o.all_day:
        event.add("dtstart", o.start.date())
        event.add("dtend", o.end.date())
    else:
        event.add("dtstart", o.start.astimezone(JAKARTA))
        event.add("dtend", o.end.astimezone(JAKARTA))
    event.add("summary", o.title)
    if location:
        event.add("location", location)
    description = o.description.strip()
    event.add("description", "\n\n".join(p for p in (description,
                                                      f"Penyelenggara: {o.opd_name}", url) if p))
    event.add("url", url)
    if o.status:
        event.add("status", o.status)
    if sequence:
        event.add("sequence", sequence)
    if o.categories:
        event.add("categories", list(o.categories))
    cal.add_component(event)
    cal.add_missing_timezones()  # the VTIMEZONE of Asia/Jakarta (RFC 5545 §3.6.5)
    return cal.to_ical()


def _stamp(text: str | None) -> tuple[dt.datetime, int] | None:
    """DTSTAMP and SEQUENCE of the public copy, so the download changes only with it."""
    if not text:
        return None
    try:
        events = icalendar.Calendar.from_ical(text).walk("VEVENT")
        stamps = [(e.decoded("DTSTAMP"), int(e.get("SEQUENCE", 0))) for e in events
                  if e.get("DTSTAMP") is not None]
    except (ValueError, TypeError, KeyError):
        return None
    return max(stamps, key=lambda s: s[0]) if stamps else None


def public_letter(request: Request, o: Occurrence) -> str:
    """The invitation's address when its PIC made it public ("" otherwise)."""
    leaders = request.index.get(o.id, invitation.LEADERS)
    if leaders is None:
        return ""
    found = invitation.find(request, leaders)
    return invitation.path(o) if found is not None and found.public else ""


def paragraphs(text: str) -> list[str]:
    """The description's paragraphs (blank lines between them; line breaks kept by CSS)."""
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def map_link(coordinates: tuple[float, float] | None) -> str:
    """OpenStreetMap at the venue ("" without coordinates)."""
    if not coordinates:
        return ""
    lat, lon = coordinates
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=18/{lat:.6f}/{lon:.6f}"


def json_ld(o: Occurrence, url: str, place: str, building: str,
            coordinates: tuple[float, float] | None) -> Markup:
    """schema.org Event as a JSON-LD data block, safe inside ``<script>``."""
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "Event", "name": o.title,
        "startDate": o.start.date().isoformat() if o.all_day else dates.iso(o.start),
        "endDate": (o.end.date() - dt.timedelta(days=1)).isoformat() if o.all_day
        else dates.iso(o.end),
        "eventStatus": "https://schema.org/" + ("EventCancelled" if o.cancelled
                                                else "EventScheduled"),
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "url": url, "inLanguage": "id",
        "organizer": {"@type": "Organization", "name": o.opd_name},
    }
    if o.description:
        data["description"] = o.description
    if place:
        location: dict[str, Any] = {"@type": "Place", "name": place}
        address = {"@type": "PostalAddress", "addressLocality": "Kota Kediri",
                   "addressRegion": "Jawa Timur", "addressCountry": "ID"}
        street = building or (o.location if o.location != place else "")
        location["address"] = {"streetAddress": street, **address} if street else address
        if coordinates:
            location["geo"] = {"@type": "GeoCoordinates", "latitude": coordinates[0],
                               "longitude": coordinates[1]}
        data["location"] = location
    if o.categories:
        data["keywords"] = ", ".join(o.categories)
    text = json.dumps(data, ensure_ascii=False, indent=1)
    # "</script>" (or "<!--") in a title must not end the data block (HTML §4.12.1.3)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - JSON with every markup character escaped above
