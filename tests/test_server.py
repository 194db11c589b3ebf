"""Server behaviour beyond the matrix: discovery, privileges, calendar protection, audit."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import caldav
import pytest

from kalender import audit
from tests.conftest import PASSWORD, LiveServer, event_ics, make_deployment, serve_in_thread

DAV = "{DAV:}"


def discovered(live: LiveServer, login: str) -> list[str]:
    """Calendar paths found by the caldav client from the server root alone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # caldav's own deprecation notices
        with caldav.DAVClient(live.url + "/", username=login, password=PASSWORD) as client:
            return sorted(str(c.url).removeprefix(live.url)
                          for c in client.principal().calendars())


def test_discovery_pic(live: LiveServer) -> None:
    """A PIC discovers their OPD calendars, the public agenda and their Bentrok calendars."""
    assert discovered(live, "pic-xz") == ["/bentrok/dinkes/", "/bentrok/diskominfo/",
                                          "/opd/dinkes/", "/opd/diskominfo/", "/publik/agenda/"]
    assert discovered(live, "pic-y") == ["/bentrok/dinsos/", "/opd/dinsos/", "/publik/agenda/"]


def test_discovery_pimpinan(live: LiveServer) -> None:
    """A pimpinan discovers the leaders' agenda, every OPD calendar and the key persons'."""
    persons = [f"/orang/{p.id}/" for p in live.dep.persons()]
    for path in persons:  # as the sync service makes them (an earlier test may have)
        assert live.request("admin-a", "MKCALENDAR", path).status_code in (201, 409), path
    opds = sorted(o.href for o in live.dep.opds() if not o.archived)
    assert discovered(live, "pimpinan-a") == sorted(["/pimpinan/agenda/", *opds, *persons])
    assert not [c for c in discovered(live, "pic-x") if c.startswith("/orang/")]


def test_well_known_redirect(live: LiveServer) -> None:
    """RFC 6764 §5: /.well-known/caldav leads to the context path."""
    r = live.request("pic-x", "GET", "/.well-known/caldav", allow_redirects=False)
    assert r.status_code == 301 and r.headers["Location"] == "/"


def privileges(live: LiveServer, login: str, path: str) -> set[str]:
    """Privilege names in current-user-privilege-set of ``path`` for ``login``."""
    body = ('<propfind xmlns="DAV:"><prop><current-user-privilege-set/></prop></propfind>')
    r = live.request(login, "PROPFIND", path, data=body, headers={"Depth": "0"})
    assert r.status_code == 207
    root = ET.fromstring(r.content)
    return {p[0].tag.split("}")[1] for p in root.iter(f"{DAV}privilege") if len(p)}


def test_privileges_writable_calendar(live: LiveServer) -> None:
    """A writable calendar advertises DAV:write and its members, never DAV:all (RFC 3744)."""
    privs = privileges(live, "pic-x", "/opd/dinkes/")
    assert {"read", "write", "write-content", "write-properties", "bind", "unbind"} <= privs
    assert "all" not in privs


def test_privileges_read_only(live: LiveServer) -> None:
    """Read-only calendars advertise no write privilege."""
    for login, path in (("pimpinan-a", "/opd/dinkes/"), ("pic-x", "/publik/agenda/")):
        privs = privileges(live, login, path)
        assert "read" in privs
        assert not privs & {"write", "write-content", "bind", "unbind", "all"}


def test_pic_changes_colour_and_name_for_themselves(live: LiveServer) -> None:
    """A PIC's colour and name are theirs alone; a time zone is refused in a 207 (RFC 4918 §9.2).

    (Until issue 7 a PIC could change the shared colour and got a bare 403 for the
    name; kalender.dav.props and tests/test_props.py have the details.)
    """
    colour = ('<propertyupdate xmlns="DAV:" xmlns:I="http://apple.com/ns/ical/"><set><prop>'
              '<I:calendar-color>#336699FF</I:calendar-color></prop></set></propertyupdate>')
    r = live.request("pic-x", "PROPPATCH", "/opd/dinkes/", data=colour)
    assert r.status_code == 207
    name = ('<propertyupdate xmlns="DAV:"><set><prop><displayname>X</displayname></prop>'
            '</set></propertyupdate>')
    r = live.request("pic-x", "PROPPATCH", "/opd/dinkes/", data=name)
    assert r.status_code == 207 and "200 OK" in r.text
    body = '<propfind xmlns="DAV:"><prop><displayname/></prop></propfind>'
    mine = live.request("pic-x", "PROPFIND", "/opd/dinkes/", data=body, headers={"Depth": "0"})
    theirs = live.request("pimpinan-a", "PROPFIND", "/opd/dinkes/", data=body,
                          headers={"Depth": "0"})
    assert "<D:displayname>X</D:displayname>" in mine.text
    assert "<D:displayname>X</D:displayname>" not in theirs.text
    tz = ('<propertyupdate xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><set><prop>'
          '<C:calendar-timezone>BEGIN:VCALENDAR</C:calendar-timezone><displayname>Y</displayname>'
          '</prop></set></propertyupdate>')
    r = live.request("pic-x", "PROPPATCH", "/opd/dinkes/", data=tz)
    assert r.status_code == 207
    assert "403 Forbidden" in r.text and "424 Failed Dependency" in r.text


def test_pic_cannot_delete_or_overwrite_calendar(live: LiveServer) -> None:
    """DELETE of a calendar and a whole-calendar PUT are admin-only."""
    assert live.request("pic-x", "DELETE", "/opd/dinkes/").status_code == 403
    r = live.request("pic-x", "PUT", "/opd/dinkes/", data=event_ics("whole-1"),
                     headers={"Content-Type": "text/calendar"})
    assert r.status_code in (403, 409)
    assert live.request("pic-x", "PROPFIND", "/opd/dinkes/", headers={"Depth": "0"}
                        ).status_code == 207


def put_event(live: LiveServer, login: str, collection: str) -> str:
    """PUT a fresh event; returns its path."""
    uid = str(uuid.uuid4())
    path = f"{collection}{uid}.ics"
    r = live.request(login, "PUT", path, data=event_ics(uid),
                     headers={"Content-Type": "text/calendar"})
    assert r.status_code == 201, r.text
    return path


def test_move_between_own_calendars(live: LiveServer) -> None:
    """A PIC of two OPD moves an event between them; not into a foreign OPD."""
    path = put_event(live, "pic-xz", "/opd/dinkes/")
    dest = live.url + "/opd/diskominfo/" + path.rsplit("/", 1)[1]
    r = live.request("pic-xz", "MOVE", path, headers={"Destination": dest})
    assert r.status_code == 201, r.text
    assert live.request("pic-xz", "GET", dest.removeprefix(live.url)).status_code == 200
    foreign = live.url + "/opd/dinsos/" + path.rsplit("/", 1)[1]
    r = live.request("pic-xz", "MOVE", dest.removeprefix(live.url),
                     headers={"Destination": foreign})
    assert r.status_code == 403


def test_anonymous_gets_login_prompt(live: LiveServer) -> None:
    """Anonymous: public agenda readable, everything else 401 with a Basic challenge."""
    assert live.request(None, "GET", "/publik/agenda/").status_code == 200
    for method, path in (("GET", "/"), ("OPTIONS", "/"), ("PROPFIND", "/publik/agenda/"),
                         ("GET", "/opd/dinkes/"), ("GET", "/pimpinan/agenda/")):
        r = live.request(None, method, path)
        assert r.status_code == 401, (method, path)
        assert r.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_audit_records_actor_and_content(live: LiveServer) -> None:
    """Every accepted change is in the audit trail with the real user and content."""
    path = put_event(live, "pic-x", "/opd/dinkes/")
    assert live.request("pic-x", "DELETE", path).status_code in (200, 204)
    href = path.rsplit("/", 1)[1]
    rows = [e for e in audit.entries(live.dep.database, "dinkes") if e.href == href]
    assert [(e.actor, e.action) for e in rows] == [("pic-x", "create"), ("pic-x", "delete")]
    assert rows[0].after is not None and "Rapat Koordinasi" in rows[0].after
    assert rows[1].before == rows[0].after


@pytest.fixture
def slow_login_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A deployment with Radicale's default 1 s delay after a failed login."""
    dep = make_deployment(tmp_path / "d", {"pic-x": ("pic", ("dinkes",))}, auth_delay=None)
    yield from serve_in_thread(dep)


def test_wrong_password(slow_login_server: LiveServer) -> None:
    """A wrong password answers 401 with the challenge and a sentence; the right one works.

    Radicale's ``[auth] delay`` no longer sleeps in a worker: failed logins are
    throttled instead (tests/test_throttle.py).
    """
    r = slow_login_server.request("pic-x", "PROPFIND", "/opd/dinkes/", password="salah-sekali")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic realm=")
    message = ET.fromstring(r.content).findtext("{urn:x-kalender-opd:}message") or ""
    assert "kata sandi salah" in message
    assert slow_login_server.request("pic-x", "PROPFIND", "/opd/dinkes/").status_code == 207


def test_hostile_requests_get_4xx(live: LiveServer) -> None:
    """Unreadable credentials and XML with entities answer 401/400, never 500."""
    import requests

    for header in ("Basic !!!", "Basic " + "YWJj", "Bearer x", "Basic w7/DvQ=="):
        r = requests.request("OPTIONS", live.url + "/", headers={"Authorization": header},
                             timeout=10)
        assert r.status_code == 401, header
    bomb = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            '<propfind xmlns="DAV:"><prop><displayname>&b;</displayname></prop></propfind>')
    for method in ("PROPFIND", "REPORT", "PROPPATCH"):
        r = live.request("pic-x", method, "/opd/dinkes/", data=bomb, headers={"Depth": "0"})
        assert r.status_code == 400, method
    r = live.request("pic-x", "PROPFIND", "/opd/dinkes/", data="<propfind", headers={"Depth": "0"})
    assert r.status_code == 400
