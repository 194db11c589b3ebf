"""Stand-ins move the person check: the represented person is free, the stand-in busy.

Pure tables for :mod:`kalender.pemda.standin` and the Matcher, then real PUTs to
a served deployment (the persons ``kalender init`` registers): another OPD may
book the represented Wali Kota at that time, not the Wakil who stands in, and
removing the stand-in moves the clash back; the same with
``ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO=`` (RFC 5545 §3.2.4, §3.2.12).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from xml.etree import ElementTree as ET

import pytest
from icalendar import Event, vCalAddress

from kalender.admin import cli
from kalender.clash.extract import extract
from kalender.clash.match import Matcher
from kalender.clash.rules import Person
from kalender.pemda import standin
from kalender.pemda.standin import Delegation
from tests.conftest import LiveServer, event_ics, make_deployment, serve_in_thread

K = "{urn:x-kalender-opd:}"


# -- reading the lines PICs type -------------------------------------------------

@pytest.mark.parametrize(("description", "expected"), [
    ("Wali Kota diwakili oleh Wakil Wali Kota", [("Wali Kota", "Wakil Wali Kota")]),
    ("  - WALI KOTA   DIWAKILI  OLEH  wakil wali kota.", [("WALI KOTA", "wakil wali kota")]),
    ("• Wali Kota diwakilkan kepada Sekda", [("Wali Kota", "Sekda")]),
    ("Wali Kota diwakilkan ke Sekda", [("Wali Kota", "Sekda")]),
    ("Diwakili: Wali Kota oleh Asisten I", [("Wali Kota", "Asisten I")]),
    ("diwakili : Wali Kota kepada Asisten I", [("Wali Kota", "Asisten I")]),
    ("Diwakili oleh: Sekda", [("", "Sekda")]),
    ("Diwakili: Sekda", [("", "Sekda")]),
    ("1. Diwakili oleh Sekda", [("", "Sekda")]),
    ("Pimpinan: Wali Kota diwakili oleh Wakil Wali Kota",
     [("Wali Kota", "Wakil Wali Kota")]),  # a leading label is not the person
    ("Wali Kota berhalangan hadir, diwakili Asisten I.", [("Wali Kota", "Asisten I")]),
    ("Wali Kota tidak dapat hadir dan diwakili oleh Sekda", [("Wali Kota", "Sekda")]),
    ("Agenda<br>Wali Kota diwakili oleh Wakil Wali Kota<br/>Hadir: Sekda &amp; Kadinkes",
     [("Wali Kota", "Wakil Wali Kota")]),  # Google's HTML
    ("Hadir: Sekda; Wali Kota diwakili oleh Wakil; Sekda diwakili Asisten II",
     [("Wali Kota", "Wakil"), ("Sekda", "Asisten II")]),
    ("Wali Kota diwakili oleh Wakil\nWali Kota diwakili oleh Wakil", [("Wali Kota", "Wakil")]),
    ("Rapat ini tidak dapat diwakilkan.", []),  # nobody stands in
    ("Wali Kota diwakili oleh", []),
    ("Diwakili:", []),
    ("Sekda mewakili Wali Kota", []),  # not a form this reader knows
    ("Narasumber: Wali Kota", []),
    ("", []),
])
def test_read(description: str, expected: list[tuple[str, str]]) -> None:
    assert standin.read(description) == expected


@pytest.mark.parametrize(("absent", "present", "expected"), [
    ("Wali Kota", "Wakil Wali Kota", "Wali Kota diwakili oleh Wakil Wali Kota"),
    ("  Wali   Kota ", "Sekda.", "Wali Kota diwakili oleh Sekda"),
    ("", "Asisten I", "Diwakili oleh Asisten I"),
    ("Wali Kota", "", "Wali Kota diwakilkan"),
])
def test_sentence(absent: str, present: str, expected: str) -> None:
    assert standin.sentence(Delegation(frozenset(), frozenset(), absent, present)) == expected


def test_line_reads_back() -> None:
    """What the web form writes is what the reader reads."""
    written = standin.line("Wali Kota Kediri", "Asisten Pemerintahan dan Kesra (Asisten I)")
    assert written == "Wali Kota Kediri diwakili oleh Asisten Pemerintahan dan Kesra (Asisten I)"
    assert standin.read(f"Rapat\n{written}") == [
        ("Wali Kota Kediri", "Asisten Pemerintahan dan Kesra (Asisten I)")]
    assert standin.line("", "Sekda") == "Diwakili oleh Sekda"
    assert standin.read(standin.line("", "Sekda")) == [("", "Sekda")]


# -- the Matcher -----------------------------------------------------------------

PERSONS = (
    Person("walikota", "Wali Kota Kediri", ("walikota@kedirikota.go.id",),
           ("Wali Kota", "Mbak Wali")),
    Person("wakil", "Wakil Wali Kota Kediri", ("wawali@kedirikota.go.id",),
           ("Wakil Wali Kota", "Wawali")),
    Person("sekda", "Sekretaris Daerah Kota Kediri", (), ("Sekda",)),
    Person("asisten-1", "Asisten Pemerintahan dan Kesejahteraan Rakyat (Asisten I)", (),
           ("Asisten I",)),
)
MATCHER = Matcher([], PERSONS)
WALIKOTA = "mailto:walikota@kedirikota.go.id"
WAWALI = "mailto:wawali@kedirikota.go.id"


def attendee(address: str, **params: str) -> vCalAddress:
    value = vCalAddress(address)
    for key, param in params.items():
        value.params[key.replace("_", "-")] = param
    return value


def event(description: str = "", attendees: tuple[vCalAddress, ...] = ()) -> Event:
    ev = Event()
    if description:
        ev.add("DESCRIPTION", description)
    for one in attendees:
        ev.add("ATTENDEE", one)
    return ev


@pytest.mark.parametrize(("description", "persons"), [
    ("Narasumber: Wali Kota\nWali Kota diwakili oleh Wakil Wali Kota", {"wakil"}),
    ("Wali Kota diwakili oleh Wakil Wali Kota", {"wakil"}),  # the stand-in is named here
    ("Hadir: Wali Kota diwakili oleh Wakil Wali Kota", {"wakil"}),
    ("Hadir: Wali Kota; Sekda\nSekda diwakilkan kepada Asisten I", {"walikota", "asisten-1"}),
    ("Hadir: Wali Kota dan Sekda\nDiwakili: Wali Kota oleh Asisten I", {"sekda", "asisten-1"}),
    # only the stand-in: represents the one key person named otherwise
    ("Narasumber: Wali Kota\nDiwakili oleh: Sekda", {"sekda"}),
    # ... and nobody when two are named: the stand-in is still busy
    ("Narasumber: Wali Kota; Wakil Wali Kota\nDiwakili oleh: Sekda",
     {"walikota", "wakil", "sekda"}),
    # an unregistered stand-in: the Wali Kota is free all the same
    ("Narasumber: Wali Kota\nWali Kota diwakili oleh Kapolres", set()),
    # a chain: the Wakil who stands in is represented in turn
    ("Narasumber: Wali Kota\nWali Kota diwakili oleh Wakil\nWakil diwakili oleh Sekda",
     {"sekda"}),
    ("Wali Kota berhalangan hadir, diwakili Asisten I.", {"asisten-1"}),
    ("Narasumber: Wali Kota<br>Wali Kota diwakili oleh Wawali", {"wakil"}),
    ("Kepala Dinas diwakili oleh Kabid Pelayanan\nNarasumber: Sekda", {"sekda"}),
    ("Narasumber: Wali Kota\nRapat ini tidak dapat diwakilkan.", {"walikota"}),
])
def test_persons_after_description_standins(description: str, persons: set[str]) -> None:
    assert MATCHER.persons(event(description)) == persons


@pytest.mark.parametrize(("attendees", "persons"), [
    # the delegator freed, the delegate (by e-mail) busy
    ((attendee(WALIKOTA, PARTSTAT="DELEGATED", DELEGATED_TO=WAWALI),
      attendee(WAWALI, DELEGATED_FROM=WALIKOTA)), {"wakil"}),
    # matched by CN, addresses not registered, the delegate's line only says DELEGATED-FROM
    ((attendee("mailto:a@example.org", CN="Wali Kota", PARTSTAT="DELEGATED",
               DELEGATED_TO="mailto:b@example.org"),
      attendee("mailto:b@example.org", CN="Sekda", DELEGATED_FROM="mailto:a@example.org")),
     {"sekda"}),
    # DELEGATED-TO alone, to a registered address with no ATTENDEE of its own
    ((attendee(WALIKOTA, PARTSTAT="DELEGATED", DELEGATED_TO=WAWALI.upper()),), {"wakil"}),
    # DELEGATED-FROM alone: the delegate says whom it stands in for
    ((attendee(WALIKOTA), attendee(WAWALI, DELEGATED_FROM=WALIKOTA)), {"wakil"}),
    # a delegate who declined is not busy; the delegator stays free
    ((attendee(WALIKOTA, PARTSTAT="DELEGATED", DELEGATED_TO=WAWALI),
      attendee(WAWALI, PARTSTAT="DECLINED", DELEGATED_FROM=WALIKOTA)), set()),
    # delegated to someone unregistered
    ((attendee(WALIKOTA, PARTSTAT="DELEGATED", DELEGATED_TO="mailto:ajudan@example.org"),
      attendee("mailto:ajudan@example.org", CN="Ajudan")), set()),
    ((attendee(WALIKOTA, PARTSTAT="ACCEPTED"),), {"walikota"}),  # no delegation
])
def test_persons_after_attendee_delegations(attendees: tuple[vCalAddress, ...],
                                            persons: set[str]) -> None:
    assert MATCHER.persons(event(attendees=attendees)) == persons


def test_delegations_say_who_represents_whom() -> None:
    ev = event("Narasumber: Wali Kota\nDiwakili oleh: Asisten I\nSekda diwakili oleh Kapolres",
               (attendee("mailto:x@example.org", CN="Wakil Wali Kota", PARTSTAT="DELEGATED",
                         DELEGATED_TO="mailto:sekda@example.org"),
                attendee("mailto:sekda@example.org", CN="Sekda")))
    assert MATCHER.delegations(ev) == (
        Delegation(frozenset({"wakil"}), frozenset({"sekda"}), "Wakil Wali Kota", "Sekda"),
        Delegation(frozenset({"sekda"}), frozenset(), "Sekda", "Kapolres"),
        Delegation(frozenset({"walikota"}), frozenset({"asisten-1"}), "Wali Kota Kediri",
                   "Asisten I"),
    )
    assert [standin.sentence(d) for d in MATCHER.delegations(ev)] == [
        "Wakil Wali Kota diwakili oleh Sekda", "Sekda diwakili oleh Kapolres",
        "Wali Kota Kediri diwakili oleh Asisten I"]
    # the ATTENDEE without CN reads as the registered title
    bare = event(attendees=(attendee(WALIKOTA, PARTSTAT="DELEGATED", DELEGATED_TO=WAWALI),))
    assert [standin.sentence(d) for d in MATCHER.delegations(bare)] == [
        "Wali Kota Kediri diwakili oleh Wakil Wali Kota Kediri"]
    # prose about people nobody registered is no stand-in
    assert MATCHER.delegations(event("Kepala Dinas diwakili oleh Kabid Pelayanan")) == ()


@pytest.mark.parametrize(("description", "unknown"), [
    ("Narasumber: Wali Kota\nWali Kota diwakili oleh Kapolres", ("Kapolres",)),
    ("Diwakili oleh: Kapolres", ("Kapolres",)),
    ("Wali Kto diwakili oleh Sekda", ("Wali Kto",)),  # a typo of the represented person
    ("Wali Kota diwakili oleh Wakil Wali Kota", ()),
    ("Peserta diwakili dua orang per OPD", ()),  # prose: neither side is anyone registered
    ("Narasumber: Dr. Budi\nWali Kota diwakili oleh Ajudan", ("Dr. Budi", "Ajudan")),
])
def test_unknown_standins_are_reported(description: str, unknown: tuple[str, ...]) -> None:
    assert MATCHER.unknown_persons(event(description)) == unknown


# -- over HTTP: the clash moves --------------------------------------------------

#: A day well inside the clash horizon, computed from today (never hard-coded).
DAY = (dt.date.today() + dt.timedelta(days=90)).strftime("%Y%m%d")
STANDIN = r"Narasumber: Wali Kota Kediri\nWali Kota diwakili oleh Wakil Wali Kota"
DELEGATED = ('ATTENDEE;CN=Wali Kota Kediri;PARTSTAT=DELEGATED;'
             'DELEGATED-TO="mailto:wawali@example.org":mailto:walikota@example.org\r\n'
             'ATTENDEE;CN=Wakil Wali Kota Kediri;PARTSTAT=ACCEPTED;'
             'DELEGATED-FROM="mailto:walikota@example.org":mailto:wawali@example.org')
IN_PERSON = ("ATTENDEE;CN=Wali Kota Kediri;PARTSTAT=ACCEPTED:mailto:walikota@example.org")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own with the persons ``kalender init`` registers."""
    yield from serve_in_thread(make_deployment(tmp_path_factory.mktemp("standin") / "kediri"))


def put(srv: LiveServer, login: str, opd: str, uid: str, start: str, end: str,
        extra: str) -> tuple[int, str]:
    """PUT one event on DAY (``start``/``end`` as HHMM); the status and the body."""
    body = event_ics(uid, f"{DAY}T{start}00", f"{DAY}T{end}00", location="Aula Kelurahan",
                     extra=extra)
    r = srv.request(login, "PUT", f"/opd/{opd}/{uid}.ics", data=body.encode(),
                    headers={"Content-Type": "text/calendar; charset=utf-8"})
    return r.status_code, r.text


def person_clash(answer: tuple[int, str]) -> bool:
    """A 403 whose DAV:error names the person precondition."""
    status, text = answer
    return status == 403 and ET.fromstring(text).find(f"{K}no-person-clash") is not None


def description(text: str) -> str:
    return f"DESCRIPTION:{text}"


@pytest.mark.parametrize(("represented", "in_person", "hours"), [
    (description(STANDIN), description(r"Narasumber: Wali Kota Kediri"), ("08", "09", "10")),
    (DELEGATED, IN_PERSON, ("13", "14", "15")),
], ids=["description", "attendee"])
def test_standin_moves_the_clash_and_back(srv: LiveServer, represented: str, in_person: str,
                                          hours: tuple[str, str, str]) -> None:
    """Wakil stands in: the Wali Kota is free, the Wakil is not; editing it moves back."""
    h0, h1, h2 = hours
    main = uuid.uuid4().hex
    assert put(srv, "pic-x", "dinkes", main, f"{h0}00", f"{h2}00", represented)[0] == 201
    wali = uuid.uuid4().hex  # the represented Wali Kota is free for another OPD
    assert put(srv, "pic-y", "dinsos", wali, f"{h1}00", f"{h1}30",
               description("Narasumber: Wali Kota"))[0] == 201
    # the Wakil, who stands in, is not
    assert person_clash(put(srv, "pic-y", "dinsos", uuid.uuid4().hex, f"{h1}00", f"{h1}30",
                            description("Narasumber: Wakil Wali Kota")))

    # without the stand-in the Wali Kota goes in person: now it clashes with dinsos
    assert person_clash(put(srv, "pic-x", "dinkes", main, f"{h0}00", f"{h2}00", in_person))
    r = srv.request("pic-y", "DELETE", f"/opd/dinsos/{wali}.ics")
    assert r.status_code in (200, 204)
    assert put(srv, "pic-x", "dinkes", main, f"{h0}00", f"{h2}00", in_person)[0] == 204
    # and the clash is back on the Wali Kota, the Wakil is free
    assert person_clash(put(srv, "pic-y", "dinsos", uuid.uuid4().hex, f"{h1}00", f"{h1}30",
                            description("Narasumber: Wali Kota")))
    assert put(srv, "pic-y", "dinsos", uuid.uuid4().hex, f"{h1}00", f"{h1}30",
               description("Narasumber: Wakil Wali Kota"))[0] == 201


def test_unregistered_standin_frees_and_is_listed(srv: LiveServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A stand-in nobody registered: the Wali Kota is free, the name awaits a check."""
    text = r"Narasumber: Wali Kota Kediri\nWali Kota diwakili oleh Kapolres Kediri Kota"
    assert put(srv, "pic-x", "dinkes", uuid.uuid4().hex, "1800", "2000",
               description(text))[0] == 201
    assert put(srv, "pic-y", "dinsos", uuid.uuid4().hex, "1800", "1900",
               description("Narasumber: Wali Kota"))[0] == 201
    capsys.readouterr()
    assert cli.main(["person", "unknown", "--dir", str(srv.dep.root)]) == 0
    assert "Kapolres Kediri Kota" in capsys.readouterr().out


def test_standin_of_one_occurrence_only() -> None:
    """An override with a stand-in frees the Wali Kota for that day alone (extract's cache)."""
    first = dt.date.today() + dt.timedelta(days=30)
    second = (first + dt.timedelta(days=1)).strftime("%Y%m%d")
    series = event_ics("seri", f"{first:%Y%m%d}T090000", f"{first:%Y%m%d}T100000",
                       extra="RRULE:FREQ=DAILY;COUNT=3\r\nDESCRIPTION:Narasumber: Wali Kota")
    override = "\r\n".join([
        "BEGIN:VEVENT", "UID:seri", "DTSTAMP:20300101T000000Z",
        f"RECURRENCE-ID;TZID=Asia/Jakarta:{second}T090000",
        f"DTSTART;TZID=Asia/Jakarta:{second}T090000", f"DTEND;TZID=Asia/Jakarta:{second}T100000",
        r"DESCRIPTION:Narasumber: Wali Kota\nDiwakili oleh: Wakil Wali Kota", "END:VEVENT", ""])
    text = series.replace("END:VCALENDAR", override + "END:VCALENDAR")
    bookings = extract(text, "dinkes", MATCHER, now=int(time.time())).bookings
    assert [set(b.persons) for b in bookings] == [{"walikota"}, {"wakil"}, {"walikota"}]
