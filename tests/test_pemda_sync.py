"""The sync's outputs of the pemda workflow (issue 11): holds, cancellations, approval, stand-ins.

PICs write with CalDAV to a real server, the sync service runs pass by pass in
this process, then the feeds (``/publik/agenda/``, its per-OPD feed, the
leaders' agenda, venue and person calendars) and ``/publik/agenda.json`` are
read over HTTP as subscribers read them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import icalendar
import pytest

from kalender.admin import cli
from kalender_sync import publish
from kalender_sync.occurrences import WIB
from kalender_sync.service import SyncService
from kalender_sync.transform import output_uid
from kalender_sync.webindex import LEADERS, WebIndex
from tests.conftest import LiveServer, make_deployment, serve_in_thread

DAY = dt.date.today() + dt.timedelta(days=20)
YESTERDAY = dt.date.today() - dt.timedelta(days=1)


def vevent(uid: str, summary: str, *lines: str, day: dt.date = DAY, start: str = "090000",
           end: str = "100000") -> bytes:
    """A VCALENDAR with one public VEVENT on ``day`` (more properties in ``lines``)."""
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//tests//ID", "BEGIN:VEVENT",
        f"UID:{uid}", "DTSTAMP:20260101T000000Z",
        f"DTSTART;TZID=Asia/Jakarta:{day:%Y%m%d}T{start}",
        f"DTEND;TZID=Asia/Jakarta:{day:%Y%m%d}T{end}", f"SUMMARY:{summary}", *lines,
        "END:VEVENT", "END:VCALENDAR", ""]).encode()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of this module's own (approval is switched on in one test)."""
    dep = make_deployment(tmp_path_factory.mktemp("pemda-sync") / "kediri")
    yield from serve_in_thread(dep)


@pytest.fixture(scope="module")
def sync(live: LiveServer) -> Iterator[SyncService]:
    """The sync service, driven pass by pass."""
    service = SyncService(live.dep, live.url)
    yield service
    service.close()


def put(live: LiveServer, path: str, body: bytes, login: str = "pic-x") -> None:
    """A PIC's PUT that must succeed."""
    r = live.request(login, "PUT", path, data=body, headers={"Content-Type": "text/calendar"})
    assert r.status_code in (201, 204), r.text


def feed(live: LiveServer, path: str, login: str | None = None) -> dict[str, list[Any]]:
    """UID -> VEVENTs of a rendered feed."""
    r = live.request(login, "GET", path)
    assert r.status_code == 200, (path, r.status_code)
    events: dict[str, list[Any]] = {}
    for e in icalendar.Calendar.from_ical(r.content).walk("VEVENT"):
        events.setdefault(str(e["UID"]), []).append(e)
    return events


def public_json(live: LiveServer) -> dict[str, dict[str, Any]]:
    """uid -> event of ``/publik/agenda.json``."""
    r = live.request(None, "GET", "/publik/agenda.json")
    assert r.status_code == 200, r.text
    return {e["uid"]: e for e in r.json()["events"]}


def public_everywhere(live: LiveServer, out: str) -> list[bool]:
    """Whether ``out`` is in the public feed, its per-OPD feed, the whole history, the JSON."""
    return [out in feed(live, "/publik/agenda/"), out in feed(live, "/publik/agenda/?opd=dinkes"),
            out in feed(live, "/publik/agenda/?penuh=1"), out in public_json(live)]


def test_tentative_hold_is_never_public(live: LiveServer, sync: SyncService) -> None:
    """A hold: absent from every public output, "Status: Tentatif" for leaders, the venue taken."""
    u = f"{uuid.uuid4()}@test"
    out = output_uid("dinkes", u)
    put(live, "/opd/dinkes/hold.ics", vevent(u, "Rapat Gizi", "STATUS:TENTATIVE",
                                             "LOCATION:Ruang Kilisuci",
                                             "DESCRIPTION:Pimpinan: Wali Kota Kediri"))
    sync.run_once()
    assert public_everywhere(live, out) == [False] * 4
    (lead,) = feed(live, "/pimpinan/agenda/", "pimpinan-a")[out]
    assert str(lead["STATUS"]) == "TENTATIVE"
    assert "Status: Tentatif" in str(lead["DESCRIPTION"])
    (mine,) = feed(live, "/orang/wali-kota/", "pimpinan-a")[out]
    assert "Status: Tentatif" in str(mine["DESCRIPTION"])
    assert out in feed(live, "/ruang/ruang-kilisuci/", "pic-y")  # the hold takes the venue
    occurrence = sync.web.get(out.split("@")[0], calendar=LEADERS)
    assert occurrence is not None and occurrence.status == "TENTATIVE"
    assert "Status:" not in occurrence.description  # the badge says it, not the text

    put(live, "/opd/dinkes/hold.ics", vevent(u, "Rapat Gizi", "STATUS:CONFIRMED",
                                             "LOCATION:Ruang Kilisuci"))
    sync.run_once()
    assert public_everywhere(live, out) == [True] * 4
    (lead,) = feed(live, "/pimpinan/agenda/", "pimpinan-a")[out]
    assert "Status: Definitif" in str(lead["DESCRIPTION"])


def test_tentative_occurrence_of_a_series(live: LiveServer, sync: SyncService) -> None:
    """A tentative override leaves the public copy and its date is excluded from the series."""
    u = f"{uuid.uuid4()}@test"
    out = output_uid("dinkes", u)
    second = DAY + dt.timedelta(days=7)
    body = vevent(u, "Senam Pagi", "RRULE:FREQ=WEEKLY;COUNT=3").decode().replace(
        "END:VCALENDAR", "\r\n".join([
            "BEGIN:VEVENT", f"UID:{u}", "DTSTAMP:20260101T000000Z",
            f"RECURRENCE-ID;TZID=Asia/Jakarta:{second:%Y%m%d}T090000",
            f"DTSTART;TZID=Asia/Jakarta:{second:%Y%m%d}T090000",
            f"DTEND;TZID=Asia/Jakarta:{second:%Y%m%d}T100000", "SUMMARY:Senam Pagi (usulan)",
            "STATUS:TENTATIVE", "END:VEVENT", "END:VCALENDAR"]))
    put(live, "/opd/dinkes/senam.ics", body.encode())
    sync.run_once()
    (master,) = feed(live, "/publik/agenda/")[out]
    assert master.get("RECURRENCE-ID") is None
    assert [d.dt.date() for d in master["EXDATE"].dts] == [second]
    leaders = feed(live, "/pimpinan/agenda/", "pimpinan-a")[out]
    assert len(leaders) == 2
    days = {o.start.date() for o in sync.web.between(
        dt.datetime.combine(DAY, dt.time(0), WIB), dt.datetime.combine(
            DAY + dt.timedelta(days=30), dt.time(0), WIB)) if o.uid == out}
    assert days == {DAY, DAY + dt.timedelta(days=14)}


def test_cancelled_marked_until_it_has_ended(live: LiveServer, sync: SyncService,
                                             tmp_path: Path) -> None:
    """DIBATALKAN in the feeds and JSON while ahead; gone from the public once over."""
    u = f"{uuid.uuid4()}@test"
    out = output_uid("dinkes", u)
    put(live, "/opd/dinkes/batal.ics", vevent(u, "Lomba Balita"))
    sync.run_once()
    assert public_everywhere(live, out) == [True] * 4
    put(live, "/opd/dinkes/batal.ics", vevent(u, "Lomba Balita", "STATUS:CANCELLED"))
    sync.run_once()
    assert public_everywhere(live, out) == [True] * 4
    (pub,) = feed(live, "/publik/agenda/")[out]
    assert str(pub["SUMMARY"]) == "DIBATALKAN: Lomba Balita" and str(pub["STATUS"]) == "CANCELLED"
    (lead,) = feed(live, "/pimpinan/agenda/", "pimpinan-a")[out]
    assert str(lead["SUMMARY"]) == "DIBATALKAN: Lomba Balita"
    assert "Status: Dibatalkan" in str(lead["DESCRIPTION"])
    event = public_json(live)[out]
    assert event["status"].upper() == "CANCELLED" and "Lomba Balita" in event["name"]

    # once it has ended (the clock injected): gone from the web data and the feeds
    after = dt.datetime.combine(DAY, dt.time(11), WIB)
    window = (dt.datetime.combine(DAY, dt.time(0), WIB), after)
    assert [o.id for o in sync.web.between(*window) if o.uid == out]
    assert not [o.id for o in sync.web.between(*window, now=after) if o.uid == out]
    assert sync.web.get(out.split("@")[0], now=after) is None
    assert [o for o in sync.web.between(*window, calendar=LEADERS, now=after) if o.uid == out]
    publish.publish(sync.state, tmp_path, ["publik/agenda"], {}, int(after.timestamp()),
                    ["dinkes"])
    for name in ("publik-agenda", "publik-agenda-penuh", "publik-agenda-opd-dinkes"):
        assert out.encode() not in (tmp_path / f"{name}.ics").read_bytes(), name
    assert publish.next_expiry(sync.state, int(after.timestamp()) - 7200) == int(
        dt.datetime.combine(DAY, dt.time(10), WIB).timestamp())


def test_cancelled_in_the_past_is_gone(live: LiveServer, sync: SyncService) -> None:
    """A cancellation that is over is in no public output; a held one of yesterday is."""
    gone, kept = f"{uuid.uuid4()}@test", f"{uuid.uuid4()}@test"
    put(live, "/opd/dinkes/kemarin-batal.ics", vevent(gone, "Kerja Bakti", "STATUS:CANCELLED",
                                                       day=YESTERDAY))
    put(live, "/opd/dinkes/kemarin.ics", vevent(kept, "Kerja Bakti Jadi", day=YESTERDAY))
    sync.run_once()
    out = output_uid("dinkes", gone)
    assert public_everywhere(live, out) == [False] * 4
    assert live.request(None, "GET", f"/kegiatan/{out.split('@')[0]}").status_code == 404
    assert out in feed(live, "/pimpinan/agenda/", "pimpinan-a")
    assert public_everywhere(live, output_uid("dinkes", kept)) == [True] * 4


def test_stand_ins_and_protocol_lines(live: LiveServer, sync: SyncService) -> None:
    """An ATTENDEE delegation is said in every copy; protocol lines stay with the leaders."""
    u = f"{uuid.uuid4()}@test"
    out = output_uid("dinkes", u)
    put(live, "/opd/dinkes/wakil.ics", vevent(
        u, "Peresmian Posyandu",
        'ATTENDEE;CN=Wali Kota;PARTSTAT=DELEGATED;DELEGATED-TO="mailto:wawali@example.org":'
        "mailto:walikota@example.org",
        'ATTENDEE;CN=Wakil Wali Kota;DELEGATED-FROM="mailto:walikota@example.org":'
        "mailto:wawali@example.org",
        r"DESCRIPTION:Peresmian gedung baru\nPakaian: PDH Khaki\nNarahubung: Budi 081234567890"
        r"\nNo. Surat: 005/123/419.42/2026\nLampiran: denah lokasi"))
    sync.run_once()
    (pub,) = feed(live, "/publik/agenda/")[out]
    text = str(pub["DESCRIPTION"])
    assert "Wali Kota diwakili oleh Wakil Wali Kota" in text
    for secret in ("Budi", "0812", "005/123", "denah", "example.org"):
        assert secret not in text, secret
    assert "Pakaian: PDH Khaki" in text
    assert public_json(live)[out]["standIns"] == ["Wali Kota diwakili oleh Wakil Wali Kota"]
    occurrence = sync.web.get(out.split("@")[0])
    assert occurrence is not None and occurrence.protocol.narahubung == ""
    assert "diwakili" not in occurrence.description

    assert out in feed(live, "/orang/wakil-wali-kota/", "pimpinan-a")
    assert out not in feed(live, "/orang/wali-kota/", "pimpinan-a")  # represented: free
    (lead,) = feed(live, "/pimpinan/agenda/", "pimpinan-a")[out]
    assert str(lead["DESCRIPTION"]).count("Wali Kota diwakili oleh Wakil Wali Kota") == 1
    leaders = sync.web.get(out.split("@")[0], calendar=LEADERS)
    assert leaders is not None
    assert leaders.stand_ins == ("Wali Kota diwakili oleh Wakil Wali Kota",)
    assert leaders.protocol.pakaian == "PDH Khaki"
    assert leaders.protocol.narahubung == "Budi 081234567890"
    assert "Pakaian" not in leaders.description and "Peresmian gedung baru" in leaders.description

    # said in the description already: not said twice
    put(live, "/opd/dinkes/wakil.ics", vevent(
        u, "Peresmian Posyandu", r"DESCRIPTION:Wali Kota berhalangan hadir\, diwakili Sekda",
        'ATTENDEE;CN=Wali Kota;PARTSTAT=DELEGATED;DELEGATED-TO="mailto:sekda@example.org":'
        "mailto:walikota@example.org"))
    sync.run_once()
    (pub,) = feed(live, "/publik/agenda/")[out]
    assert "diwakili oleh" not in str(pub["DESCRIPTION"])
    assert "diwakili Sekda" in str(pub["DESCRIPTION"])


def test_a_pic_cannot_write_the_decision(live: LiveServer, sync: SyncService) -> None:
    """X-KALENDER-PERSETUJUAN in the PIC's data is not copied: the server keeps approval."""
    u = f"{uuid.uuid4()}@test"
    put(live, "/opd/dinkes/palsu.ics", vevent(u, "Rapat", "X-KALENDER-PERSETUJUAN:definitif",
                                              "X-KALENDER-ALASAN:tidak ada"))
    sync.run_once()
    (lead,) = feed(live, "/pimpinan/agenda/", "pimpinan-a")[output_uid("dinkes", u)]
    assert lead.get("X-KALENDER-PERSETUJUAN") is None and lead.get("X-KALENDER-ALASAN") is None


@pytest.fixture
def approving(tmp_path: Path) -> Iterator[tuple[LiveServer, SyncService]]:
    """A deployment of its own, approval switched on."""
    dep = make_deployment(tmp_path / "kediri")
    assert cli.main(["approval", "on", "--dir", str(dep.root)]) == 0
    server = serve_in_thread(dep)
    live = next(server)
    service = SyncService(live.dep, live.url)
    try:
        yield live, service
    finally:
        service.close()
        server.close()


def test_approval_before_the_public(approving: tuple[LiveServer, SyncService]) -> None:
    """Naming the Wali Kota: public only once approved; an edit of its time asks again."""
    live, sync = approving
    u = f"{uuid.uuid4()}@test"
    out = output_uid("dinkes", u)
    other = f"{uuid.uuid4()}@test"
    wali = "DESCRIPTION:Pimpinan: Wali Kota Kediri"
    put(live, "/opd/dinkes/wk.ics", vevent(u, "Pencanangan Posyandu", wali))
    put(live, "/opd/dinkes/biasa.ics", vevent(other, "Rapat Staf"))
    sync.run_once()
    assert public_everywhere(live, out) == [False] * 4
    assert public_everywhere(live, output_uid("dinkes", other)) == [True] * 4  # needs none
    (lead,) = feed(live, "/pimpinan/agenda/", "pimpinan-a")[out]
    assert "Status: Menunggu persetujuan" in str(lead["DESCRIPTION"])
    assert str(lead["X-KALENDER-PERSETUJUAN"]) == "menunggu"
    leaders = sync.web.get(out.split("@")[0], calendar=LEADERS)
    assert leaders is not None and leaders.approval == "menunggu"

    assert cli.main(["approve", "dinkes", u, "--dir", str(live.dep.root)]) == 0
    sync.run_once()
    assert public_everywhere(live, out) == [True] * 4
    (lead,) = feed(live, "/pimpinan/agenda/", "pimpinan-a")[out]
    assert "Status: Definitif" in str(lead["DESCRIPTION"])
    assert str(lead["X-KALENDER-PERSETUJUAN"]) == "definitif"

    put(live, "/opd/dinkes/wk.ics", vevent(u, "Pencanangan Posyandu", wali, start="130000",
                                           end="140000"))
    sync.run_once()
    assert public_everywhere(live, out) == [False] * 4
    (lead,) = feed(live, "/pimpinan/agenda/", "pimpinan-a")[out]
    assert str(lead["X-KALENDER-PERSETUJUAN"]) == "menunggu"

    assert cli.main(["reject", "dinkes", u, "--reason", "Wali Kota ke Jakarta",
                     "--dir", str(live.dep.root)]) == 0
    sync.run_once()
    assert public_everywhere(live, out) == [False] * 4
    (lead,) = feed(live, "/pimpinan/agenda/", "pimpinan-a")[out]
    assert "Status: Ditolak" in str(lead["DESCRIPTION"])
    assert "Alasan penolakan: Wali Kota ke Jakarta" in str(lead["DESCRIPTION"])
    leaders = sync.web.get(out.split("@")[0], calendar=LEADERS)
    assert leaders is not None and leaders.reason == "Wali Kota ke Jakarta"

    assert cli.main(["approval", "off", "--dir", str(live.dep.root)]) == 0
    sync.run_once()  # switched off: every item planned again
    assert public_everywhere(live, out) == [True] * 4
    (lead,) = feed(live, "/pimpinan/agenda/", "pimpinan-a")[out]
    assert lead.get("X-KALENDER-PERSETUJUAN") is None


def test_older_web_layout_is_rebuilt(tmp_path: Path) -> None:
    """A sync.db whose web tables lack the new columns: dropped, made again."""
    path = tmp_path / "sync.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE web_occurrences (calendar TEXT, id TEXT, href TEXT, start INTEGER, "
        "end INTEGER, opd TEXT, venue TEXT, category TEXT, persons TEXT, words TEXT, "
        "data TEXT, PRIMARY KEY (calendar, id));"
        "CREATE TABLE web_items (calendar TEXT, href TEXT, key TEXT, until INTEGER);"
        "INSERT INTO web_items VALUES ('publik/agenda', 'a.ics', 'k', NULL);")
    db.close()
    index = WebIndex(path)
    try:
        columns = {row[1] for row in index.db.execute("PRAGMA table_info(web_occurrences)")}
        assert "cancelled" in columns
        assert index.db.execute("SELECT count(*) FROM web_items").fetchone() == (0,)
    finally:
        index.close()
