"""The output calendars served from sync.db: CalDAV semantics kept, no storage lock taken.

Issue 12 items 1-2: the sync writes a pass's copies in one SQLite transaction and
``kalender.dav.outputs`` serves them; these tests read them as a leader's
calendar app does (PROPFIND, GET, sync-collection, multiget, calendar-query,
free-busy) against a real Radicale, and hold Radicale's own storage lock to show
that neither the reads nor the sync's writes of the outputs wait for it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import re
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from kalender_sync.service import SyncService
from tests.conftest import LiveServer, event_ics, make_deployment, serve_in_thread

NEAR = (dt.date.today() + dt.timedelta(days=15)).strftime("%Y%m%d")
FAR = (dt.date.today() + dt.timedelta(days=400)).strftime("%Y%m%d")
XML = {"Content-Type": "application/xml; charset=utf-8"}
LEADERS = "/pimpinan/agenda/"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own (its sync is driven pass by pass)."""
    yield from serve_in_thread(make_deployment(tmp_path_factory.mktemp("served") / "kediri"))


@pytest.fixture(scope="module")
def sync(live: LiveServer) -> Iterator[SyncService]:
    """The sync service, one pass at a time."""
    service = SyncService(live.dep, live.url)
    yield service
    service.close()


def book(live: LiveServer, summary: str, day: str = NEAR, hour: int = 9,
         uid: str | None = None, name: str | None = None) -> str:
    """A public event of dinkes with the Wali Kota as speaker; its path in /opd/dinkes/."""
    uid = uid or f"{uuid.uuid4()}@test"
    path = f"/opd/dinkes/{name or uuid.uuid4().hex}.ics"
    body = event_ics(uid, f"{day}T{hour:02d}0000", f"{day}T{hour + 1:02d}0000", summary,
                     "Ruang Kilisuci", "CLASS:PUBLIC\nDESCRIPTION:Narasumber: Wali Kota Kediri")
    r = live.request("pic-x", "PUT", path, data=body, headers={"Content-Type": "text/calendar"})
    assert r.status_code in (201, 204), r.text
    return path


def listing(live: LiveServer, calendar: str = LEADERS) -> dict[str, str]:
    """href -> ETag of the copies, from a Depth 1 PROPFIND (as a calendar app lists)."""
    r = live.request("pimpinan-a", "PROPFIND", calendar, headers={"Depth": "1", **XML},
                     data='<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop>'
                          '</D:propfind>')
    assert r.status_code == 207, r.text
    found = re.findall(r"<D:href>([^<]+\.ics)</D:href>.*?<D:getetag>([^<]+)</D:getetag>",
                       r.text, re.S)
    return {href.rsplit("/", 1)[1]: etag.replace("&quot;", '"') for href, etag in found}


def summaries(text: str) -> set[str]:
    """SUMMARY values in a multistatus or calendar body."""
    return set(re.findall(r"SUMMARY:([^\r\n]+)", text))


def sync_report(live: LiveServer, token: str) -> tuple[int, str]:
    """RFC 6578 sync-collection of the leaders' agenda from ``token``: status, body."""
    body = ('<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:">'
            f"<D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>"
            "<D:prop><D:getetag/></D:prop></D:sync-collection>")
    r = live.request("pimpinan-a", "REPORT", LEADERS, data=body, headers=XML)
    return r.status_code, r.text


def token_of(text: str) -> str:
    """The new sync token of a sync-collection answer."""
    found = re.search(r"<D:sync-token>([^<]+)</D:sync-token>", text)
    assert found, text
    return found.group(1)


def test_copies_are_listed_and_got_with_one_etag(live: LiveServer, sync: SyncService) -> None:
    """PROPFIND lists every copy; GET returns it with the same ETag and a Last-Modified."""
    book(live, "Rapat Stunting")
    sync.run_once()
    listed = listing(live)
    assert listed
    for href, etag in listed.items():
        r = live.request("pimpinan-a", "GET", LEADERS + href)
        assert r.status_code == 200 and r.headers["ETag"] == etag
        assert r.headers["Content-Type"].startswith("text/calendar")
        assert "Last-Modified" in r.headers
    assert "Rapat Stunting" in summaries(
        "".join(live.request("pimpinan-a", "GET", LEADERS + h).text for h in listed))
    assert listing(live, "/ruang/ruang-kilisuci/")  # the venue calendar holds its copy too
    assert live.request("pimpinan-a", "GET", LEADERS + "tidak-ada.ics").status_code == 404


def test_sync_collection_tells_changes_and_deletions(live: LiveServer,
                                                     sync: SyncService) -> None:
    """After edits, a delete and a new event, the old token returns exactly those copies."""
    kept = book(live, "Apel Pagi", hour=7)
    edited = book(live, "Rapat Lama", hour=10, uid="edit-me@test", name="edit-me")
    gone = book(live, "Sosialisasi Batal", hour=13)
    sync.run_once()
    status, text = sync_report(live, "")
    assert status == 207
    first, before = token_of(text), listing(live)
    book(live, "Rapat Baru", hour=10, uid="edit-me@test", name="edit-me")
    assert live.request("pic-x", "DELETE", gone).status_code in (200, 204)
    book(live, "Bazar UMKM", hour=15)
    sync.run_once()
    after = listing(live)
    status, text = sync_report(live, first)
    assert status == 207
    changed = set(re.findall(r"/pimpinan/agenda/([^<]+\.ics)</D:href>", text))
    added = set(after) - set(before)
    removed = set(before) - set(after)
    modified = {h for h in set(after) & set(before) if after[h] != before[h]}
    assert len(added) == 1 and len(removed) == 1 and len(modified) == 1
    assert changed == added | removed | modified
    (dead,) = removed
    assert re.search(rf"{dead}</D:href>\s*<D:status>HTTP/1.1 404", text), text
    assert kept and edited
    # nothing since the newest token; a token of another calendar or database is refused
    status, text = sync_report(live, token_of(text))
    assert status == 207 and ".ics</D:href>" not in text
    status, text = sync_report(live, "http://radicale.org/ns/sync/kalender-0badc0de-1")
    assert status == 403 and "valid-sync-token" in text


def test_multiget_and_time_range_query(live: LiveServer, sync: SyncService) -> None:
    """calendar-multiget returns what is named; calendar-query only what meets the range."""
    book(live, "Musrenbang Kecamatan", day=NEAR, hour=8)
    book(live, "Hari Jadi Kota", day=FAR, hour=8)
    sync.run_once()
    hrefs = list(listing(live))
    body = ('<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/>'
            "</D:prop>" + "".join(f"<D:href>{LEADERS}{h}</D:href>" for h in hrefs[:2])
            + f"<D:href>{LEADERS}tidak-ada.ics</D:href></C:calendar-multiget>")
    r = live.request("pimpinan-a", "REPORT", LEADERS, data=body, headers={"Depth": "1", **XML})
    assert r.status_code == 207
    assert r.text.count("BEGIN:VCALENDAR") == 2 and "HTTP/1.1 404" in r.text
    day = dt.date.fromisoformat(f"{FAR[:4]}-{FAR[4:6]}-{FAR[6:]}")
    start, end = (day - dt.timedelta(days=1)).strftime("%Y%m%d"), \
        (day + dt.timedelta(days=1)).strftime("%Y%m%d")
    query = ('<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" '
             'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop>'
             '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
             f'<C:time-range start="{start}T000000Z" end="{end}T000000Z"/>'
             "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>")
    r = live.request("pimpinan-a", "REPORT", LEADERS, data=query, headers={"Depth": "1", **XML})
    assert r.status_code == 207
    assert summaries(r.text) == {"Hari Jadi Kota"}


def test_free_busy_of_the_leaders_agenda(live: LiveServer, sync: SyncService) -> None:
    """free-busy-query (RFC 4791 §7.10) over the served copies."""
    book(live, "Kunjungan Kerja", day=NEAR, hour=11)
    sync.run_once()
    query = ('<?xml version="1.0" encoding="utf-8"?><C:free-busy-query '
             'xmlns:C="urn:ietf:params:xml:ns:caldav">'
             f'<C:time-range start="{NEAR}T000000Z" end="{NEAR}T235959Z"/></C:free-busy-query>')
    r = live.request("pimpinan-a", "REPORT", LEADERS, data=query, headers={"Depth": "1", **XML})
    assert r.status_code == 200 and "FREEBUSY" in r.text


def test_nobody_writes_an_output_calendar(live: LiveServer, sync: SyncService) -> None:
    """PUT, DELETE and MOVE into the outputs are refused with a sentence, even for an admin."""
    book(live, "Lomba Kebersihan", hour=16)
    sync.run_once()
    listed = listing(live)
    href = next(iter(listed))
    body = event_ics("tamu@test", f"{NEAR}T200000", f"{NEAR}T210000", "Disisipkan")
    for method, path, kw in (
            ("PUT", LEADERS + "sisip.ics", {"data": body,
                                            "headers": {"Content-Type": "text/calendar"}}),
            ("DELETE", LEADERS + href, {}),
            ("MOVE", LEADERS + href, {"headers": {"Destination": live.url + "/opd/dinkes/x.ics"}}),
            ("PUT", LEADERS, {"data": body, "headers": {"Content-Type": "text/calendar"}})):
        r = live.request("admin-a", method, path, **kw)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert "disusun otomatis" in r.text, r.text
    assert listing(live) == listed


@contextlib.contextmanager
def storage_lock(live: LiveServer, exclusive: bool) -> Iterator[None]:
    """Hold Radicale's storage lock (``collections/.Radicale.lock``) as another process would."""
    with (live.dep.collections / ".Radicale.lock").open("a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def test_reads_of_outputs_take_no_storage_lock(live: LiveServer, sync: SyncService) -> None:
    """With the storage locked for writing, the outputs still answer; an OPD read waits."""
    book(live, "Pelatihan Kader", hour=17)
    sync.run_once()
    waited: list[int] = []
    with storage_lock(live, exclusive=True):
        began = time.monotonic()
        assert listing(live)
        r = live.request("pimpinan-a", "GET", LEADERS + next(iter(listing(live))))
        assert r.status_code == 200
        status, _text = sync_report(live, "")
        assert status == 207
        assert time.monotonic() - began < 10
        reader = threading.Thread(target=lambda: waited.append(live.request(
            "pimpinan-a", "PROPFIND", "/opd/dinkes/", headers={"Depth": "0"}).status_code))
        reader.start()
        reader.join(timeout=1.5)
        assert reader.is_alive() and not waited  # the lock is real: an OPD calendar waits
    reader.join(timeout=30)
    assert waited == [207]


def test_a_pass_writes_outputs_while_a_reader_holds_the_storage(live: LiveServer,
                                                                sync: SyncService) -> None:
    """A long reader (shared lock) never holds up the sync's writes of the outputs."""
    book(live, "Gebyar Seni Budaya", hour=18)
    with storage_lock(live, exclusive=False):
        finished: list[float] = []
        began = time.monotonic()
        worker = threading.Thread(target=lambda: (sync.run_once(),
                                                  finished.append(time.monotonic() - began)))
        worker.start()
        worker.join(timeout=20)
        assert finished, "the sync pass waited for the storage lock"
    assert "Gebyar Seni Budaya" in requests.get(live.url + "/publik/agenda/", timeout=10).text


def test_calendar_etag_and_token_move_only_with_a_change(live: LiveServer,
                                                         sync: SyncService) -> None:
    """getetag, getctag and sync-token of the calendar change with a pass that changes it."""
    def props() -> tuple[str, str]:
        r = live.request("pimpinan-a", "PROPFIND", LEADERS, headers={"Depth": "0", **XML},
                         data='<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/'
                              'ns/"><D:prop><D:getetag/><CS:getctag/><D:sync-token/></D:prop>'
                              "</D:propfind>")
        assert r.status_code == 207
        etag = re.search(r"<D:getetag>([^<]+)</D:getetag>", r.text)
        token = re.search(r"<D:sync-token>([^<]+)</D:sync-token>", r.text)
        assert etag and token, r.text
        return etag.group(1), token.group(1)

    sync.run_once()
    before = props()
    sync.run_once()  # nothing changed
    assert props() == before
    book(live, "Jalan Sehat", hour=19)
    sync.run_once()
    after = props()
    assert after[0] != before[0] and after[1] != before[1]


def test_home_and_parent_listings_carry_the_served_state(live: LiveServer,
                                                         sync: SyncService) -> None:
    """A calendar app reads getctag/sync-token from the home's Depth 1 listing: they move."""
    def ctag(path: str, login: str = "pimpinan-a") -> str:
        r = live.request(login, "PROPFIND", path, headers={"Depth": "1", **XML},
                         data='<D:propfind xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/'
                              'ns/"><D:prop><CS:getctag/><D:sync-token/></D:prop></D:propfind>')
        assert r.status_code == 207
        block = re.search(r"<D:href>/pimpinan/agenda/</D:href>.*?</D:response>", r.text, re.S)
        assert block, r.text
        return block.group(0)

    sync.run_once()
    before = ctag("/pimpinan-a/"), ctag("/pimpinan/", "admin-a")
    book(live, "Rapat Paripurna", hour=20)
    sync.run_once()
    after = ctag("/pimpinan-a/"), ctag("/pimpinan/", "admin-a")
    assert after[0] != before[0] and after[1] != before[1]
    token = re.search(r"<D:sync-token>([^<]+)</D:sync-token>", after[0])
    assert token and "kalender-" in token.group(1)
