"""Per-user calendar properties (issue 7, item 15): PROPPATCH as real clients send it.

Bodies are the ones macOS Calendar, iOS and Evolution send (Apple's namespace
http://apple.com/ns/ical/, default alarms of draft-daboo-valarm-extensions in the
CalDAV namespace). Each change is checked with a PROPFIND as the user who made it
and as someone else, and against the calendar's shared ``.Radicale.props``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from kalender import audit
from tests.conftest import LiveServer, event_ics, make_deployment, serve_in_thread

D, C, A = "{DAV:}", "{urn:ietf:params:xml:ns:caldav}", "{http://apple.com/ns/ical/}"
K = "{urn:x-kalender-opd:}"
VENUE, PERSON = "/ruang/ruang-joyoboyo/", "/orang/wali-kota/"

# macOS Calendar: the list order it sends on its own after discovery.
MACOS_ORDER = """<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:">
  <A:set>
    <A:prop>
      <B:calendar-order xmlns:B="http://apple.com/ns/ical/">{order}</B:calendar-order>
    </A:prop>
  </A:set>
</A:propertyupdate>
"""
# macOS Calendar: Rename... (name and colour in one PROPPATCH).
MACOS_RENAME = """<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:">
  <A:set>
    <A:prop>
      <B:calendar-color xmlns:B="http://apple.com/ns/ical/" \
symbolic-color="custom">{color}</B:calendar-color>
      <A:displayname>{name}</A:displayname>
    </A:prop>
  </A:set>
</A:propertyupdate>
"""
# macOS Calendar, Settings > Accounts: default alerts (on the calendar home or a calendar).
MACOS_ALARMS = """<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:">
  <A:set>
    <A:prop>
      <B:default-alarm-vevent-datetime xmlns:B="urn:ietf:params:xml:ns:caldav">BEGIN:VALARM&#13;
X-WR-ALARMUID:2A6E6A9E-5B7E-4E57-9D0B-6F0C1A3D4E21&#13;
UID:2A6E6A9E-5B7E-4E57-9D0B-6F0C1A3D4E21&#13;
TRIGGER:-PT30M&#13;
ATTACH;VALUE=URI:Chord&#13;
ACTION:AUDIO&#13;
END:VALARM&#13;
</B:default-alarm-vevent-datetime>
      <B:default-alarm-vevent-date xmlns:B="urn:ietf:params:xml:ns:caldav">BEGIN:VALARM&#13;
X-WR-ALARMUID:8F1B2C3D-4E5F-4A6B-9C7D-0E1F2A3B4C5D&#13;
UID:8F1B2C3D-4E5F-4A6B-9C7D-0E1F2A3B4C5D&#13;
TRIGGER;VALUE=DURATION:-PT15H&#13;
ATTACH;VALUE=URI:Chord&#13;
ACTION:AUDIO&#13;
END:VALARM&#13;
</B:default-alarm-vevent-date>
    </A:prop>
  </A:set>
</A:propertyupdate>
"""
# iOS Calendar: colour change of a subscribed/read-only calendar (colour and order).
IOS_COLOUR = """<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:">
  <A:set>
    <A:prop>
      <B:calendar-color xmlns:B="http://apple.com/ns/ical/" \
symbolic-color="purple">#CC73E1FF</B:calendar-color>
      <B:calendar-order xmlns:B="http://apple.com/ns/ical/">3</B:calendar-order>
    </A:prop>
  </A:set>
</A:propertyupdate>
"""
# Evolution's calendar editor (EWebDAVSession): one set/remove per property, always
# name, colour, order and description together; an empty description is removed.
EVOLUTION = """<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" \
xmlns:IC="http://apple.com/ns/ical/">
<D:set><D:prop><D:displayname>{name}</D:displayname></D:prop></D:set>
<D:set><D:prop><IC:calendar-color>#3465a4</IC:calendar-color></D:prop></D:set>
<D:set><D:prop><IC:calendar-order>5</IC:calendar-order></D:prop></D:set>
{description}
</D:propertyupdate>
"""
EVOLUTION_DESCRIPTION = ("<D:set><D:prop><C:calendar-description>{}</C:calendar-description>"
                         "</D:prop></D:set>")
EVOLUTION_NO_DESCRIPTION = ("<D:remove><D:prop><C:calendar-description/></D:prop>"
                            "</D:remove>")
# A property with server meaning next to a cosmetic one (macOS sends the time zone
# when it creates a calendar; here to an existing one).
WITH_TIMEZONE = """<?xml version="1.0" encoding="UTF-8"?>
<A:propertyupdate xmlns:A="DAV:">
  <A:set>
    <A:prop>
      <A:displayname>Nama Baru</A:displayname>
      <C:calendar-timezone xmlns:C="urn:ietf:params:xml:ns:caldav">BEGIN:VCALENDAR&#13;
VERSION:2.0&#13;
BEGIN:VTIMEZONE&#13;
TZID:Asia/Jakarta&#13;
BEGIN:STANDARD&#13;
DTSTART:19700101T000000&#13;
TZOFFSETFROM:+0700&#13;
TZOFFSETTO:+0700&#13;
END:STANDARD&#13;
END:VTIMEZONE&#13;
END:VCALENDAR&#13;
</C:calendar-timezone>
      <B:calendar-color xmlns:B="http://apple.com/ns/ical/">#FF2968FF</B:calendar-color>
    </A:prop>
  </A:set>
</A:propertyupdate>
"""
COMPONENTS = """<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:set><D:prop><C:supported-calendar-component-set><C:comp name="VTODO"/>
</C:supported-calendar-component-set></D:prop></D:set>
<D:set><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop></D:set>
<D:set><D:prop><D:displayname>Tugas</D:displayname></D:prop></D:set>
</D:propertyupdate>
"""
PROPS = (f"{D}displayname", f"{A}calendar-color", f"{A}calendar-order",
         f"{C}calendar-description", f"{C}default-alarm-vevent-datetime",
         f"{C}default-alarm-vevent-date", "{http://calendarserver.org/ns/}getctag")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own (per-user values must not leak into other modules)."""
    dep = make_deployment(tmp_path_factory.mktemp("props") / "kediri")
    yield from serve_in_thread(dep)


@pytest.fixture(scope="module", autouse=True)
def venue_and_person(srv: LiveServer) -> None:
    """A venue and a person calendar, as the sync service makes them (MKCALENDAR)."""
    for path in (VENUE, PERSON):
        assert srv.request("admin-a", "MKCALENDAR", path).status_code == 201


def proppatch(srv: LiveServer, login: str | None, path: str, body: str) -> ET.Element:
    """PROPPATCH ``body``; the parsed 207 answer."""
    r = srv.request(login, "PROPPATCH", path, data=body.encode("utf-8"),
                    headers={"Content-Type": "text/xml; charset=utf-8"})
    assert r.status_code == 207, (r.status_code, r.text)
    return ET.fromstring(r.content)


def children(propstat: ET.Element) -> list[ET.Element]:
    """The properties inside a propstat's DAV:prop."""
    prop = propstat.find(f"{D}prop")
    return list(prop) if prop is not None else []


def statuses(answer: ET.Element) -> dict[str, int]:
    """Property tag -> its status code in a PROPPATCH multistatus."""
    out: dict[str, int] = {}
    for propstat in answer.iter(f"{D}propstat"):
        code = int((propstat.findtext(f"{D}status") or "").split()[1])
        for prop in children(propstat):
            out[prop.tag] = code
    return out


def seen(srv: LiveServer, login: str, path: str, depth: str = "0"
         ) -> dict[str, dict[str, str | None]]:
    """href -> property -> value (None: 404) in ``login``'s PROPFIND of ``path``."""
    body = ('<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>'
            + "".join(f"<{t.split('}')[1]} xmlns=\"{t[1:].split('}')[0]}\"/>" for t in PROPS)
            + "</D:prop></D:propfind>")
    r = srv.request(login, "PROPFIND", path, data=body, headers={"Depth": depth})
    assert r.status_code == 207, r.text
    out: dict[str, dict[str, str | None]] = {}
    for response in ET.fromstring(r.content).iter(f"{D}response"):
        values: dict[str, str | None] = {}
        for propstat in response.iter(f"{D}propstat"):
            ok = " 200 " in (propstat.findtext(f"{D}status") or "")
            for prop in children(propstat):
                values[prop.tag] = (prop.text or "") if ok else None
        out[response.findtext(f"{D}href") or ""] = values
    return out


def one(srv: LiveServer, login: str, path: str) -> dict[str, str | None]:
    """Property values of ``path`` itself as ``login`` sees them."""
    return seen(srv, login, path)[path]


def props_file(srv: LiveServer, path: str) -> Path:
    """The shared .Radicale.props of a collection."""
    return srv.dep.collections / "collection-root" / path.strip("/") / ".Radicale.props"


def audit_count(srv: LiveServer) -> int:
    """Rows in the audit trail."""
    return sum(1 for _ in audit.entries(srv.dep.database))


def test_macos_calendar_order_is_the_users_own(srv: LiveServer) -> None:
    """macOS's unasked calendar-order: 207 for the PIC, stored for them alone."""
    shared = props_file(srv, "/opd/dinkes/").read_bytes()
    rows = audit_count(srv)
    ctag_before = one(srv, "pimpinan-a", "/opd/dinkes/")["{http://calendarserver.org/ns/}getctag"]
    answer = proppatch(srv, "pic-x", "/opd/dinkes/", MACOS_ORDER.format(order=7))
    assert statuses(answer) == {f"{A}calendar-order": 200}
    assert one(srv, "pic-x", "/opd/dinkes/")[f"{A}calendar-order"] == "7"
    for other in ("pic-xz", "pimpinan-a", "admin-a"):  # same OPD's other PIC too
        assert one(srv, other, "/opd/dinkes/")[f"{A}calendar-order"] is None
    # nothing shared changed: the props file, the audit trail, the others' ctag
    assert props_file(srv, "/opd/dinkes/").read_bytes() == shared
    assert audit_count(srv) == rows
    assert one(srv, "pimpinan-a", "/opd/dinkes/")[
        "{http://calendarserver.org/ns/}getctag"] == ctag_before
    # macOS sends it again later: still fine
    proppatch(srv, "pic-x", "/opd/dinkes/", MACOS_ORDER.format(order=2))
    assert one(srv, "pic-x", "/opd/dinkes/")[f"{A}calendar-order"] == "2"


def test_macos_rename_is_the_users_own(srv: LiveServer) -> None:
    """A PIC renames and recolours their OPD calendar; everyone else keeps the official one."""
    official = one(srv, "pimpinan-a", "/opd/dinkes/")
    answer = proppatch(srv, "pic-x", "/opd/dinkes/",
                       MACOS_RENAME.format(color="#1BADF8FF", name="Kantor Saya"))
    assert set(statuses(answer).values()) == {200}
    mine = one(srv, "pic-x", "/opd/dinkes/")
    assert (mine[f"{D}displayname"], mine[f"{A}calendar-color"]) == ("Kantor Saya", "#1BADF8FF")
    for other in ("pic-xz", "pimpinan-a"):
        theirs = one(srv, other, "/opd/dinkes/")
        assert theirs[f"{D}displayname"] == official[f"{D}displayname"] != "Kantor Saya"
        assert theirs[f"{A}calendar-color"] == official[f"{A}calendar-color"]
    # the home listing macOS reads (Depth 1) shows the user's own name
    listing = seen(srv, "pic-x", "/pic-x/", depth="1")
    assert listing["/opd/dinkes/"][f"{D}displayname"] == "Kantor Saya"
    assert seen(srv, "pic-xz", "/pic-xz/", depth="1")["/opd/dinkes/"][
        f"{D}displayname"] == official[f"{D}displayname"]


def test_default_alarms_on_home_and_calendar(srv: LiveServer) -> None:
    """macOS default alerts, on the calendar home and on a read-only calendar."""
    for path in ("/pic-y/", "/publik/agenda/"):
        answer = proppatch(srv, "pic-y", path, MACOS_ALARMS)
        assert statuses(answer) == {f"{C}default-alarm-vevent-datetime": 200,
                                    f"{C}default-alarm-vevent-date": 200}
        mine = one(srv, "pic-y", path)
        assert "TRIGGER:-PT30M" in (mine[f"{C}default-alarm-vevent-datetime"] or "")
        assert "TRIGGER;VALUE=DURATION:-PT15H" in (mine[f"{C}default-alarm-vevent-date"] or "")
    assert one(srv, "pic-x", "/publik/agenda/")[f"{C}default-alarm-vevent-datetime"] is None


@pytest.mark.parametrize(("login", "path"), [
    ("pic-x", "/publik/agenda/"), ("pimpinan-a", "/opd/dinsos/"),
    ("pimpinan-a", "/pimpinan/agenda/"), ("pic-y", VENUE), ("pimpinan-a", PERSON),
    ("sync-a", "/opd/dinkes/"),
])
def test_ios_colour_on_read_only_calendar(srv: LiveServer, login: str, path: str) -> None:
    """iOS PROPPATCHes read-only calendars too: kept for that user, read-only stays read-only."""
    shared = props_file(srv, path).read_bytes()
    answer = proppatch(srv, login, path, IOS_COLOUR)
    assert set(statuses(answer).values()) == {200}
    mine = one(srv, login, path)
    assert (mine[f"{A}calendar-color"], mine[f"{A}calendar-order"]) == ("#CC73E1FF", "3")
    assert one(srv, "admin-a", path)[f"{A}calendar-color"] != "#CC73E1FF"
    assert props_file(srv, path).read_bytes() == shared
    # still not writable: no event may be put there
    uid = str(uuid.uuid4())
    r = srv.request(login, "PUT", f"{path}{uid}.ics", data=event_ics(uid),
                    headers={"Content-Type": "text/calendar"})
    assert r.status_code == 403


def test_evolution_editor(srv: LiveServer) -> None:
    """Evolution sends name, colour, order and description together; a removal is per user."""
    official = one(srv, "pic-y", "/opd/dinsos/")
    assert official[f"{C}calendar-description"]
    body = EVOLUTION.format(name="Dinsos (pimpinan)",
                            description=EVOLUTION_DESCRIPTION.format("Catatan saya"))
    assert set(statuses(proppatch(srv, "pimpinan-a", "/opd/dinsos/", body)).values()) == {200}
    mine = one(srv, "pimpinan-a", "/opd/dinsos/")
    assert (mine[f"{D}displayname"], mine[f"{A}calendar-color"], mine[f"{A}calendar-order"],
            mine[f"{C}calendar-description"]) == ("Dinsos (pimpinan)", "#3465a4", "5",
                                                  "Catatan saya")
    assert one(srv, "pic-y", "/opd/dinsos/") == official
    # the same editor with the description emptied: gone for this user, kept for others
    body = EVOLUTION.format(name="Dinsos (pimpinan)", description=EVOLUTION_NO_DESCRIPTION)
    assert set(statuses(proppatch(srv, "pimpinan-a", "/opd/dinsos/", body)).values()) == {200}
    assert one(srv, "pimpinan-a", "/opd/dinsos/")[f"{C}calendar-description"] is None
    assert one(srv, "pic-y", "/opd/dinsos/")[f"{C}calendar-description"] == official[
        f"{C}calendar-description"]


def test_server_property_gets_403_and_the_rest_424(srv: LiveServer) -> None:
    """RFC 4918 §9.2: one refused property, 403 with a reason; the others 424; nothing kept."""
    before = one(srv, "pic-xz", "/opd/diskominfo/")
    shared = props_file(srv, "/opd/diskominfo/").read_bytes()
    answer = proppatch(srv, "pic-xz", "/opd/diskominfo/", WITH_TIMEZONE)
    assert statuses(answer) == {f"{D}displayname": 424, f"{C}calendar-timezone": 403,
                                f"{A}calendar-color": 424}
    refused = next(p for p in answer.iter(f"{D}propstat")
                   if " 403 " in (p.findtext(f"{D}status") or ""))
    error = refused.find(f"{D}error")
    assert error is not None and error.find(f"{K}need-privileges") is not None
    assert "hanya dapat diubah admin" in (error.findtext(f"{K}message") or "")
    assert one(srv, "pic-xz", "/opd/diskominfo/") == before
    assert props_file(srv, "/opd/diskominfo/").read_bytes() == shared


def test_components_and_resourcetype_refused_on_read_only(srv: LiveServer) -> None:
    """supported-calendar-component-set and resourcetype have server meaning: 403, rest 424."""
    answer = proppatch(srv, "pic-x", "/publik/agenda/", COMPONENTS)
    assert statuses(answer) == {f"{C}supported-calendar-component-set": 403,
                                f"{D}resourcetype": 403, f"{D}displayname": 424}
    assert one(srv, "pic-x", "/publik/agenda/")[f"{D}displayname"] != "Tugas"


def test_too_long_value(srv: LiveServer) -> None:
    """A value past the limit is 507 (RFC 4918 §9.2.1) and nothing else is kept."""
    body = MACOS_RENAME.format(color="#000000FF", name="x" * 10_001)
    assert statuses(proppatch(srv, "pic-y", "/opd/dinsos/", body)) == {
        f"{A}calendar-color": 424, f"{D}displayname": 507}
    assert one(srv, "pic-y", "/opd/dinsos/")[f"{A}calendar-color"] != "#000000FF"


def test_rights_unchanged(srv: LiveServer) -> None:
    """Who cannot read a calendar still cannot PROPPATCH it; anonymous must log in."""
    body = MACOS_ORDER.format(order=1)
    for login, path in (("pic-x", "/opd/dinsos/"), ("pic-x", "/pimpinan/agenda/"),
                        ("pic-x", PERSON), ("pic-x", "/opd/nosuch/"), ("pic-x", "/pic-y/")):
        r = srv.request(login, "PROPPATCH", path, data=body)
        assert r.status_code == 403, (login, path, r.status_code)
    r = srv.request("pimpinan-a", "PROPPATCH", "/opd/nosuch/", data=body)
    assert r.status_code == 404 and "tidak ada" in r.text
    r = srv.request(None, "PROPPATCH", "/publik/agenda/", data=body)
    assert r.status_code == 401
    r = srv.request("pic-x", "PROPPATCH", "/opd/dinkes/", data="<D:propfind xmlns:D='DAV:'/>")
    assert r.status_code == 400 and "propertyupdate" in r.text


def test_admin_rename_is_shared_order_is_own(srv: LiveServer) -> None:
    """An admin's rename changes what everyone sees (audited); their list order stays theirs."""
    rows = audit_count(srv)
    body = EVOLUTION.format(name="Diskominfo (uji)", description="")
    answer = proppatch(srv, "admin-a", "/opd/diskominfo/", body)
    assert set(statuses(answer).values()) == {200}
    for login in ("pimpinan-a", "pic-xz", "admin-a"):
        assert one(srv, login, "/opd/diskominfo/")[f"{D}displayname"] == "Diskominfo (uji)"
        assert one(srv, login, "/opd/diskominfo/")[f"{A}calendar-color"] == "#3465a4"
    assert one(srv, "admin-a", "/opd/diskominfo/")[f"{A}calendar-order"] == "5"
    assert one(srv, "pimpinan-a", "/opd/diskominfo/")[f"{A}calendar-order"] is None
    assert "calendar-order" not in props_file(srv, "/opd/diskominfo/").read_text("utf-8")
    assert audit_count(srv) == rows + 1
    # macOS's lone calendar-order from an admin's Mac changes nothing shared, audits nothing
    shared = props_file(srv, "/opd/diskominfo/").read_bytes()
    proppatch(srv, "admin-a", "/opd/diskominfo/", MACOS_ORDER.format(order=9))
    assert one(srv, "admin-a", "/opd/diskominfo/")[f"{A}calendar-order"] == "9"
    assert props_file(srv, "/opd/diskominfo/").read_bytes() == shared
    assert audit_count(srv) == rows + 1
    # an admin may still change a property with server meaning (shared)
    answer = proppatch(srv, "admin-a", "/opd/diskominfo/", WITH_TIMEZONE)
    assert set(statuses(answer).values()) == {200}
    assert "calendar-timezone" in props_file(srv, "/opd/diskominfo/").read_text("utf-8")


def test_removed_account_leaves_no_personal_values(srv: LiveServer) -> None:
    """A login removed and made again sees the official names, not the old account's own."""
    import subprocess
    import sys

    from kalender.admin import cmd_accounts
    from kalender.registry import User
    from tests.conftest import PASSWORD

    official = one(srv, "pimpinan-a", "/publik/agenda/")
    login = f"tamu-{uuid.uuid4().hex[:6]}"
    cmd_accounts.add_user(srv.dep, User(login, "pimpinan"), PASSWORD)
    proppatch(srv, login, "/publik/agenda/", MACOS_RENAME.format(color="#000000FF", name="Lama"))
    assert one(srv, login, "/publik/agenda/")[f"{D}displayname"] == "Lama"
    done = subprocess.run([sys.executable, "-m", "kalender.admin.cli", "user", "remove", login,
                           "--dir", str(srv.dep.root)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    cmd_accounts.add_user(srv.dep, User(login, "pimpinan"), PASSWORD)
    again = one(srv, login, "/publik/agenda/")
    assert again[f"{D}displayname"] == official[f"{D}displayname"] != "Lama"
