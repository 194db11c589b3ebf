"""Every 4xx answer carries a DAV:error and a sentence; refused writes are recorded (issue 7).

Radicale's own answers (text/plain "Bad Request", "Precondition failed." or a
bare DAV:error) are shaped in one place (kalender.dav.answers); an answer that
already is a kalender.errors refusal is kept as it is.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

import pytest
import requests

from kalender import audit
from kalender.clash.fields import event_identity
from kalender.notify import board
from kalender.notify.channel import POSTED
from tests.conftest import PASSWORD, LiveServer, event_ics, make_deployment, serve_in_thread

NS = "urn:x-kalender-opd:"
K = f"{{{NS}}}"
DAV = "{DAV:}"
CALDAV = "{urn:ietf:params:xml:ns:caldav}"
LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own (refusal counts and login failures stay local)."""
    yield from serve_in_thread(make_deployment(tmp_path_factory.mktemp("errors") / "kediri"))


def explained(r: requests.Response) -> tuple[str, str]:
    """(precondition tag, sentence) of a DAV:error answer; fails on anything else."""
    assert r.headers["Content-Type"].startswith("application/xml"), r.headers
    root = ET.fromstring(r.content)
    assert root.tag == f"{DAV}error", r.content
    message = root.find(f"{K}message")
    assert message is not None and message.get(LANG) == "id" and message.text, r.content
    conditions = [c.tag for c in root if c.tag != f"{K}message"]
    assert len(conditions) == 1, r.content
    assert conditions[0].startswith((K, DAV, CALDAV)), conditions
    return conditions[0], message.text


@dataclass(frozen=True)
class Case:
    """One request and what its answer must say."""

    name: str
    login: str | None
    method: str
    path: str
    status: int
    condition: str
    says: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    password: str = PASSWORD


EXISTING = "/opd/dinkes/ada.ics"
EXISTING_UID = "ada-uid"
CASES = [
    Case("anonymous", None, "PROPFIND", "/opd/dinkes/", 401, f"{K}authentication-required",
         "Silakan masuk"),
    Case("wrong-password", "pic-x", "PROPFIND", "/opd/dinkes/", 401, f"{K}valid-credentials",
         "kata sandi salah", password="salah"),
    Case("put-foreign-opd", "pic-x", "PUT", "/opd/dinsos/x.ics", 403, f"{DAV}need-privileges",
         "tidak berhak mengubah", {"Content-Type": "text/calendar"}, event_ics("x")),
    Case("read-foreign-opd", "pic-x", "PROPFIND", "/opd/dinsos/", 403,
         f"{DAV}need-privileges", "tidak berhak membuka", {"Depth": "0"}),
    Case("get-missing", "pic-x", "GET", "/opd/dinkes/tidak-ada.ics", 404,
         f"{K}resource-exists", "tidak ditemukan"),
    Case("delete-missing", "pic-x", "DELETE", "/opd/dinkes/tidak-ada.ics", 404,
         f"{K}resource-exists", "sudah tidak ada"),
    Case("unknown-method", "pic-x", "BREW", "/opd/dinkes/", 405, f"{K}supported-method",
         "Metode BREW"),
    Case("put-no-calendar", "admin-a", "PUT", "/opd/tidak-ada/x.ics", 409,
         f"{K}parent-exists", "Kalender tujuan", {"Content-Type": "text/calendar"},
         event_ics("y")),
    Case("put-if-match", "pic-x", "PUT", EXISTING, 412, f"{K}matching-etag",
         "sudah diubah di perangkat lain", {"If-Match": '"lama"',
                                            "Content-Type": "text/calendar"},
         event_ics(EXISTING_UID)),
    Case("put-if-none-match", "pic-x", "PUT", EXISTING, 412, f"{K}no-existing-resource",
         "sudah ada", {"If-None-Match": "*", "Content-Type": "text/calendar"},
         event_ics(EXISTING_UID)),
    Case("delete-if-match", "pic-x", "DELETE", EXISTING, 412, f"{K}matching-etag",
         "ulangi penghapusan", {"If-Match": '"lama"'}),
    Case("uid-elsewhere", "pic-x", "PUT", "/opd/dinkes/salinan.ics", 409,
         f"{CALDAV}no-uid-conflict", "UID yang sama", {"Content-Type": "text/calendar"},
         event_ics(EXISTING_UID)),
    Case("mkcalendar-exists", "admin-a", "MKCALENDAR", "/opd/dinkes/", 409,
         f"{DAV}resource-must-be-null", "Sudah ada kalender"),
    Case("garbage-put", "pic-x", "PUT", "/opd/dinkes/sampah.ics", 400, "", "",
         {"Content-Type": "text/calendar"}, "ini bukan iCalendar"),
    Case("bad-xml", "pic-x", "PROPFIND", "/opd/dinkes/", 400, "", "", {"Depth": "0"},
         "<propfind"),
]


@pytest.fixture(scope="module")
def existing(srv: LiveServer) -> None:
    """The event the precondition cases refer to."""
    r = srv.request("pic-x", "PUT", EXISTING, data=event_ics(EXISTING_UID),
                    headers={"Content-Type": "text/calendar"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_4xx_is_a_dav_error(srv: LiveServer, existing: None, case: Case) -> None:
    """The status of Radicale's answer stays; the body says what to change, in Indonesian."""
    auth = (case.login, case.password) if case.login else None
    r = requests.request(case.method, srv.url + case.path, auth=auth, headers=case.headers,
                         data=case.body.encode() if case.body is not None else None,
                         timeout=30)
    assert r.status_code == case.status, (r.status_code, r.text)
    condition, sentence = explained(r)
    if case.condition:
        assert condition == case.condition
    assert case.says in sentence
    if case.status == 401:
        assert r.headers["WWW-Authenticate"] == 'Basic realm="Kalender OPD Kota Kediri"'


def test_shaped_without_gzip_and_reason_phrase(srv: LiveServer) -> None:
    """A plain client (no gzip) gets a correct Content-Length and an Indonesian reason phrase."""
    host, port = srv.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    token = base64.b64encode(f"pic-x:{PASSWORD}".encode()).decode()
    conn.request("GET", "/opd/dinkes/tidak-ada.ics", headers={"Authorization": f"Basic {token}"})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 404 and r.reason == "Tidak Ditemukan"
    assert r.getheader("Content-Encoding") is None
    assert int(r.getheader("Content-Length") or 0) == len(body)
    assert ET.fromstring(body).find(f"{K}resource-exists") is not None


def test_clash_body_kept(srv: LiveServer) -> None:
    """A kalender.errors refusal keeps its own body and details (not re-shaped)."""
    day = (dt.date.today() + dt.timedelta(days=70)).strftime("%Y%m%d")
    first = event_ics(str(uuid.uuid4()), f"{day}T090000", f"{day}T100000",
                      location="Ruang Kilisuci")
    assert srv.request("pic-x", "PUT", f"/opd/dinkes/{uuid.uuid4()}.ics", data=first,
                       headers={"Content-Type": "text/calendar"}).status_code == 201
    second = event_ics(str(uuid.uuid4()), f"{day}T093000", f"{day}T103000",
                       location="Ruang Kilisuci")
    r = srv.request("pic-y", "PUT", f"/opd/dinsos/{uuid.uuid4()}.ics", data=second,
                    headers={"Content-Type": "text/calendar"})
    assert r.status_code == 403
    condition, sentence = explained(r)
    assert condition == f"{K}no-venue-clash" and "Ruang Kilisuci" in sentence
    assert ET.fromstring(r.content).find(f"{K}no-venue-clash/{K}clash") is not None


# -- refused writes in the audit trail ------------------------------------------------
def refusal_rows(srv: LiveServer, uid: str, count: int) -> list[audit.Refusal]:
    """The refusal rows of ``uid`` once one has reached ``count`` (recorded off the request)."""
    deadline = time.monotonic() + 30
    while True:
        rows = [r for r in audit.refusals(srv.dep.database) if r.uid == uid]
        if any(r.count >= count for r in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def clash_pair(srv: LiveServer, offset: int, title: str) -> tuple[str, str]:
    """Book Ruang Joyoboyo for pic-x; (uid, body) of pic-y's clashing event titled ``title``."""
    day = (dt.date.today() + dt.timedelta(days=offset)).strftime("%Y%m%d")
    booked = event_ics(str(uuid.uuid4()), f"{day}T090000", f"{day}T110000",
                       location="Ruang Joyoboyo")
    assert srv.request("pic-x", "PUT", f"/opd/dinkes/{uuid.uuid4()}.ics", data=booked,
                       headers={"Content-Type": "text/calendar"}).status_code == 201
    uid = f"{uuid.uuid4()}@test"
    # a folded SUMMARY (RFC 5545 §3.1) and an alarm with its own summary
    body = event_ics(uid, f"{day}T100000", f"{day}T120000", location="Ruang Joyoboyo",
                     summary=title[:10] + "\r\n " + title[10:],
                     extra="BEGIN:VALARM\nACTION:EMAIL\nSUMMARY:Pengingat\n"
                           "DESCRIPTION:x\nTRIGGER:-PT15M\nEND:VALARM")
    return uid, body


def test_refused_write_recorded_and_counted(srv: LiveServer) -> None:
    """Five retries of one clashing event: one row, count 5, its own title and the sentence."""
    title = "Sosialisasi Bantuan Sosial Kelurahan"
    uid, body = clash_pair(srv, 80, title)
    path = f"/opd/dinsos/{uuid.uuid4()}.ics"
    for _ in range(5):
        r = srv.request("pic-y", "PUT", path, data=body.encode(),
                        headers={"Content-Type": "text/calendar"})
        assert r.status_code == 403
    _, sentence = explained(r)
    (row,) = refusal_rows(srv, uid, 5)
    assert (row.actor, row.path, row.opd, row.count) == ("pic-y", "/opd/dinsos/", "dinsos", 5)
    assert (row.title, row.reason, row.message) == (title, "Jadwal Bentrok", sentence)


def test_radicale_refusal_recorded(srv: LiveServer) -> None:
    """A write Radicale's rights refuse (PIC into another OPD) is recorded too."""
    uid = f"{uuid.uuid4()}@test"
    r = srv.request("pic-x", "PUT", f"/opd/dinsos/{uuid.uuid4()}.ics",
                    data=event_ics(uid, summary="Titipan Dinkes"),
                    headers={"Content-Type": "text/calendar"})
    assert r.status_code == 403
    (row,) = refusal_rows(srv, uid, 1)
    assert (row.actor, row.path, row.title, row.reason) == (
        "pic-x", "/opd/dinsos/", "Titipan Dinkes", "Tidak Diizinkan")


def test_unreadable_event_recorded(srv: LiveServer) -> None:
    """A body no parser accepts (bad date, no END) is recorded with the UID it names."""
    uid = f"{uuid.uuid4()}@test"
    body = (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n"
            "DTSTART:2028-13-45\r\nSUMMARY:Rapat Rusak\r\n")
    r = srv.request("pic-x", "PUT", f"/opd/dinkes/{uuid.uuid4()}.ics", data=body,
                    headers={"Content-Type": "text/calendar"})
    assert r.status_code == 400
    _, sentence = explained(r)
    (row,) = refusal_rows(srv, uid, 1)
    assert (row.actor, row.path, row.title, row.message) == (
        "pic-x", "/opd/dinkes/", "Rapat Rusak", sentence)


def test_locked_database_does_not_fail_the_refusal(srv: LiveServer) -> None:
    """While another process holds kalender.db's write lock, the 403 still comes (not a 500)."""
    uid, body = clash_pair(srv, 90, "Rapat Saat Basis Data Terkunci")
    # Earlier tests' Bentrok entries are written first: a notifier caught writing
    # one (a real write, which waits for kalender.db) would rightly hold the PUT.
    deadline = time.monotonic() + 30
    while board.pending(srv.dep.database) and time.monotonic() < deadline:
        time.sleep(0.05)
    blocker = sqlite3.connect(srv.dep.database, timeout=30, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        POSTED.set()  # a notifier pass now waits for kalender.db, outside the storage lock
        time.sleep(0.3)
        r = srv.request("pic-y", "PUT", f"/opd/dinsos/{uuid.uuid4()}.ics", data=body.encode(),
                        headers={"Content-Type": "text/calendar"}, timeout=10)
        assert r.status_code == 403
        assert explained(r)[0] == f"{K}no-venue-clash"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    (row,) = refusal_rows(srv, uid, 1)  # written once the lock is gone
    assert row.title == "Rapat Saat Basis Data Terkunci"


def test_event_identity_from_raw_text() -> None:
    """UID and the series' own title, from unfolded text; alarms and overrides skipped."""
    body = ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:seri-1\r\nRECURRENCE-ID:20300101T090000\r\n"
            "SUMMARY:Pengecualian\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:seri\r\n -1\r\n"
            "BEGIN:VALARM\r\nSUMMARY:Alarm\r\nEND:VALARM\r\n"
            "SUMMARY;LANGUAGE=id:Rapat\\, Evaluasi\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    assert event_identity(body) == ("seri-1", "Rapat, Evaluasi")
    assert event_identity("BEGIN:VEVENT\nUID:terpotong\nSUMMARY:Tanpa END") == (
        "terpotong", "Tanpa END")
    assert event_identity("sampah") == ("", "")
