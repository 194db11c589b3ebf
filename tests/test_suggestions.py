"""A refused write offers what fits, and what it offers is exactly what the server accepts.

Over a real server: a PIC's CalDAV PUT is refused with the nearest free times
and the free venues in the 403 sentence and as DAV:error elements; a PUT at
an offered time (or venue) is accepted; the Bentrok entry repeats the offer.
``Guard.trial``, ``Guard.free_slots`` and ``Guard.free_venues`` read the same
index, and a PUT at what they offer is accepted too.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from xml.etree import ElementTree as ET

import icalendar
import pytest

from kalender.clash.guard import Guard
from kalender.deployment import CachedRegistry
from tests.conftest import LiveServer, event_ics, make_deployment, serve_in_thread

K = "{urn:x-kalender-opd:}"
WIB = dt.timezone(dt.timedelta(hours=7))
#: A Tuesday about nine weeks ahead (computed from today, never hard-coded).
TUESDAY = dt.date.today() + dt.timedelta(days=(7 - dt.date.today().weekday()) % 7 + 64)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own (no other test books its slots)."""
    dep = make_deployment(tmp_path_factory.mktemp("saran") / "kediri")
    yield from serve_in_thread(dep)


def stamp(day: dt.date, hhmm: str) -> str:
    """20301203T090000 from a date and '0900'."""
    return f"{day:%Y%m%d}T{hhmm}00"


def put(srv: LiveServer, login: str, opd: str, uid: str, day: dt.date, start: str, end: str,
        **kw: str) -> tuple[int, str]:
    """PUT one event as ``login``; (status, body)."""
    body = event_ics(uid, stamp(day, start), stamp(day, end), **kw)
    r = srv.request(login, "PUT", f"/opd/{opd}/{uid}.ics", data=body.encode(),
                    headers={"Content-Type": "text/calendar; charset=utf-8"})
    return r.status_code, r.text


def offered(text: str) -> tuple[str, list[dict[str, str]], list[dict[str, str]]]:
    """(sentence, free-time attributes, free-venue attributes) of a DAV:error body."""
    root = ET.fromstring(text)
    return (root.findtext(f"{K}message") or "",
            [dict(e.attrib) for e in root.iter(f"{K}free-time")],
            [dict(e.attrib) for e in root.iter(f"{K}free-venue")])


def hhmm(iso: str) -> str:
    """'0700' from '2030-12-03T07:00:00+07:00' (the offer is in WIB)."""
    moment = dt.datetime.fromisoformat(iso)
    assert moment.utcoffset() == dt.timedelta(hours=7)
    return f"{moment:%H%M}"


def clock(epoch: int) -> str:
    """'1330' (WIB)."""
    return f"{dt.datetime.fromtimestamp(epoch, WIB):%H%M}"


def bentrok(srv: LiveServer, opd: str, login: str, title: str) -> icalendar.Event:
    """The Bentrok entry of a refused event (the notifier writes it shortly after)."""
    deadline = time.monotonic() + 20
    while True:
        r = srv.request(login, "GET", f"/bentrok/{opd}/")
        assert r.status_code == 200, r.text
        if r.text.strip():
            for entry in icalendar.Calendar.from_ical(r.text).walk("VEVENT"):
                if str(entry["SUMMARY"]) == f"DITOLAK: {title}":
                    return entry
        assert time.monotonic() < deadline, "no Bentrok entry"
        time.sleep(0.2)


def test_refused_put_offers_times_and_venues_that_are_accepted(srv: LiveServer) -> None:
    """Joyoboyo 09-11 taken (private): 10-12 refused, 07-09/11-13/13-15 and Kilisuci offered."""
    secret = "Rapat Tertutup Kesehatan"
    assert put(srv, "pic-x", "dinkes", uuid.uuid4().hex, TUESDAY, "0900", "1100",
               summary=secret, location="Ruang Joyoboyo", extra="CLASS:PRIVATE")[0] == 201
    uid = uuid.uuid4().hex
    status, text = put(srv, "pic-y", "dinsos", uid, TUESDAY, "1000", "1200",
                       summary="Sosialisasi Bansos", location="Ruang Joyoboyo")
    assert status == 403 and secret not in text
    sentence, times, venues = offered(text)
    assert sentence.startswith("Ruang Joyoboyo sudah dipakai Dinas Kesehatan")
    assert ("Pilih waktu atau tempat lain. Waktu kosong terdekat di Ruang Joyoboyo: "
            "07.00-09.00, 11.00-13.00 atau 13.00-15.00; Ruang Command Center, Ruang Kilisuci, "
            "Halaman Balai Kota Kediri dan 2 tempat lain kosong pada jam itu.") in sentence
    assert [(hhmm(t["start"]), hhmm(t["end"]), t["venue"]) for t in times] == [
        ("0700", "0900", "ruang-joyoboyo"), ("1100", "1300", "ruang-joyoboyo"),
        ("1300", "1500", "ruang-joyoboyo")]
    assert times[0]["start"].startswith(TUESDAY.isoformat())
    assert venues[:2] == [{"id": "ruang-command-center", "name": "Ruang Command Center"},
                          {"id": "ruang-kilisuci", "name": "Ruang Kilisuci"}]
    assert len(venues) == 5 and "ruang-joyoboyo" not in {v["id"] for v in venues}

    # the PIC's Bentrok entry says the same
    entry = bentrok(srv, "dinsos", "pic-y", "Sosialisasi Bansos")
    description = str(entry["DESCRIPTION"]).replace("\n", " ")
    assert "Waktu kosong terdekat di Ruang Joyoboyo: 07.00-09.00, 11.00-13.00" in description
    assert "Ruang Kilisuci" in description and secret not in entry.to_ical().decode()

    # the same event at an offered time is accepted; another at an offered venue too
    assert put(srv, "pic-y", "dinsos", uid, TUESDAY, hhmm(times[1]["start"]),
               hhmm(times[1]["end"]), summary="Sosialisasi Bansos",
               location="Ruang Joyoboyo")[0] == 201
    assert put(srv, "pic-y", "dinsos", uuid.uuid4().hex, TUESDAY, "1000", "1200",
               location=venues[1]["name"])[0] == 201


def test_person_clash_offers_times_the_person_is_free(srv: LiveServer) -> None:
    """The Wali Kota at GNI 13-14: refused at 13.30 elsewhere, offered times he is free."""
    day = TUESDAY + dt.timedelta(days=1)
    assert put(srv, "pic-x", "dinkes", uuid.uuid4().hex, day, "1300", "1400",
               location="Gedung Nasional Indonesia",
               extra="DESCRIPTION:Narasumber: Wali Kota Kediri")[0] == 201
    uid = uuid.uuid4().hex
    status, text = put(srv, "pic-y", "dinsos", uid, day, "1330", "1430",
                       location="Aula Kelurahan", extra="DESCRIPTION:Narasumber: Wali Kota")
    assert status == 403 and ET.fromstring(text).find(f"{K}no-person-clash") is not None
    sentence, times, venues = offered(text)
    assert ("Waktu kosong terdekat untuk Wali Kota Kediri: 12.00-13.00, 14.00-15.00 atau "
            "15.00-16.00.") in sentence
    assert venues == [] and all("venue" not in t for t in times)
    assert put(srv, "pic-y", "dinsos", uid, day, hhmm(times[0]["start"]),
               hhmm(times[0]["end"]), location="Aula Kelurahan",
               extra="DESCRIPTION:Narasumber: Wali Kota")[0] == 201


def test_trial_and_free_slots_offer_what_a_put_accepts(srv: LiveServer) -> None:
    """Guard.trial writes nothing; free_slots and free_venues offers are accepted by PUT."""
    day = TUESDAY + dt.timedelta(days=2)
    assert put(srv, "pic-x", "dinkes", uuid.uuid4().hex, day, "0800", "1200",
               location="Halaman Balai Kota Kediri")[0] == 201  # 60 min setup, 30 teardown
    guard = Guard(srv.dep, CachedRegistry(srv.dep))
    uid = uuid.uuid4().hex
    text = event_ics(uid, stamp(day, "1300"), stamp(day, "1400"),
                     location="Halaman Balai Kota Kediri")
    trial = guard.trial("opd/dinsos", text, "pic-y")
    assert not trial.accepted and trial.message.startswith("Halaman Balai Kota Kediri sudah")
    assert [clock(s) for s, _ in trial.suggestions.times] == ["1330", "1430", "1530"]
    assert guard.index.has_uid("opd/dinsos", uid) is False  # nothing written

    slots = guard.free_slots(3600, "halaman-balai-kota", [], [day], "pic-y", limit=3)
    starts = [clock(s) for s, _ in slots]
    # the booking 08-12 is widened to 07-12.30; a new hour needs 1 h before, 30 min after
    assert starts == ["1330", "1400", "1430"]
    assert put(srv, "pic-y", "dinsos", uid, day, starts[0], clock(slots[0][1]),
               location="Halaman Balai Kota Kediri")[0] == 201
    assert guard.trial("opd/dinsos", text, "pic-y").accepted is False  # 13-14 still clashes
    start = int(dt.datetime.combine(day, dt.time(9), WIB).timestamp())
    ids = guard.free_venues(start, start + 3600)
    assert "halaman-balai-kota" not in ids and ids[:2] == ["alun-alun", "cfd-jalan-dhoho"]
    name = guard.registry.venues()[ids[0]].name  # by name: Alun-Alun Kota Kediri
    assert put(srv, "pic-y", "dinsos", uuid.uuid4().hex, day, "0900", "1000",
               location=name)[0] == 201
