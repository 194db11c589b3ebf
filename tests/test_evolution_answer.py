"""Refusals read cleanly in Evolution: the sentence alone, as text/plain, for its User-Agent.

evolution-data-server shows a DAV:error as its text plus ``[name]`` of every
child element (``...[no-venue-clash][message]``); a text/plain body as it is.
Every other client keeps the DAV:error with its RFC 4918 §16 precondition.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import pytest

from tests.conftest import PASSWORD, LiveServer, make_deployment, serve_in_thread

K = "{urn:x-kalender-opd:}"
EVOLUTION = "Evolution/3.46.4"
#: A Monday well inside the clash horizon, computed from today.
BASE = dt.date.today() + dt.timedelta(days=(7 - dt.date.today().weekday()) % 7 + 63)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as sent: status line, headers, body."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own (its bookings clash with nothing else)."""
    dep = make_deployment(tmp_path_factory.mktemp("evolution") / "kediri")
    yield from serve_in_thread(dep)


def send(srv: LiveServer, method: str, path: str, body: str = "", login: str | None = "pic-x",
         agent: str | None = None, authorization: str | None = None) -> Answer:
    """One request over http.client (no User-Agent unless ``agent``)."""
    host, port = srv.url.removeprefix("http://").split(":")
    headers = {"Content-Type": "text/calendar; charset=utf-8"}
    if login is not None:
        token = base64.b64encode(f"{login}:{PASSWORD}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    if authorization is not None:
        headers["Authorization"] = authorization
    if agent is not None:
        headers["User-Agent"] = agent
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request(method, path, body.encode() if body else None, headers)
        r = conn.getresponse()
        return Answer(r.status, r.reason, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def event(start: str, end: str, title: str) -> str:
    """One event at Ruang Joyoboyo on BASE, times like 0900 (WIB)."""
    d = BASE.strftime("%Y%m%d")
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//tests//ID", "BEGIN:VEVENT",
        f"UID:{uuid.uuid4()}@test", "DTSTAMP:20260101T000000Z",
        f"DTSTART;TZID=Asia/Jakarta:{d}T{start}00", f"DTEND;TZID=Asia/Jakarta:{d}T{end}00",
        f"SUMMARY:{title}", "LOCATION:Ruang Joyoboyo", "END:VEVENT", "END:VCALENDAR", ""])


def message(answer: Answer) -> str:
    """The K:message of a DAV:error answer."""
    root = ET.fromstring(answer.body)
    assert root.tag == "{DAV:}error"
    return root.findtext(f"{K}message") or ""


def test_clash_refusal_is_the_sentence_alone_for_evolution(srv: LiveServer) -> None:
    """Same 403 and reason phrase; text/plain with exactly the sentence of the DAV:error."""
    booked = send(srv, "PUT", f"/opd/dinkes/{uuid.uuid4().hex}.ics",
                  event("0900", "1100", "Rapat Koordinasi Posyandu"), agent=EVOLUTION)
    assert booked.status == 201 and booked.body == b""
    clash = event("1000", "1200", "Sosialisasi Bansos")
    other = send(srv, "PUT", f"/opd/dinsos/{uuid.uuid4().hex}.ics", clash, login="pic-y",
                 agent="Mozilla/5.0 Thunderbird/153.0")
    evo = send(srv, "PUT", f"/opd/dinsos/{uuid.uuid4().hex}.ics", clash, login="pic-y",
               agent=EVOLUTION)
    assert (other.status, other.reason) == (evo.status, evo.reason) == (403, "Jadwal Bentrok")
    assert other.headers["content-type"] == "application/xml; charset=utf-8"
    assert ET.fromstring(other.body).find(f"{K}no-venue-clash") is not None
    sentence = message(other)
    assert sentence.startswith("Ruang Joyoboyo sudah dipakai")
    assert evo.headers["content-type"] == "text/plain; charset=utf-8"
    assert evo.body.decode("utf-8") == sentence
    assert int(evo.headers["content-length"]) == len(evo.body)
    assert "User-Agent" in evo.headers["vary"] and "User-Agent" in other.headers["vary"]


def test_without_evolution_the_dav_error_stays(srv: LiveServer) -> None:
    """No User-Agent, or another client's: the DAV:error with its precondition element."""
    for agent in (None, "python-caldav/1.4", "DAVx5/4.4 (okhttp)", "Evolutionary/1.0"):
        r = send(srv, "DELETE", f"/opd/dinkes/{uuid.uuid4().hex}.ics", agent=agent)
        assert r.status == 404 and r.headers["content-type"] == "application/xml; charset=utf-8"
        assert ET.fromstring(r.body).find(f"{K}resource-exists") is not None
        assert message(r).startswith("Kegiatan ini sudah tidak ada di server")


def test_reshaped_radicale_answers_for_evolution(srv: LiveServer) -> None:
    """Radicale's own 4xx (404, 403 need-privileges) reshaped, then the sentence alone."""
    gone = send(srv, "DELETE", f"/opd/dinkes/{uuid.uuid4().hex}.ics", agent=EVOLUTION)
    assert (gone.status, gone.reason) == (404, "Tidak Ditemukan")
    assert gone.headers["content-type"] == "text/plain; charset=utf-8"
    assert gone.body.decode("utf-8").startswith("Kegiatan ini sudah tidak ada di server")
    foreign = send(srv, "PUT", f"/opd/dinsos/{uuid.uuid4().hex}.ics",
                   event("1400", "1500", "Rapat"), login="pic-x", agent=EVOLUTION)
    assert (foreign.status, foreign.reason) == (403, "Tidak Diizinkan")
    # no "[need-privileges]" for EDS to map to its generic "Permission denied"
    assert foreign.body.decode("utf-8").startswith("Akun Anda tidak berhak mengubah kalender")


def test_answers_before_radicale_for_evolution(srv: LiveServer) -> None:
    """A 401 made before Radicale runs: the sentence alone, the login challenge kept."""
    r = send(srv, "PROPFIND", "/", login=None, agent=EVOLUTION,
             authorization="Basic !!!not-base64")
    assert r.status == 401
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["www-authenticate"].startswith("Basic realm=")
    assert r.body.decode("utf-8").startswith("Kredensial tidak dapat dibaca")


def test_success_answers_untouched_for_evolution(srv: LiveServer) -> None:
    """A 207 PROPFIND answer to Evolution stays the multistatus XML it reads."""
    r = send(srv, "PROPFIND", "/opd/dinkes/", agent=EVOLUTION)
    assert r.status == 207 and "xml" in r.headers["content-type"]
    assert ET.fromstring(r.body).tag == "{DAV:}multistatus"
    assert "vary" not in r.headers or "User-Agent" not in r.headers["vary"]
