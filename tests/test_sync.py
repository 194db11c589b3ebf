"""The sync service end to end: outputs event by event, privacy, restarts, conditional GET."""

from __future__ import annotations

import datetime as dt
import html
import random
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest
import requests

from kalender.admin import cli
from kalender_sync.service import SyncService
from kalender_sync.transform import output_uid
from tests.conftest import KALENDER, LiveServer, ServeProcess, make_deployment, serve_in_thread

DAY = (dt.date.today() + dt.timedelta(days=20)).strftime("%Y%m%d")
SECRET_BITS = ("budi@example.org", "BEGIN:VALARM", "ATTACH", "X-RAHASIA", "ORGANIZER")


def event(u: str, summary: str, start: str = "090000", end: str = "100000", *,
          klass: str = "PUBLIC", location: str = "Ruang Kilisuci", extra: str = "",
          day: str = DAY) -> bytes:
    """An event carrying everything the public must not see."""
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//tests//ID",
        "BEGIN:VEVENT", f"UID:{u}", "DTSTAMP:20260101T000000Z",
        f"DTSTART;TZID=Asia/Jakarta:{day}T{start}", f"DTEND;TZID=Asia/Jakarta:{day}T{end}",
        f"SUMMARY:{summary}", f"LOCATION:{location}", f"CLASS:{klass}",
        "DESCRIPTION:Narasumber: Wali Kota Kediri",
        "ORGANIZER;CN=Sekretariat:mailto:sekretariat@example.org",
        "ATTENDEE;CN=Budi;ROLE=REQ-PARTICIPANT:mailto:budi@example.org",
        "ATTACH:https://intranet.example.org/undangan.pdf", "X-RAHASIA:nomor telepon 0812",
        *[x for x in extra.strip().splitlines() if x],
        "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Pengingat", "TRIGGER:-PT15M",
        "END:VALARM", "END:VEVENT", "END:VCALENDAR", ""]).encode()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own for the sync tests."""
    dep = make_deployment(tmp_path_factory.mktemp("sync") / "kediri")
    yield from serve_in_thread(dep)


@pytest.fixture(scope="module")
def sync(live: LiveServer) -> Iterator[SyncService]:
    """The sync service, driven pass by pass."""
    service = SyncService(live.dep, live.url)
    yield service
    service.close()


def put(live: LiveServer, login: str, path: str, body: bytes) -> None:
    """PUT that must succeed."""
    r = live.request(login, "PUT", path, data=body, headers={"Content-Type": "text/calendar"})
    assert r.status_code in (201, 204), r.text


def feed(live: LiveServer, path: str, login: str | None = "pimpinan-a") -> dict[str, list]:
    """UID -> VEVENTs of a rendered output calendar."""
    r = live.request(login, "GET", path)
    assert r.status_code == 200, (path, r.status_code)
    events: dict[str, list] = {}
    for e in icalendar.Calendar.from_ical(r.content).walk("VEVENT"):
        events.setdefault(str(e["UID"]), []).append(e)
    return events


def test_lifecycle(live: LiveServer, sync: SyncService) -> None:
    """Create, edit, private, confidential, move, delete: every output follows."""
    u = f"{uuid.uuid4()}@test"
    put(live, "pic-xz", "/opd/dinkes/siklus.ics", event(u, "Rapat Posyandu"))
    sync.run_once()
    out = output_uid("dinkes", u)
    (pub,) = feed(live, "/publik/agenda/", None)[out]
    assert str(pub["SUMMARY"]) == "Rapat Posyandu" and pub.get("ATTENDEE") is None
    assert "Dinas Kesehatan Kota Kediri" in str(pub["DESCRIPTION"])
    assert pub["CATEGORIES"].to_ical() == b"Dinas Kesehatan Kota Kediri"
    (lead,) = feed(live, "/pimpinan/agenda/")[out]
    assert "budi@example.org" in str(lead["ATTENDEE"]) and lead.get("X-RAHASIA") is not None
    assert out in feed(live, "/ruang/ruang-kilisuci/", "pic-y")
    assert out in feed(live, "/orang/wali-kota/")
    etag = live.request(None, "GET", "/publik/agenda/").headers["ETag"]

    sync.run_once()  # nothing changed: no phantom update
    assert live.request(None, "GET", "/publik/agenda/").headers["ETag"] == etag

    # a change the public cannot see: leaders' copy updated, public copy untouched
    put(live, "pic-xz", "/opd/dinkes/siklus.ics",
        event(u, "Rapat Posyandu").replace(b"budi@example.org", b"siti@example.org"))
    sync.run_once()
    assert live.request(None, "GET", "/publik/agenda/").headers["ETag"] == etag
    (lead,) = feed(live, "/pimpinan/agenda/")[out]
    assert int(lead["SEQUENCE"]) == 1

    put(live, "pic-xz", "/opd/dinkes/siklus.ics", event(u, "Rapat Posyandu Balita"))
    sync.run_once()
    (pub,) = feed(live, "/publik/agenda/", None)[out]
    assert str(pub["SUMMARY"]) == "Rapat Posyandu Balita" and int(pub["SEQUENCE"]) == 1

    put(live, "pic-xz", "/opd/dinkes/siklus.ics", event(u, "Rapat Posyandu", klass="PRIVATE"))
    sync.run_once()
    assert out not in feed(live, "/publik/agenda/", None)
    assert out in feed(live, "/pimpinan/agenda/")
    (occupied,) = feed(live, "/ruang/ruang-kilisuci/", "pic-y")[out]
    assert str(occupied["SUMMARY"]) == "Terpakai - Dinas Kesehatan Kota Kediri"

    put(live, "pic-xz", "/opd/dinkes/siklus.ics", event(u, "Rapat Posyandu",
                                                        klass="CONFIDENTIAL"))
    sync.run_once()
    (pub,) = feed(live, "/publik/agenda/", None)[out]
    assert str(pub["SUMMARY"]) == "Kegiatan internal - Dinas Kesehatan Kota Kediri"
    assert pub.get("LOCATION") is None and pub.get("DESCRIPTION") is not None

    put(live, "pic-xz", "/opd/dinkes/siklus.ics", event(u, "Rapat Posyandu"))
    r = live.request("pic-xz", "MOVE", "/opd/dinkes/siklus.ics",
                     headers={"Destination": f"{live.url}/opd/diskominfo/siklus.ics"})
    assert r.status_code == 201
    sync.run_once()
    public = feed(live, "/publik/agenda/", None)
    moved = [v for v in public.values() if str(v[0]["SUMMARY"]) == "Rapat Posyandu"]
    assert len(moved) == 1 and out not in public
    assert "Komunikasi dan Informatika" in str(moved[0][0]["DESCRIPTION"])

    assert live.request("pic-xz", "DELETE", "/opd/diskominfo/siklus.ics").status_code == 200
    sync.run_once()
    for path in ("/publik/agenda/", "/pimpinan/agenda/", "/ruang/ruang-kilisuci/"):
        assert not any(str(v[0]["SUMMARY"]).startswith("Rapat Posyandu")
                       for v in feed(live, path).values())


def test_recurring_with_overrides_carried_intact(live: LiveServer, sync: SyncService) -> None:
    """RRULE, EXDATE and a moved occurrence reach the outputs unchanged."""
    u = f"{uuid.uuid4()}@test"
    override = (f"BEGIN:VEVENT\r\nUID:{u}\r\nDTSTAMP:20260101T000000Z\r\n"
                f"RECURRENCE-ID;TZID=Asia/Jakarta:{DAY}T130000\r\n"
                f"DTSTART;TZID=Asia/Jakarta:{DAY}T150000\r\n"
                f"DTEND;TZID=Asia/Jakarta:{DAY}T160000\r\nSUMMARY:Senam (dipindah)\r\n"
                "END:VEVENT\r\n")
    body = event(u, "Senam Jumat", "130000", "140000", location="Alun-Alun Kota Kediri",
                 extra="RRULE:FREQ=WEEKLY;COUNT=6\nEXDATE;TZID=Asia/Jakarta:"
                       f"{(dt.date.today() + dt.timedelta(days=27)).strftime('%Y%m%d')}T130000")
    body = body.replace(b"END:VCALENDAR", override.encode() + b"END:VCALENDAR")
    put(live, "pic-y", "/opd/dinsos/senam.ics", body)
    sync.run_once()
    copies = feed(live, "/publik/agenda/", None)[output_uid("dinsos", u)]
    master = next(c for c in copies if c.get("RECURRENCE-ID") is None)
    moved = next(c for c in copies if c.get("RECURRENCE-ID") is not None)
    assert master["RRULE"]["COUNT"] == [6] and master.get("EXDATE") is not None
    assert str(moved["SUMMARY"]) == "Senam (dipindah)"


def test_public_feed_privacy_scan(live: LiveServer, sync: SyncService) -> None:
    """No e-mail, alarm, attachment, X- property or PRIVATE event in the whole public feed."""
    put(live, "pic-x", "/opd/dinkes/rahasia.ics",
        event(f"{uuid.uuid4()}@test", "Sidang Disiplin Pegawai", "160000", "170000",
              klass="PRIVATE"))
    put(live, "pic-x", "/opd/dinkes/terbuka.ics",
        event(f"{uuid.uuid4()}@test", "Pameran UMKM", "170000", "180000"))
    sync.run_once()
    for query in ("", "?penuh=1"):
        text = live.request(None, "GET", "/publik/agenda/" + query).text
        assert "Pameran UMKM" in text and "Sidang Disiplin" not in text
        for bit in SECRET_BITS:
            assert bit not in text
        unfolded = text.replace("\r\n ", "")
        assert not [ln for ln in unfolded.splitlines()
                    if re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", ln) and not ln.startswith("UID:")]
        assert {ln.split(":")[0] for ln in unfolded.splitlines() if ln.startswith("X-")} <= {
            "X-WR-CALNAME", "X-WR-TIMEZONE", "X-PUBLISHED-TTL"}


def test_conditional_get(live: LiveServer, sync: SyncService) -> None:
    """ETag and Last-Modified; 304 while unchanged; a new ETag exactly when content changes."""
    sync.run_once()
    first = live.request(None, "GET", "/publik/agenda/")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Content-Type"].startswith("text/calendar")
    assert live.request(None, "GET", "/publik/agenda/",
                        headers={"If-None-Match": etag}).status_code == 304
    assert live.request(None, "GET", "/publik/agenda/",
                        headers={"If-Modified-Since": modified}).status_code == 304
    gz = live.request(None, "GET", "/publik/agenda/", headers={"Accept-Encoding": "gzip"})
    assert gz.headers.get("Content-Encoding") == "gzip" and gz.content == first.content
    put(live, "pic-y", "/opd/dinsos/baru.ics",
        event(f"{uuid.uuid4()}@test", "Bazar Ramadan", "190000", "200000"))
    sync.run_once()
    changed = live.request(None, "GET", "/publik/agenda/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Bazar Ramadan" in changed.text
    assert live.request(None, "GET", "/pimpinan/agenda/").status_code == 401
    assert live.request("pic-x", "GET", "/pimpinan/agenda/").status_code == 403


def test_unreadable_source_is_skipped(live: LiveServer, sync: SyncService) -> None:
    """An item stored before the rules that holds no event (a task) is reported, never fatal."""
    folder = live.dep.collections / "collection-root/opd/dinsos"
    (folder / "lama.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//lama//ID\r\nBEGIN:VTODO\r\n"
        "UID:lama-1\r\nDTSTAMP:20200101T000000Z\r\nSUMMARY:Tugas lama\r\nEND:VTODO\r\n"
        "END:VCALENDAR\r\n", encoding="utf-8")
    put(live, "pic-y", "/opd/dinsos/sesudah.ics",
        event(f"{uuid.uuid4()}@test", "Kerja Bakti", "060000", "070000"))
    report = sync.run_once()
    assert any("lama.ics" in s for s in report.skipped)
    assert "Kerja Bakti" in live.request(None, "GET", "/publik/agenda/").text


QUERY = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter>
  </C:filter>
</C:calendar-query>"""


def normalised(live: LiveServer) -> dict[str, set[str]]:
    """Output calendars as served over CalDAV, without DTSTAMP/SEQUENCE: calendar -> VEVENTs."""
    result: dict[str, set[str]] = {}
    for folder in ("publik/agenda", "pimpinan/agenda"):
        r = live.request("pimpinan-a", "REPORT", f"/{folder}/", data=QUERY,
                         headers={"Depth": "1", "Content-Type": "application/xml"})
        assert r.status_code == 207, r.text
        texts = set()
        for data in re.findall(r"<C:calendar-data>(.*?)</C:calendar-data>", r.text, re.S):
            cal = icalendar.Calendar.from_ical(html.unescape(data))
            for e in cal.walk("VEVENT"):
                texts.add("\n".join(ln for ln in e.to_ical().decode().splitlines()
                                    if not ln.startswith(("DTSTAMP", "SEQUENCE"))))
        result[folder] = texts
    return result


def test_killed_sync_equals_full_rebuild(tmp_path: Path) -> None:
    """Kill `kalender sync` at random points of a stream of changes; the result is a rebuild."""
    dep = make_deployment(tmp_path / "kediri", {"pic-x": ("pic", ("dinkes",)),
                                                 "pimpinan-a": ("pimpinan", ())})
    gen = serve_in_thread(dep)
    live = next(gen)
    rng = random.Random(3)
    try:
        for n in range(30):
            day = (dt.date.today() + dt.timedelta(days=10 + n)).strftime("%Y%m%d")
            put(live, "pic-x", f"/opd/dinkes/e{n % 12}.ics",
                event(f"stream-{n % 12}", f"Kegiatan {n}", day=day,
                      klass=("PUBLIC", "PRIVATE", "CONFIDENTIAL")[n % 3]))
            if n % 5 == 4:
                assert live.request("pic-x", "DELETE", f"/opd/dinkes/e{(n * 7) % 12}.ics"
                                    ).status_code in (200, 404)
            if n % 3 == 0:
                proc = subprocess.Popen([*KALENDER, "sync", "--once", "--dir", str(dep.root),
                                         "--url", live.url], stdout=subprocess.DEVNULL)
                time.sleep(rng.random() * 0.6)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=20)
        assert cli.main(["sync", "--once", "--dir", str(dep.root), "--url", live.url]) == 0
        after_kills = normalised(live)
        assert after_kills["publik/agenda"] and after_kills["pimpinan/agenda"]
        feed_after = live.request(None, "GET", "/publik/agenda/").text
        # full rebuild: no state (the output calendars are served from it), no feeds
        (dep.root / "sync.db").unlink()
        assert normalised(live) == {"publik/agenda": set(), "pimpinan/agenda": set()}
        assert cli.main(["sync", "--once", "--dir", str(dep.root), "--url", live.url]) == 0
        assert normalised(live) == after_kills
        rebuilt = live.request(None, "GET", "/publik/agenda/").text
        strip = re.compile(r"^(DTSTAMP|SEQUENCE).*\r\n", re.MULTILINE)
        assert strip.sub("", rebuilt) == strip.sub("", feed_after)
    finally:
        gen.close()


def test_serve_wakes_sync_on_change(tmp_path: Path) -> None:
    """Under `kalender serve`, an accepted PUT shows in the public feed within seconds."""
    dep = make_deployment(tmp_path / "kediri", {"pic-x": ("pic", ("dinkes",))})
    server = ServeProcess(dep)
    url = server.url
    try:
        body = event(f"{uuid.uuid4()}@test", "Festival Kopi", "100000", "120000")
        r = requests.put(url + "/opd/dinkes/kopi.ics", data=body, timeout=10,
                         auth=("pic-x", "rahasia-kediri-1"))
        assert r.status_code == 201
        accepted = time.monotonic()
        while "Festival Kopi" not in requests.get(url + "/publik/agenda/", timeout=5).text:
            assert time.monotonic() - accepted < 15, "public feed not updated"
            time.sleep(0.1)
    finally:
        server.stop()
    assert server.proc.returncode == 0


def test_dry_run_writes_nothing(live: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    """--dry-run prints the plan and changes no output."""
    put(live, "pic-x", "/opd/dinkes/rencana.ics",
        event(f"{uuid.uuid4()}@test", "Rapat Rencana", "200000", "210000"))
    before = live.request(None, "GET", "/publik/agenda/").headers["ETag"]
    capsys.readouterr()
    assert cli.main(["sync", "--dry-run", "--dir", str(live.dep.root), "--url", live.url]) == 0
    out = capsys.readouterr().out
    assert "buat" in out and "/publik/agenda/" in out
    assert live.request(None, "GET", "/publik/agenda/").headers["ETag"] == before


def test_private_override_and_description_scrubbed(live: LiveServer, sync: SyncService) -> None:
    """A private occurrence of a public series and e-mails in descriptions stay private."""
    u = f"{uuid.uuid4()}@test"
    day2 = (dt.date.today() + dt.timedelta(days=34)).strftime("%Y%m%d")
    override = (f"BEGIN:VEVENT\r\nUID:{u}\r\nDTSTAMP:20260101T000000Z\r\n"
                f"RECURRENCE-ID;TZID=Asia/Jakarta:{day2}T070000\r\n"
                f"DTSTART;TZID=Asia/Jakarta:{day2}T070000\r\n"
                f"DTEND;TZID=Asia/Jakarta:{day2}T080000\r\nCLASS:PRIVATE\r\n"
                "SUMMARY:Pemeriksaan kesehatan pribadi\r\nEND:VEVENT\r\n")
    body = event(u, "Senam Pagi", "070000", "080000", location="Taman Sekartaji",
                 extra="RRULE:FREQ=WEEKLY;COUNT=4\nX-NOTE:x", day=(
                     dt.date.today() + dt.timedelta(days=20)).strftime("%Y%m%d"))
    body = body.replace(b"DESCRIPTION:Narasumber: Wali Kota Kediri",
                        b"DESCRIPTION:Hubungi panitia di budi.santoso@kedirikota.go.id\\n"
                        b"Abaikan bentrok: alasan internal")
    body = body.replace(b"END:VCALENDAR", override.encode() + b"END:VCALENDAR")
    put(live, "pic-y", "/opd/dinsos/senam-pagi.ics", body)
    sync.run_once()
    text = live.request(None, "GET", "/publik/agenda/").text
    assert "Senam Pagi" in text and "Pemeriksaan kesehatan" not in text
    assert "kedirikota.go.id" not in text and "alasan internal" not in text
    (master,) = feed(live, "/publik/agenda/", None)[output_uid("dinsos", u)]
    assert master.get("EXDATE") is not None  # the private occurrence is not shown at all


def test_override_inherits_the_class_of_its_series(live: LiveServer, sync: SyncService) -> None:
    """An override without CLASS of a CONFIDENTIAL or PRIVATE series is never shown in full.

    RFC 5545 §3.8.1.3 via kalender.visibility: an occurrence is at least as
    restricted as its series. Venue calendars show a private occurrence of a
    public series as taken ('Terpakai'), not as free.
    """
    uids = {k: f"{uuid.uuid4()}@test" for k in ("CONFIDENTIAL", "PRIVATE", "PUBLIC")}
    for n, (klass, u) in enumerate(uids.items()):
        first = dt.date.today() + dt.timedelta(days=40 + n)  # a day each: no clash
        moved = (first + dt.timedelta(days=7)).strftime("%Y%m%d")
        override_class = "CLASS:PRIVATE\r\n" if klass == "PUBLIC" else ""  # else: no CLASS
        override = (f"BEGIN:VEVENT\r\nUID:{u}\r\nDTSTAMP:20260101T000000Z\r\n"
                    f"RECURRENCE-ID;TZID=Asia/Jakarta:{moved}T090000\r\n"
                    f"DTSTART;TZID=Asia/Jakarta:{moved}T130000\r\n"
                    f"DTEND;TZID=Asia/Jakarta:{moved}T140000\r\n{override_class}"
                    "SUMMARY:Rapat Rahasia Anggaran\r\nLOCATION:Ruang Joyoboyo\r\n"
                    "DESCRIPTION:Bahas pos anggaran tertutup\r\nEND:VEVENT\r\n")
        body = event(u, f"Rapat Rutin {klass.title()}", klass=klass, location="Ruang Joyoboyo",
                     extra="RRULE:FREQ=WEEKLY;COUNT=4", day=first.strftime("%Y%m%d"))
        body = body.replace(b"END:VCALENDAR", override.encode() + b"END:VCALENDAR")
        put(live, "pic-xz", f"/opd/dinkes/warisan-{klass.lower()}.ics", body)
    sync.run_once()
    text = live.request(None, "GET", "/publik/agenda/").text
    assert "Rahasia Anggaran" not in text and "pos anggaran" not in text
    public = feed(live, "/publik/agenda/", None)
    confidential = public[output_uid("dinkes", uids["CONFIDENTIAL"])]
    assert len(confidential) == 2  # the series and its moved occurrence, both as blocks
    for copy in confidential:
        assert str(copy["SUMMARY"]) == "Kegiatan internal - Dinas Kesehatan Kota Kediri"
        assert copy.get("LOCATION") is None
    assert output_uid("dinkes", uids["PRIVATE"]) not in public
    (series,) = public[output_uid("dinkes", uids["PUBLIC"])]  # its private occurrence left out
    assert series.get("EXDATE") is not None
    venue = feed(live, "/ruang/ruang-joyoboyo/", "pic-y")
    for klass in ("CONFIDENTIAL", "PRIVATE", "PUBLIC"):
        copies = venue[output_uid("dinkes", uids[klass])]
        (taken,) = [c for c in copies if c.get("RECURRENCE-ID") is not None]
        assert str(taken["SUMMARY"]) == "Terpakai - Dinas Kesehatan Kota Kediri"
    assert "Rahasia Anggaran" not in live.request("pic-y", "GET", "/ruang/ruang-joyoboyo/").text
