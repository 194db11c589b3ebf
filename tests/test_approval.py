"""Approval by the protocol office (issue 11, item 3), over a real server, CLI and SMTP.

Off by default; with it on, ``kalender approve`` / ``kalender reject`` decide
for the activity's present time and place; a rejection reaches the PIC (a
Bentrok entry and an e-mail through a real SMTP server); an edit of time after
approval makes it wait again, in the audit trail; the role ``protokol`` reads
every OPD and writes none. (Whether the public feed hides a waiting activity is
tested with the sync, tests/test_pemda_sync.py.)
"""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import time
import uuid
from collections.abc import Iterator

import icalendar
import pytest

from kalender import audit, feedtokens, registry, roles
from kalender.admin import cli
from kalender.notify import board
from kalender.notify.notice import REJECTED_BY_PROTOCOL
from kalender.pemda import approval, approvals, decisions
from kalender.registry import User
from kalender.web.workspace import session
from tests.conftest import (
    KALENDER,
    PASSWORD,
    LiveServer,
    event_ics,
    make_deployment,
    serve_in_thread,
)
from tests.smtp_sink import SmtpServer

ACCOUNTS = {"pic-x": ("pic", ("dinkes",)), "pic-y": ("pic", ("dinsos",)),
            "protokol-a": ("protokol", ()), "pimpinan-a": ("pimpinan", ()),
            "admin-a": ("admin", ())}
PIC_MAIL = "pic-x@dinkes.kedirikota.go.id"
KEY_PERSON = "DESCRIPTION:Narasumber: Wali Kota Kediri"
#: A fresh day per activity: the Wali Kota is never booked twice by these tests.
_DAYS = itertools.count(1)


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[LiveServer]:
    """A deployment with a protokol account, a PIC with an address and mail to the sink."""
    from kalender.notify import mail

    dep = make_deployment(tmp_path_factory.mktemp("approval") / "kediri", ACCOUNTS)
    users = [u if u.login != "pic-x" else dataclasses.replace(u, email=PIC_MAIL)
             for u in dep.users()]
    registry.write_users(dep.users_csv, users, [o.id for o in dep.opds()])
    mail.save(dep.root, mail.Settings("127.0.0.1", smtp.port, "kalender@kedirikota.go.id"))
    yield from serve_in_thread(dep)


def kalender(capsys: pytest.CaptureFixture[str], town: LiveServer, *args: str
             ) -> tuple[int, str, str]:
    """Run one CLI command on the deployment: (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = cli.main([*args, "--dir", str(town.dep.root)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def approval_on(town: LiveServer, capsys: pytest.CaptureFixture[str]) -> LiveServer:
    """Approval switched on (idempotent)."""
    assert kalender(capsys, town, "approval", "on")[0] == 0
    return town


def day() -> str:
    """A date of its own for one activity (from January 2032)."""
    n = next(_DAYS) - 1
    return f"2032{n // 28 + 1:02d}{n % 28 + 1:02d}"


def put(live: LiveServer, uid: str, when: str, start: str = "0900", end: str = "1000",
        summary: str = "Pembukaan Pameran UMKM", location: str = "Ruang Joyoboyo",
        extra: str = KEY_PERSON, opd: str = "dinkes", login: str = "pic-x") -> str:
    """PUT one activity as a PIC; its ETag."""
    body = event_ics(uid, f"{when}T{start}00", f"{when}T{end}00", summary=summary,
                     location=location, extra=extra)
    r = live.request(login, "PUT", f"/opd/{opd}/{uid}.ics", data=body,
                     headers={"Content-Type": "text/calendar"})
    assert r.status_code in (201, 204), r.text
    return r.headers.get("ETag", "")


def stored_state(live: LiveServer, opd: str, uid: str) -> str:
    """The approval state of the stored item, as the sync and the web read it."""
    text = live.request("admin-a", "GET", f"/opd/{opd}/{uid}.ics").text
    return approvals.state(live.dep.database, opd, uid, approval.fingerprint(text))


def bentrok(live: LiveServer, opd: str = "dinkes", login: str = "pic-x"
            ) -> list[icalendar.Event]:
    r = live.request(login, "GET", f"/bentrok/{opd}/")
    assert r.status_code == 200, r.text
    return list(icalendar.Calendar.from_ical(r.text).walk("VEVENT")) if r.text.strip() else []


def wait_bentrok(live: LiveServer, predicate: object, timeout: float = 30
                 ) -> list[icalendar.Event]:
    """The Bentrok entries once ``predicate(entries)`` holds (the notifier writes them)."""
    deadline = time.monotonic() + timeout
    while True:
        found = bentrok(live)
        if predicate(found):  # type: ignore[operator]
            return found
        if time.monotonic() > deadline:
            raise AssertionError([str(e.get("SUMMARY")) for e in found])
        time.sleep(0.2)


def approval_entries(live: LiveServer) -> list[audit.Entry]:
    return list(audit.entries(live.dep.database, action=audit.APPROVAL_ACTION))


# -- the fingerprint (pure) ---------------------------------------------------------------
def test_fingerprint_reads_time_and_place_only() -> None:
    base = event_ics("a", location="Ruang Joyoboyo", extra=KEY_PERSON)
    same = approval.fingerprint(base)
    retitled = base.replace("SUMMARY:Rapat Koordinasi", "SUMMARY:Rapat Lain").replace(
        "DTSTAMP:20300101T000000Z", "DTSTAMP:20300505T000000Z")
    assert approval.fingerprint(retitled) == same
    alarm = base.replace("END:VEVENT", "BEGIN:VALARM\r\nTRIGGER:-PT15M\r\nACTION:DISPLAY\r\n"
                                       "DTSTART:20200101T000000Z\r\nEND:VALARM\r\nEND:VEVENT")
    assert approval.fingerprint(alarm) == same
    folded = base.replace("LOCATION:Ruang Joyoboyo", "LOCATION:Ruang\r\n  Joyoboyo")
    assert approval.fingerprint(folded) == same
    assert approval.fingerprint(base.replace("T090000", "T100000")) != same
    assert approval.fingerprint(base.replace("Joyoboyo", "Kilisuci")) != same
    assert approval.fingerprint(base.replace("END:VEVENT", "STATUS:CANCELLED\r\nEND:VEVENT")
                                ) != same
    assert approval.needs_approval(["wali-kota"]) and not approval.needs_approval([])
    assert approval.LABELS[approval.PENDING] == "Menunggu persetujuan"


# -- off by default -----------------------------------------------------------------------
def test_off_by_default_changes_nothing(town: LiveServer,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert not approvals.enabled(town.dep.database)
    code, out, _ = kalender(capsys, town, "approval")
    assert code == 0 and "tidak aktif" in out
    uid = uuid.uuid4().hex
    etag = put(town, uid, day())
    code, _, err = kalender(capsys, town, "approve", "dinkes", uid)
    assert code == 1 and "belum aktif" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(decisions.ApprovalOffError) as caught:
        decisions.reject(town.dep.root, "dinkes", uid, "protokol-a", "Bentrok agenda")
    assert caught.value.status == 409
    assert town.request("pic-x", "GET", f"/opd/dinkes/{uid}.ics").headers["ETag"] == etag
    assert approval_entries(town) == []
    assert approvals.version(town.dep.database) == 0


# -- approve and reject -------------------------------------------------------------------
def test_approve_via_cli(approval_on: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    town = approval_on
    uid = uuid.uuid4().hex
    etag = put(town, uid, day(), summary="Peresmian Taman Sekartaji")
    assert stored_state(town, "dinkes", uid) == approval.PENDING
    code, out, _ = kalender(capsys, town, "approval", "list")
    assert code == 0 and uid in out and "Menunggu persetujuan" in out
    assert "Wali Kota Kediri" in out
    version = approvals.version(town.dep.database)
    code, out, err = kalender(capsys, town, "approve", "dinkes", uid, "--oleh", "protokol-a")
    assert code == 0, err
    assert "disetujui" in out and "Definitif" in out
    assert stored_state(town, "dinkes", uid) == approval.APPROVED
    assert uid not in kalender(capsys, town, "approval", "list")[1]
    changed, now = approvals.changed_since(town.dep.database, version)
    assert changed == [("dinkes", uid)] and now > version
    # the server keeps the decision: the PIC's data is untouched
    assert town.request("pic-x", "GET", f"/opd/dinkes/{uid}.ics").headers["ETag"] == etag
    entry = approval_entries(town)[-1]
    assert (entry.actor, entry.opd, entry.before, entry.after) == (
        "protokol-a", "dinkes", "Menunggu persetujuan", "Definitif")
    code, out, _ = kalender(capsys, town, "log", "--action", "approval")
    assert code == 0 and "+Definitif" in out and "disetujui Prokopim" in out


def test_reject_reaches_the_pic(approval_on: LiveServer, smtp: SmtpServer,
                                capsys: pytest.CaptureFixture[str]) -> None:
    town = approval_on
    uid = uuid.uuid4().hex
    title = f"Senam Bersama {uuid.uuid4().hex[:6]}"
    when = day()
    put(town, uid, when, summary=title)
    before = len(smtp.sink.messages)
    code, _, err = kalender(capsys, town, "reject", "dinkes", uid, "--reason",
                            "Wali Kota sedang dinas luar kota; ajukan hari lain.")
    assert code == 0, err
    assert stored_state(town, "dinkes", uid) == approval.REJECTED
    assert approvals.reason(town.dep.database, "dinkes", uid).startswith("Wali Kota sedang")
    [entry] = [e for e in wait_bentrok(town, lambda found: any(
        str(e["SUMMARY"]) == f"DITOLAK PROKOPIM: {title}" for e in found))
        if str(e["SUMMARY"]) == f"DITOLAK PROKOPIM: {title}"]
    assert "Wali Kota sedang dinas luar kota" in str(entry["DESCRIPTION"])
    assert str(entry["X-KALENDER-KIND"]) == "ditolak-prokopim"
    messages = smtp.wait_for(before + 1)
    [message] = [m for m in messages[before:] if title in str(m["Subject"])]
    assert message["To"] == PIC_MAIL
    assert message["Subject"] == f"[Kalender OPD] Ditolak Prokopim: {title}"
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Wali Kota sedang dinas luar kota" in plain and "Prokopim" in plain
    code, out, _ = kalender(capsys, town, "approval", "list")
    assert code == 0 and uid in out and "Ditolak" in out and "dinas luar kota" in out
    # a re-save that changes neither time nor place keeps the rejection and its entry
    put(town, uid, when, summary=title, extra=KEY_PERSON + " (dikonfirmasi)")
    assert stored_state(town, "dinkes", uid) == approval.REJECTED
    assert [n.kind for n in board.current(town.dep.database, "dinkes") if n.uid == uid] == [
        REJECTED_BY_PROTOCOL]
    # approved after all: the rejection's Bentrok entry goes
    assert kalender(capsys, town, "approve", "dinkes", uid)[0] == 0
    wait_bentrok(town, lambda found: all(title not in str(e["SUMMARY"]) for e in found))


def test_edit_of_time_after_approval_asks_again(approval_on: LiveServer,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    town = approval_on
    uid = uuid.uuid4().hex
    when = day()
    put(town, uid, when, summary="Rapat Paripurna")
    assert kalender(capsys, town, "approve", "dinkes", uid)[0] == 0
    put(town, uid, when, summary="Rapat Paripurna DPRD")  # the title only: still approved
    assert stored_state(town, "dinkes", uid) == approval.APPROVED
    asked = [e for e in approval_entries(town) if e.href == f"{uid}.ics"
             and "diminta lagi" in (e.note or "")]
    assert asked == []
    put(town, uid, when, "1300", "1400", summary="Rapat Paripurna DPRD")
    assert stored_state(town, "dinkes", uid) == approval.PENDING
    put(town, uid, when, "1300", "1400", summary="Rapat Paripurna DPRD")  # re-saved: once
    asked = [e for e in approval_entries(town) if e.href == f"{uid}.ics"
             and "diminta lagi" in (e.note or "")]
    assert len(asked) == 1
    assert (asked[0].actor, asked[0].before, asked[0].after) == (
        "pic-x", "Definitif", "Menunggu persetujuan")
    code, out, _ = kalender(capsys, town, "approval", "list")
    assert code == 0 and uid in out and "Menunggu persetujuan" in out
    assert "persetujuan diminta lagi" in kalender(capsys, town, "log", "--opd", "dinkes")[1]
    assert kalender(capsys, town, "approve", "dinkes", uid)[0] == 0  # for the new time
    assert stored_state(town, "dinkes", uid) == approval.APPROVED


def test_rejected_then_moved_waits_again(approval_on: LiveServer,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    town = approval_on
    uid = uuid.uuid4().hex
    when = day()
    put(town, uid, when, summary="Lomba Kebersihan")
    assert kalender(capsys, town, "reject", "dinkes", uid, "--reason", "Tempat dipakai")[0] == 0
    assert [n.uid for n in board.current(town.dep.database, "dinkes")].count(uid) == 1
    put(town, uid, when, location="Ruang Kilisuci", summary="Lomba Kebersihan")
    assert stored_state(town, "dinkes", uid) == approval.PENDING
    assert uid not in [n.uid for n in board.current(town.dep.database, "dinkes")]
    [asked] = [e for e in approval_entries(town) if e.href == f"{uid}.ics"
               and "diminta lagi" in (e.note or "")]
    assert (asked.before, asked.after) == ("Ditolak", "Menunggu persetujuan")


# -- errors -------------------------------------------------------------------------------
def test_a_deleted_activity_made_again_waits_again(approval_on: LiveServer,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A decision is for the stored activity: deleted and re-made, it needs approval again."""
    town = approval_on
    uid, when = uuid.uuid4().hex, day()
    put(town, uid, when, summary="Rapat Persiapan Hari Jadi")
    assert kalender(capsys, town, "approve", "dinkes", uid)[0] == 0
    assert stored_state(town, "dinkes", uid) == approval.APPROVED
    assert town.request("pic-x", "DELETE", f"/opd/dinkes/{uid}.ics").status_code == 200
    assert approvals.decision(town.dep.database, "dinkes", uid) is None
    assert approvals.history(town.dep.database, "dinkes", uid)  # what was decided is kept
    put(town, uid, when, summary="Rapat Persiapan Hari Jadi")  # same UID, time and place
    assert stored_state(town, "dinkes", uid) == approval.PENDING


def test_decision_errors(approval_on: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    town = approval_on
    root = town.dep.root
    with pytest.raises(decisions.UnknownItemError) as caught:
        decisions.approve(root, "dinkes", "tidak-ada", "protokol-a")
    assert caught.value.status == 404 and "tidak-ada" in caught.value.message
    with pytest.raises(decisions.UnknownItemError) as caught:
        decisions.approve(root, "dinas-fiktif", "x", "protokol-a")
    assert caught.value.status == 404
    uid = uuid.uuid4().hex
    put(town, uid, day())
    with pytest.raises(decisions.MissingReasonError) as missing:
        decisions.reject(root, "dinkes", uid, "protokol-a", "  \n ")
    assert missing.value.status == 400
    plain = uuid.uuid4().hex  # names no key person: nothing to approve
    put(town, plain, day(), extra="DESCRIPTION:Rapat internal")
    with pytest.raises(decisions.NotNeededError) as needless:
        decisions.approve(root, "dinkes", plain, "protokol-a")
    assert needless.value.status == 409
    code, _, err = kalender(capsys, town, "approve", "dinkes", "tidak-ada")
    assert code == 1 and err.startswith("kalender: ") and len(err.strip().splitlines()) == 1
    assert "tidak ada di kalender" in err
    code, _, err = kalender(capsys, town, "reject", "dinkes", uid, "--reason", " ")
    assert code == 1 and "alasan" in err.lower()
    assert stored_state(town, "dinkes", uid) == approval.PENDING  # nothing recorded
    with pytest.raises(SystemExit) as usage:
        cli.main(["reject", "dinkes", uid, "--dir", str(root)])
    assert usage.value.code == 2


# -- the role protokol --------------------------------------------------------------------
def test_protokol_reads_every_opd_and_writes_none(town: LiveServer) -> None:
    uid = uuid.uuid4().hex
    put(town, uid, day(), login="pic-y", opd="dinsos", extra="")
    for path in ("/opd/dinkes/", "/opd/dinsos/", f"/opd/dinsos/{uid}.ics", "/pimpinan/agenda/",
                 "/publik/agenda/", "/bentrok/dinkes/", "/bentrok/dinsos/"):
        assert town.request("protokol-a", "GET", path).status_code == 200, path
    new = uuid.uuid4().hex
    r = town.request("protokol-a", "PUT", f"/opd/dinkes/{new}.ics", data=event_ics(new),
                     headers={"Content-Type": "text/calendar"})
    assert r.status_code == 403
    assert town.request("protokol-a", "DELETE", f"/opd/dinsos/{uid}.ics").status_code == 403
    r = town.request("protokol-a", "PUT", f"/pimpinan/agenda/{new}.ics", data=event_ics(new),
                     headers={"Content-Type": "text/calendar"})
    assert r.status_code == 403
    r = town.request("protokol-a", "PROPFIND", "/protokol-a/", headers={"Depth": "1"})
    assert r.status_code == 207
    for href in ("/pimpinan/agenda/", "/opd/dinkes/", "/opd/dinsos/"):
        assert f"{href}</" in r.text, href
    user = User("protokol-a", "protokol")
    opds = town.dep.opds()
    assert roles.visible_calendars(user, opds, ["wali-kota"]) == roles.visible_calendars(
        User("p", "pimpinan"), opds, ["wali-kota"])
    readable = feedtokens.readable(user, opds, ["ruang-joyoboyo"], ["wali-kota"])
    assert "pimpinan/agenda" in readable and "orang/wali-kota" in readable
    assert session.HOMES["protokol"] == "/persetujuan/"
    assert "protokol" in registry.ROLES and "protokol" in registry.LEADER_ROLES


def test_user_add_role_protokol(town: LiveServer) -> None:
    done = subprocess.run([*KALENDER, "user", "add", "protokol-b", "--role", "protokol",
                           "--password-stdin", "--dir", str(town.dep.root)],
                          input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert town.request("protokol-b", "GET", "/opd/dinsos/").status_code == 200
    bad = subprocess.run([*KALENDER, "user", "add", "protokol-c", "--role", "protokol",
                          "--opd", "dinkes", "--password-stdin", "--dir", str(town.dep.root)],
                         input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
                         check=False)
    assert bad.returncode == 1 and "--opd hanya untuk peran pic" in bad.stderr
