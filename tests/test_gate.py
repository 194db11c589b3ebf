"""The request gate (kalender.dav.gate, kalender.dav.icalcheck), issue 7 items 1, 4, 6 and 9.

Every refusal is checked the same way: a 4xx with a DAV:error holding the
expected precondition and a Bahasa Indonesia sentence, nothing written (the
calendar's files unchanged, ``kalender verify`` clean) and the server still
answering. The crash and runaway cases run against a real ``kalender serve``
process, so a segfault shows as a dead process and a runaway one is killed
at teardown instead of spinning inside the test run.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import socket
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
import requests

from kalender.admin import cli
from kalender.deployment import Deployment
from tests.conftest import (
    PASSWORD,
    LiveServer,
    ServeProcess,
    event_ics,
    make_deployment,
    serve_in_thread,
)

NS = "urn:x-kalender-opd:"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TIMEOUT = 60  # a guard against a hanging server, not a timing assertion


# -- helpers ---------------------------------------------------------------------
def dav_error(response: requests.Response | tuple[int, str, dict[str, str], bytes]
              ) -> tuple[str, str]:
    """(precondition local name, Indonesian sentence) of a DAV:error answer (RFC 4918 §16)."""
    body = response.content if isinstance(response, requests.Response) else response[3]
    root = ET.fromstring(body)
    assert root.tag == "{DAV:}error", body[:200]
    condition = next(c.tag for c in root if c.tag != f"{{{NS}}}message")
    message = root.find(f"{{{NS}}}message")
    assert message is not None and message.get(XML_LANG) == "id"
    assert message.text and len(message.text) > 20
    return condition.removeprefix(f"{{{NS}}}"), message.text


def calendar_files(dep: Deployment, opd: str = "dinkes") -> dict[str, str]:
    """Name -> SHA-256 of every file of an OPD calendar (what a refusal must not change)."""
    folder = dep.collections / "collection-root" / "opd" / opd
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def verify_clean(dep: Deployment) -> None:
    """``kalender verify``: index and storage agree."""
    assert cli.main(["verify", "--dir", str(dep.root)]) == 0


def auth_header(login: str, password: str = PASSWORD) -> str:
    """A Basic Authorization header value (RFC 7617)."""
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


def exchange(url: str, head: str, chunks: Iterable[bytes] = ()
             ) -> tuple[int, str, dict[str, str], bytes]:
    """One raw HTTP/1.1 exchange: send ``head`` (and ``chunks`` until the server answers).

    Returns (status, reason, headers, body); the reason phrase is the server's own.
    """
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        try:
            sock.sendall(head.encode("latin-1"))
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed: read what it said
        response = http.client.HTTPResponse(sock, method=head.split(" ", 1)[0])
        response.begin()
        return (response.status, response.reason, dict(response.getheaders()),
                response.read())


def nested(depth: int, method: str) -> bytes:
    """An XML body with ``depth`` nested elements inside the method's root element."""
    root = {"PROPFIND": "propfind", "REPORT": "calendar-multiget", "PROPPATCH": "propertyupdate",
            "MKCALENDAR": "mkcalendar", "MKCOL": "mkcol"}[method]
    return (f'<?xml version="1.0" encoding="utf-8"?><D:{root} xmlns:D="DAV:">'.encode()
            + b"<D:x>" * depth + b"</D:x>" * depth + f"</D:{root}>".encode())


def ics_with_timezone(uid: str, observances: list[str], tzid: str = "Zona Uji") -> str:
    """An event in a VTIMEZONE made of the given STANDARD/DAYLIGHT blocks (RFC 5545 §3.6.5)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//tests//ID",
             "BEGIN:VTIMEZONE", f"TZID:{tzid}", *observances, "END:VTIMEZONE",
             "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20300101T000000Z",
             f"DTSTART;TZID={tzid}:20301203T090000", f"DTEND;TZID={tzid}:20301203T100000",
             "SUMMARY:Rapat Zona Waktu", "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines)


def observance(start: str, rrule: str | None, kind: str = "STANDARD",
               offset: str = "+0700") -> list[str]:
    """One observance block."""
    block = [f"BEGIN:{kind}", f"DTSTART:{start}", f"TZOFFSETFROM:{offset}",
             f"TZOFFSETTO:{offset}"]
    return [*block, *([f"RRULE:{rrule}"] if rrule else []), f"END:{kind}"]


def folded(name: str, size: int) -> str:
    """A property of about ``size`` characters folded at 75 octets (RFC 5545 §3.1)."""
    text = f"{name}:" + "a" * size
    return "\r\n ".join(text[i:i + 74] for i in range(0, len(text), 74))


def uid() -> str:
    """A fresh UID."""
    return f"gate-{uuid.uuid4().hex}"


# -- servers ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """A real ``kalender serve`` with the shipped limits (killed at teardown if it hangs)."""
    server = ServeProcess(make_deployment(tmp_path_factory.mktemp("gate") / "kediri"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment with small limits, set the documented way (config options)."""
    dep = make_deployment(tmp_path_factory.mktemp("gate-small") / "kediri")
    text = dep.config.read_text("utf-8")
    text = text.replace("max_content_length = 20000000",
                        "max_content_length = 1000000\nmax_resource_size = 100000")
    text = text.replace("kalender_dir = ", "kalender_max_components = 50\n"
                        "kalender_max_xml_depth = 16\nkalender_dir = ")
    dep.config.write_text(text, "utf-8")
    yield from serve_in_thread(dep)


def alive(url: str) -> None:
    """The server answers another user's ordinary request."""
    r = requests.request("PROPFIND", url + "/opd/dinsos/", auth=("pic-y", PASSWORD),
                         headers={"Depth": "0"}, timeout=TIMEOUT)
    assert r.status_code == 207


def put(url: str, path: str, text: str, login: str = "pic-x") -> requests.Response:
    """PUT iCalendar text."""
    return requests.put(url + path, data=text.encode("utf-8"), auth=(login, PASSWORD),
                        headers={"Content-Type": "text/calendar; charset=utf-8"},
                        timeout=TIMEOUT)


# -- item 1: XML nesting ------------------------------------------------------------
XML_TARGETS = {"PROPFIND": ("pic-x", "/opd/dinkes/"), "REPORT": ("pic-x", "/opd/dinkes/"),
               "PROPPATCH": ("pic-x", "/opd/dinkes/"),
               "MKCALENDAR": ("admin-a", "/opd/gate-baru/"),
               "MKCOL": ("admin-a", "/opd/gate-baru/")}


@pytest.mark.parametrize("method", list(XML_TARGETS))
def test_deep_xml_is_refused_and_the_process_lives(proc: ServeProcess, method: str) -> None:
    """200,000 nested elements (1.2 MB) crashed the process in _elementtree: now a 400."""
    login, path = XML_TARGETS[method]
    before = calendar_files(proc.dep)
    r = requests.request(method, proc.url + path, data=nested(200_000, method),
                         auth=(login, PASSWORD), headers={"Depth": "0"}, timeout=TIMEOUT)
    assert r.status_code == 400, r.text[:300]
    condition, message = dav_error(r)
    assert condition == "valid-xml" and "64 tingkat" in message
    assert proc.proc.poll() is None, "kalender serve died"
    alive(proc.url)
    assert calendar_files(proc.dep) == before
    assert not (proc.dep.collections / "collection-root" / "opd" / "gate-baru").exists()


def test_many_xml_elements_are_refused(proc: ServeProcess) -> None:
    """A flat body of 30,000 elements passes the depth bound but not the element count."""
    body = (b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>'
            + b"<D:getetag/>" * 30_000 + b"</D:prop></D:propfind>")
    r = requests.request("PROPFIND", proc.url + "/opd/dinkes/", data=body,
                         auth=("pic-x", PASSWORD), headers={"Depth": "0"}, timeout=TIMEOUT)
    assert r.status_code == 400
    condition, message = dav_error(r)
    assert condition == "valid-xml" and "20.000 elemen" in message
    alive(proc.url)


def test_xml_body_is_judged_only_after_login(proc: ServeProcess) -> None:
    """Wrong credentials get 401 before the body is read; a DTD body then gets a DAV:error."""
    bomb = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<D:propfind xmlns:D="DAV:"><D:prop>&b;</D:prop></D:propfind>')
    for body in (bomb, nested(200_000, "PROPFIND")):
        wrong = requests.request("PROPFIND", proc.url + "/opd/dinkes/", data=body,
                                 auth=("pic-x", "salah-sandi"), headers={"Depth": "0"},
                                 timeout=TIMEOUT)
        assert wrong.status_code == 401
    r = requests.request("PROPFIND", proc.url + "/opd/dinkes/", data=bomb,
                         auth=("pic-x", PASSWORD), headers={"Depth": "0"}, timeout=TIMEOUT)
    assert r.status_code == 400
    condition, message = dav_error(r)
    assert condition == "valid-xml" and "DTD" in message
    ok = requests.request("PROPFIND", proc.url + "/opd/dinkes/", auth=("pic-x", PASSWORD),
                          data=b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>'
                               b'<D:displayname/></D:prop></D:propfind>',
                          headers={"Depth": "0"}, timeout=TIMEOUT)
    assert ok.status_code == 207


def test_xml_depth_is_configurable(small: LiveServer) -> None:
    """``[storage] kalender_max_xml_depth = 16``: 20 levels are refused, 10 pass."""
    def propfind(depth: int) -> requests.Response:
        return small.request("pic-x", "PROPFIND", "/opd/dinkes/", headers={"Depth": "0"},
                             data=nested(depth, "PROPFIND"))
    assert propfind(10).status_code == 207
    r = propfind(20)
    assert r.status_code == 400 and "16 tingkat" in dav_error(r)[1]


# -- item 6: VTIMEZONE bombs ----------------------------------------------------------
BOMBS = {
    # the case: never answered, 0.8-1.2 GB and growing
    "daily-from-year-1": [line for i in range(20) for line in
                          observance(f"00010101T0{i % 10}0000", "FREQ=DAILY")],
    "monthly": [*observance("20000101T000000", "FREQ=MONTHLY"),
                *observance("20000101T010000", "FREQ=YEARLY", "DAYLIGHT")],
    "yearly-before-1600": [*observance("15000301T020000", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"),
                           *observance("15001001T020000", "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
                                       "DAYLIGHT", "+0800")],
    # yearly, but 1,440 transitions a year for 400 years
    "yearly-every-minute": [
        *observance("17000101T000000", "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=1;BYHOUR="
                    + ",".join(map(str, range(24))) + ";BYMINUTE="
                    + ",".join(map(str, range(60)))),
        *observance("17000601T000000", "FREQ=YEARLY;BYMONTH=6", "DAYLIGHT", "+0800")],
    # 60 observances recurring yearly since 1600 (a few seconds in vobject)
    "many-observances": [line for i in range(60) for line in observance(
        f"1600{i % 12 + 1:02d}01T0{i % 10}0000", f"FREQ=YEARLY;BYMONTH={i % 12 + 1}",
        ("STANDARD", "DAYLIGHT")[i % 2], ("+0700", "+0800")[i % 2])],
}


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_vtimezone_bomb_is_refused_before_parsing(proc: ServeProcess, bomb: str) -> None:
    """Observances that make dateutil walk unbounded transitions: a 400, nothing written."""
    before = calendar_files(proc.dep)
    event = uid()
    r = put(proc.url, f"/opd/dinkes/{event}.ics", ics_with_timezone(event, BOMBS[bomb]))
    assert r.status_code == 400, r.text[:300]
    condition, message = dav_error(r)
    assert condition == "valid-timezone" and ("Zona Uji" in message or "VTIMEZONE" in message)
    assert proc.proc.poll() is None
    alive(proc.url)
    assert calendar_files(proc.dep) == before
    verify_clean(proc.dep)


def test_vtimezone_bomb_in_an_import_is_refused(proc: ServeProcess) -> None:
    """A whole-calendar PUT (an admin's import) with the bomb: refused, the calendar kept."""
    before = calendar_files(proc.dep)
    text = ics_with_timezone(uid(), BOMBS["daily-from-year-1"])
    r = put(proc.url, "/opd/dinkes/", text, login="admin-a")
    assert r.status_code == 400 and dav_error(r)[0] == "valid-timezone"
    assert calendar_files(proc.dep) == before
    verify_clean(proc.dep)


def test_real_world_vtimezones_pass(proc: ServeProcess) -> None:
    """Outlook's (yearly rules from 1601) and a tzurl-style history (no rules) are stored."""
    outlook = [*observance("16010101T000000", "FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"),
               *observance("16010101T000000", "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU", "DAYLIGHT",
                           "+0800")]
    history = [line for start, offset in (("19240101T000000", "+0720"),
                                          ("19320101T000000", "+0730"),
                                          ("19420323T000000", "+0900"),
                                          ("19640101T000000", "+0700"))
               for line in observance(start, None, offset=offset)]
    for blocks in (outlook, history):
        event = uid()
        assert put(proc.url, f"/opd/dinkes/{event}.ics",
                   ics_with_timezone(event, blocks)).status_code == 201
    verify_clean(proc.dep)


# -- item 4: sizes -------------------------------------------------------------------
def test_content_length_over_the_limit_is_refused_before_the_body(small: LiveServer) -> None:
    """Only the headers are sent: the 413 comes from the Content-Length alone."""
    before = calendar_files(small.dep)
    head = (f"PUT /opd/dinkes/besar.ics HTTP/1.1\r\nHost: x\r\nAuthorization: "
            f"{auth_header('pic-x')}\r\nContent-Type: text/calendar\r\n"
            "Content-Length: 50000000\r\n\r\n")
    status, reason, headers, body = exchange(small.url, head)
    assert (status, reason) == (413, "Data Terlalu Besar")
    condition, message = dav_error((status, reason, headers, body))
    assert condition == "max-request-size" and "1.000.000 byte" in message
    alive(small.url)
    assert calendar_files(small.dep) == before


def test_chunked_body_over_the_limit_is_refused_while_reading(small: LiveServer) -> None:
    """A chunked body (no Content-Length) is cut off at the limit, never handed on whole."""
    before = calendar_files(small.dep)
    head = (f"PUT /opd/dinkes/chunked.ics HTTP/1.1\r\nHost: x\r\nAuthorization: "
            f"{auth_header('pic-x')}\r\nContent-Type: text/calendar\r\n"
            "Transfer-Encoding: chunked\r\n\r\n")
    piece = b"X-PAD:" + b"a" * 65_000 + b"\r\n"
    chunks = (f"{len(piece):x}\r\n".encode() + piece + b"\r\n" for _ in range(17))
    status, _, headers, body = exchange(small.url, head, chunks)
    assert status == 413
    assert dav_error((status, "", headers, body))[0] == "max-request-size"
    alive(small.url)
    assert calendar_files(small.dep) == before


def test_item_over_the_resource_size_is_refused_before_parsing(small: LiveServer) -> None:
    """``[server] max_resource_size = 100000``: a 150 KB event gets 413 (it was 412 after
    parsing), in a single PUT and in an import."""
    before = calendar_files(small.dep)
    event = uid()
    big = event_ics(event, extra=folded("DESCRIPTION", 150_000))
    r = put(small.url, f"/opd/dinkes/{event}.ics", big)
    assert r.status_code == 413  # by its Content-Length, before a byte of it is read
    condition, message = dav_error(r)
    assert condition == "max-resource-size" and "100.000 byte" in message
    # an event file under an unusual name is sized while it is read, and named
    r = put(small.url, f"/opd/dinkes/{event}", big)
    assert r.status_code == 413
    condition, message = dav_error(r)
    assert condition == "max-resource-size" and event in message and "100.000 byte" in message
    calendar = big.replace("END:VCALENDAR\r\n", "") + "\r\n".join(
        event_ics(uid()).splitlines()[3:]) + "\r\n"
    r = put(small.url, "/opd/dinkes/", calendar, login="admin-a")
    assert r.status_code == 413 and dav_error(r)[0] == "max-resource-size"
    alive(small.url)
    assert calendar_files(small.dep) == before
    verify_clean(small.dep)


def test_component_count_is_configurable(small: LiveServer) -> None:
    """``kalender_max_components = 50``: an import of 60 events is refused, of 20 stored."""
    def calendar(count: int) -> str:
        events = [line for _ in range(count) for line in event_ics(uid()).splitlines()[3:-1]]
        return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//ID", *events,
                            "END:VCALENDAR", ""])
    before = calendar_files(small.dep, "diskominfo")
    r = put(small.url, "/opd/diskominfo/", calendar(60), login="admin-a")
    assert r.status_code == 400
    condition, message = dav_error(r)
    assert condition == "calendar-limits" and "50 komponen" in message
    assert calendar_files(small.dep, "diskominfo") == before
    assert put(small.url, "/opd/diskominfo/", calendar(20), login="admin-a").status_code == 201
    verify_clean(small.dep)


@pytest.mark.parametrize("extra, words", [
    ("\r\n".join(f"X-KALENDER-{i}:nilai" for i in range(2_500)), "2.000 properti"),
    ("DESCRIPTION:" + "b" * 1_200_000, "1.000.000 karakter"),
])
def test_calendar_shape_limits(proc: ServeProcess, extra: str, words: str) -> None:
    """Thousands of properties in one event, a 1.2 MB unfolded line: refused with a sentence."""
    before = calendar_files(proc.dep)
    event = uid()
    r = put(proc.url, f"/opd/dinkes/{event}.ics", event_ics(event, extra=extra))
    assert r.status_code == 400
    condition, message = dav_error(r)
    assert condition == "calendar-limits" and words in message
    assert calendar_files(proc.dep) == before


@pytest.mark.parametrize("spoil, words", [
    (lambda b: b.replace(b"Rapat Koordinasi", b"Rapat \xff\xfe\xc3("), "UTF-8"),
    (lambda b: b.replace(b"SUMMARY:Rapat", b"SUMMARY:Ra\x00pat"), "0x00"),
    # a bare CR would make vobject read an injected line (here: the privacy class)
    (lambda b: b.replace(b"SUMMARY:Rapat Koordinasi", b"SUMMARY:Rapat\rCLASS:PUBLIC"), "0x0D"),
])
def test_calendar_text_must_be_utf8_without_control_characters(
        proc: ServeProcess, spoil: Callable[[bytes], bytes], words: str) -> None:
    """Radicale silently re-decodes bad UTF-8 as latin-1 and drops control characters."""
    before = calendar_files(proc.dep)
    event = uid()
    r = requests.put(proc.url + f"/opd/dinkes/{event}.ics", auth=("pic-x", PASSWORD),
                     data=spoil(event_ics(event).encode()),
                     headers={"Content-Type": "text/calendar"}, timeout=TIMEOUT)
    assert r.status_code == 400
    condition, message = dav_error(r)
    assert condition == "valid-calendar-data" and words in message
    assert calendar_files(proc.dep) == before
    latin1 = event_ics(event, location="Ruang Rapat Ä").encode("latin-1")
    r = requests.put(proc.url + f"/opd/dinkes/{event}.ics", auth=("pic-x", PASSWORD),
                     data=latin1, headers={"Content-Type": "text/calendar; charset=iso-8859-1"},
                     timeout=TIMEOUT)
    assert r.status_code == 201  # a declared charset is still honoured
    assert "Ruang Rapat Ä" in requests.get(proc.url + f"/opd/dinkes/{event}.ics",
                                           auth=("pic-x", PASSWORD), timeout=TIMEOUT).text


def test_unknown_charset_is_refused(proc: ServeProcess) -> None:
    """Radicale fails with a 500 on a charset Python does not know; the gate says what to do."""
    event = uid()
    for method, path, data in (("PUT", f"/opd/dinkes/{event}.ics", event_ics(event).encode()),
                               ("PROPFIND", "/opd/dinkes/", nested(2, "PROPFIND"))):
        r = requests.request(method, proc.url + path, data=data, auth=("pic-x", PASSWORD),
                             headers={"Content-Type": "text/calendar; charset=x-tidak-ada",
                                      "Depth": "0"}, timeout=TIMEOUT)
        assert r.status_code == 400 and "x-tidak-ada" in dav_error(r)[1]
    assert f"{event}.ics" not in calendar_files(proc.dep)


def test_xml_that_is_not_utf8_is_refused(proc: ServeProcess) -> None:
    """Without a charset parameter an XML body is UTF-8 unless it says otherwise (RFC 7303)."""
    body = '<D:propfind xmlns:D="DAV:"><D:prop><D:x\xff\xfe/></D:prop></D:propfind>'
    r = requests.request("PROPFIND", proc.url + "/opd/dinkes/", data=body.encode("latin-1"),
                         auth=("pic-x", PASSWORD), headers={"Depth": "0"}, timeout=TIMEOUT)
    assert r.status_code == 400 and dav_error(r)[0] == "valid-xml"
    declared = b'<?xml version="1.0" encoding="iso-8859-1"?>' + body.replace(
        "<D:x\xff\xfe/>", "<D:displayname/>").encode("latin-1")
    assert requests.request("PROPFIND", proc.url + "/opd/dinkes/", data=declared,
                            auth=("pic-x", PASSWORD), headers={"Depth": "0"},
                            timeout=TIMEOUT).status_code == 207


def test_waitress_refusals_carry_a_dav_error(proc: ServeProcess) -> None:
    """Headers over 64 KiB (431) and garbled chunked framing (400) are answered by the app."""
    status, reason, headers, body = exchange(
        proc.url, "GET /publik/agenda/ HTTP/1.1\r\nHost: x\r\nX-Besar: "
        + "a" * 70_000 + "\r\n\r\n")
    assert (status, reason) == (431, "Header Terlalu Besar")
    assert dav_error((status, reason, headers, body))[0] == "max-header-size"
    head = (f"PUT /opd/dinkes/rusak.ics HTTP/1.1\r\nHost: x\r\nAuthorization: "
            f"{auth_header('pic-x')}\r\nTransfer-Encoding: chunked\r\n\r\n")
    status, _, headers, body = exchange(proc.url, head, [b"zz\r\nBEGIN\r\n"])
    assert status == 400
    assert dav_error((status, "", headers, body))[0] == "valid-request"
    alive(proc.url)


# -- item 9: non-ASCII paths ------------------------------------------------------------
@pytest.mark.parametrize("name", ["град.ics", "ä.ics", "Rapat Dinkes 2030 – ruang ü.ics"])
def test_non_ascii_item_names(proc: ServeProcess, name: str) -> None:
    """PUT, GET, PROPFIND, MOVE, DELETE under a UTF-8 name (vdirsyncer's test_specialchars)."""
    event = uid()
    href = "/opd/dinkes/" + urllib.parse.quote(name)
    auth = ("pic-x", PASSWORD)
    assert put(proc.url, href, event_ics(event)).status_code == 201
    folder = proc.dep.collections / "collection-root" / "opd" / "dinkes"
    assert (folder / name).is_file()
    got = requests.get(proc.url + href, auth=auth, timeout=TIMEOUT)
    assert got.status_code == 200 and event in got.text
    listing = requests.request("PROPFIND", proc.url + "/opd/dinkes/", auth=auth,
                               headers={"Depth": "1"}, timeout=TIMEOUT)
    hrefs = {urllib.parse.unquote(h.text or "")
             for h in ET.fromstring(listing.content).iter("{DAV:}href")}
    assert "/opd/dinkes/" + name in hrefs
    one = requests.request("PROPFIND", proc.url + href, auth=auth, headers={"Depth": "0"},
                           timeout=TIMEOUT)
    assert one.status_code == 207
    moved = "/opd/dinkes/" + urllib.parse.quote("pindah-" + name)
    assert requests.request("MOVE", proc.url + href, auth=auth, timeout=TIMEOUT,
                            headers={"Destination": proc.url + moved}).status_code == 201
    assert (folder / ("pindah-" + name)).is_file() and not (folder / name).exists()
    assert requests.delete(proc.url + moved, auth=auth, timeout=TIMEOUT).status_code in (200, 204)
    assert not (folder / ("pindah-" + name)).exists()
    assert requests.get(proc.url + href, auth=auth, timeout=TIMEOUT).status_code == 404
    verify_clean(proc.dep)


def test_path_that_is_not_utf8_is_refused(proc: ServeProcess) -> None:
    """``%E4`` alone is latin-1, not UTF-8 (RFC 3986 §2.5): a 400, nothing stored."""
    before = calendar_files(proc.dep)
    r = put(proc.url, "/opd/dinkes/%E4.ics", event_ics(uid()))
    assert r.status_code == 400 and dav_error(r)[0] == "valid-path"
    assert calendar_files(proc.dep) == before


def test_limit_options_are_documented() -> None:
    """Every [storage] option the gate reads is described in the shipped config template."""
    from kalender.dav import gate

    template = (Path(__file__).parents[1] / "radicale_config" / "config.template").read_text()
    for option in gate.OPTIONS:
        assert f"#{option} = " in template


def test_writes_pass_the_queued_readers() -> None:
    """waitress's queue with writes first (issue 12: a PIC's PUT never waits behind GETs)."""
    from types import SimpleNamespace

    from kalender.dav.gate import WritersFirst

    dispatcher = WritersFirst()  # no threads: the queue keeps what is added, in order
    for method in ("GET", "PROPFIND", "PUT", "REPORT", "post", "GET"):
        dispatcher.add_task(SimpleNamespace(name=method, request=SimpleNamespace(command=method)))
    dispatcher.add_task(SimpleNamespace(name="refusal", request=None))  # waitress's own errors
    assert [t.name for t in dispatcher.queue] == ["PUT", "post", "GET", "PROPFIND", "REPORT",
                                                  "GET", "refusal"]
