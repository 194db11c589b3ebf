"""The rights matrix of issue 2: every role x every collection kind x every method.

Letters: G=GET, P=PROPFIND, R=REPORT, U=PUT (new event), D=DELETE (an event),
M=MOVE (an event inside the collection), A=PROPPATCH (display name; per user
but for the admin),
K=MKCALENDAR (a sibling calendar). A letter present means the request must
succeed (for the admin: must not be refused by rights); absent means it must be
refused: 403 for a logged-in user, 401 with a login prompt for anonymous.
"""

from __future__ import annotations

import uuid

import pytest

from kalender.admin import cmd_accounts
from kalender.registry import User
from kalender_sync.state import Output, State
from tests.conftest import PASSWORD, LiveServer, event_ics

ROLES = ("pic-x", "pic-y", "pimpinan-a", "protokol-a", "admin-a", "sync-a", None)
KINDS = ("own", "other", "public", "leaders", "principal", "root")
METHODS = "GPRUDMAK"

# A (PROPPATCH of the display name) works wherever a user may read a calendar or
# their own home: a non-admin's value is theirs alone (kalender.dav.props).
EXPECTED: dict[str | None, dict[str, str]] = {
    "pic-x": {"own": "GPRUDMA", "other": "", "public": "GPRA", "leaders": "",
              "principal": "PRA", "root": "GPR"},
    "pic-y": {"own": "GPRUDMA", "other": "", "public": "GPRA", "leaders": "",
              "principal": "PRA", "root": "GPR"},
    "pimpinan-a": {"own": "GPRA", "other": "GPRA", "public": "GPRA", "leaders": "GPRA",
                   "principal": "PRA", "root": "GPR"},
    # the protocol office (Prokopim) reads like pimpinan; its approvals write no calendar
    "protokol-a": {"own": "GPRA", "other": "GPRA", "public": "GPRA", "leaders": "GPRA",
                   "principal": "PRA", "root": "GPR"},
    # GET of a home is not defined by CalDAV: Radicale answers 403 to everyone. The
    # output calendars are written by the sync alone, into sync.db (kalender.dav.outputs).
    "admin-a": {**{k: METHODS for k in KINDS}, "principal": METHODS.replace("G", ""),
                "public": "GPRAK", "leaders": "GPRAK"},
    "sync-a": {"own": "GPRA", "other": "GPRA", "public": "GPRA", "leaders": "GPRA",
               "principal": "PRA", "root": "GPR"},
    None: {"own": "", "other": "", "public": "G", "leaders": "", "principal": "", "root": ""},
}
OWN = {"pic-x": "dinkes", "pic-y": "dinsos"}
#: Cells that make no sense: no event lives in a home or the root.
NOT_APPLICABLE = {("principal", "D"), ("principal", "M"), ("root", "D"), ("root", "M"),
                  ("root", "U")}

REPORT_BODY = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter>
  </C:filter>
</C:calendar-query>"""
PROPPATCH_BODY = """<?xml version="1.0" encoding="utf-8"?>
<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>Diganti {}</D:displayname>
</D:prop></D:set></D:propertyupdate>"""


def collection_of(role: str | None, kind: str) -> str:
    """The collection path of ``kind`` as seen by ``role``."""
    own = OWN.get(role or "", "dinkes")
    other = "dinsos" if own == "dinkes" else "dinkes"
    return {"own": f"/opd/{own}/", "other": f"/opd/{other}/", "public": "/publik/agenda/",
            "leaders": "/pimpinan/agenda/", "principal": f"/{role or 'pic-x'}/", "root": "/"}[kind]


def seed(live: LiveServer, collection: str) -> str:
    """An event put into ``collection`` by the admin (or the sync, into an output); its path."""
    path = f"{collection}{uuid.uuid4()}.ics"
    if collection in ("/publik/agenda/", "/pimpinan/agenda/"):
        state = State(live.dep.root / "sync.db")
        try:
            state.apply([Output(collection.strip("/"), path.rsplit("/", 1)[1], "dinkes",
                                "sumber.ics", "k", 0, "20300101T000000Z",
                                event_ics(path.rsplit("/", 1)[1]), 0, 1, True)], 0)
        finally:
            state.close()
        return path
    r = live.request("admin-a", "PUT", path, data=event_ics(path.rsplit("/", 1)[1]),
                     headers={"Content-Type": "text/calendar"})
    assert r.status_code == 201, r.text
    return path


def perform(live: LiveServer, role: str | None, kind: str, method: str) -> int:
    """Do ``method`` on the collection of ``kind`` as ``role``; the HTTP status."""
    col = collection_of(role, kind)
    parent = col.rstrip("/").rsplit("/", 1)[0] + "/"
    new = f"t{uuid.uuid4().hex[:12]}"
    if method == "G":
        return live.request(role, "GET", col).status_code
    if method == "P":
        return live.request(role, "PROPFIND", col, headers={"Depth": "0"}).status_code
    if method == "R":
        return live.request(role, "REPORT", col, data=REPORT_BODY,
                            headers={"Depth": "1", "Content-Type": "application/xml"}).status_code
    if method == "U":
        return live.request(role, "PUT", f"{col}{new}.ics", data=event_ics(new),
                            headers={"Content-Type": "text/calendar"}).status_code
    if method == "D":
        return live.request(role, "DELETE", seed(live, col)).status_code
    if method == "M":
        return live.request(role, "MOVE", seed(live, col),
                            headers={"Destination": f"{live.url}{col}{new}.ics"}).status_code
    if method == "A":
        return live.request(role, "PROPPATCH", col, data=PROPPATCH_BODY.format(new),
                            headers={"Content-Type": "application/xml"}).status_code
    if method == "K":
        return live.request(role, "MKCALENDAR", f"{parent}{new}/").status_code
    raise AssertionError(method)


@pytest.fixture(scope="module", autouse=True)
def protokol_account(live: LiveServer) -> None:
    """The shared deployment's protokol account (added as ``kalender user add`` does)."""
    if all(u.login != "protokol-a" for u in live.dep.users()):
        cmd_accounts.add_user(live.dep, User("protokol-a", "protokol"), PASSWORD)


CELLS = [(role, kind, m) for role in ROLES for kind in KINDS for m in METHODS
         if (kind, m) not in NOT_APPLICABLE]


@pytest.mark.parametrize(("role", "kind", "method"), CELLS,
                         ids=[f"{r or 'anon'}-{k}-{m}" for r, k, m in CELLS])
def test_rights_matrix(live: LiveServer, role: str | None, kind: str, method: str) -> None:
    """One cell of the matrix."""
    status = perform(live, role, kind, method)
    allowed = method in EXPECTED[role][kind]
    if allowed and role == "admin-a":
        assert status not in (401, 403), status
    elif allowed:
        assert 200 <= status < 300, status
    elif role is None:
        assert status == 401, status
    else:
        assert status == 403, status
