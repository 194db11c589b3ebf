"""A refused PIC learns why: the Bentrok calendar and e-mail, over a real server and SMTP."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import caldav
import icalendar
import pytest

from kalender.admin import cmd_accounts
from kalender.deployment import Deployment
from kalender.notify import mail
from tests.conftest import PASSWORD, LiveServer, event_ics, make_deployment, serve_in_thread
from tests.smtp_sink import SmtpServer

DAY = "20311203"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[LiveServer]:
    """A deployment whose PICs have addresses and whose mail goes to the SMTP server."""
    dep = make_deployment(tmp_path_factory.mktemp("bentrok") / "kediri")
    users = {u.login: u for u in dep.users()}
    for login, address in (("pic-y", "pic-y@dinsos.kedirikota.go.id"),
                           ("pic-x", "pic-x@dinkes.kedirikota.go.id")):
        _set_email(dep, dataclasses.replace(users[login], email=address))
    mail.save(dep.root, mail.Settings("127.0.0.1", smtp.port, "kalender@kedirikota.go.id"))
    yield from serve_in_thread(dep)


def _set_email(dep: Deployment, user: object) -> None:
    """Give an account an address through the registry (as `kalender user email` does)."""
    from kalender import registry

    others = [u for u in dep.users() if u.login != user.login]  # type: ignore[attr-defined]
    registry.write_users(dep.users_csv, [*others, user], [o.id for o in dep.opds()])
    assert cmd_accounts  # the CLI module writes the same file


def put(live: LiveServer, login: str, opd: str, uid: str, start: str, end: str,
        summary: str, location: str = "Ruang Joyoboyo", extra: str = "") -> int:
    body = event_ics(uid, f"{DAY}T{start}00", f"{DAY}T{end}00", summary=summary,
                     location=location, extra=extra)
    status = live.request(login, "PUT", f"/opd/{opd}/{uid}.ics", data=body,
                          headers={"Content-Type": "text/calendar"}).status_code
    return 201 if status == 204 else status  # stored: created (201) or replaced (204)


def entries(live: LiveServer, opd: str, login: str) -> list[icalendar.Event]:
    r = live.request(login, "GET", f"/bentrok/{opd}/")
    assert r.status_code == 200, r.text
    return list(icalendar.Calendar.from_ical(r.text).walk("VEVENT")) if r.text.strip() else []


def wait_entries(live: LiveServer, opd: str, count: int, login: str = "pic-y",
                 timeout: float = 20) -> list[icalendar.Event]:
    deadline = time.monotonic() + timeout
    while True:
        found = entries(live, opd, login)
        if len(found) == count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} Bentrok entries, expected {count}")
        time.sleep(0.2)


def test_refusal_becomes_one_entry_and_one_mail_then_goes(town: LiveServer,
                                                          smtp: SmtpServer) -> None:
    secret = f"Rapat Rahasia {uuid.uuid4().hex[:6]}"
    assert put(town, "pic-x", "dinkes", uuid.uuid4().hex, "0900", "1100", secret,
               extra="CLASS:PRIVATE\nDESCRIPTION:Bahas kasus pasien") == 201
    uid = uuid.uuid4().hex
    mails_before = len(smtp.sink.messages)
    for _ in range(5):  # a client that re-sends the refused event
        assert put(town, "pic-y", "dinsos", uid, "1000", "1200", "Sosialisasi Bansos") == 403
    [entry] = wait_entries(town, "dinsos", 1)
    text = entry.to_ical().decode()
    assert str(entry["SUMMARY"]) == "DITOLAK: Sosialisasi Bansos"
    description = str(entry["DESCRIPTION"])
    assert "Ruang Joyoboyo sudah dipakai" in description and "kegiatan tertutup" in description
    assert "pic-y" in description and "Pilih waktu atau tempat lain" in description
    assert secret not in text and "pasien" not in text  # the other OPD's private details
    assert entry.decoded("DTSTART").strftime("%H%M") == "0300"  # 10.00 WIB, the clash
    messages = smtp.wait_for(mails_before + 1)
    time.sleep(1)  # give a second mail the chance to (wrongly) arrive
    new = smtp.sink.messages[mails_before:]
    assert len(new) == 1, [m["Subject"] for m in new]
    message = new[0]
    assert message["To"] == "pic-y@dinsos.kedirikota.go.id"
    assert message["Subject"] == "[Kalender OPD] Bentrok: Sosialisasi Bansos"
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Ruang Joyoboyo sudah dipakai" in plain and "Ruang Joyoboyo sudah dipakai" in html
    assert secret not in plain and secret not in html
    assert messages  # delivered through the real SMTP server
    # fixed: the same UID at a free time is accepted and the entry goes
    assert put(town, "pic-y", "dinsos", uid, "1300", "1400", "Sosialisasi Bansos") == 201
    wait_entries(town, "dinsos", 0)


def test_entry_removed_when_the_event_is_deleted(town: LiveServer) -> None:
    assert put(town, "pic-x", "dinkes", uuid.uuid4().hex, "1500", "1600", "Apel") == 201
    uid = uuid.uuid4().hex
    assert put(town, "pic-y", "dinsos", uid, "1500", "1600", "Rapat") == 403
    # the client kept its copy under another name; the PIC deletes what was stored before
    wait_entries(town, "dinsos", 1)
    assert put(town, "pic-y", "dinsos", uid, "1700", "1800", "Rapat") == 201
    wait_entries(town, "dinsos", 0)
    assert put(town, "pic-y", "dinsos", uid, "1500", "1600", "Rapat") == 403  # edit refused
    wait_entries(town, "dinsos", 1)
    r = town.request("pic-y", "DELETE", f"/opd/dinsos/{uid}.ics")
    assert r.status_code in (200, 204)
    wait_entries(town, "dinsos", 0)


def test_location_to_check(town: LiveServer) -> None:
    uid = uuid.uuid4().hex
    assert put(town, "pic-x", "dinkes", uid, "0700", "0800", "Senam", "Ruang Kilisucii") == 201
    [entry] = wait_entries(town, "dinkes", 1, "pic-x")
    assert str(entry["SUMMARY"]) == "PERIKSA LOKASI: Senam"
    assert "Ruang Kilisuci" in str(entry["DESCRIPTION"])
    assert put(town, "pic-x", "dinkes", uid, "0700", "0800", "Senam", "Ruang Kilisuci") == 201
    wait_entries(town, "dinkes", 0, "pic-x")
    assert put(town, "pic-x", "dinkes", uid, "0700", "0800", "Senam",
               "Lokasi lain: Aula RSUD Kilisuci") == 201  # confirmed: no notice
    time.sleep(1)
    assert entries(town, "dinkes", "pic-x") == []


@pytest.mark.parametrize(("login", "expected"), [
    (None, 401), ("pic-x", 403), ("pic-y", 200), ("pimpinan-a", 200), ("admin-a", 200)])
def test_rights_of_the_bentrok_calendar(town: LiveServer, login: str | None,
                                        expected: int) -> None:
    assert town.request(login, "GET", "/bentrok/dinsos/").status_code == expected


@pytest.mark.parametrize("login", ["pic-y", "admin-a", "pimpinan-a", "sync-a"])
def test_nobody_writes_the_bentrok_calendar(town: LiveServer, login: str) -> None:
    uid = uuid.uuid4().hex
    r = town.request(login, "PUT", f"/bentrok/dinsos/{uid}.ics", data=event_ics(uid),
                     headers={"Content-Type": "text/calendar"})
    assert r.status_code == 403


def test_pic_discovers_the_bentrok_calendar(town: LiveServer) -> None:
    with caldav.DAVClient(town.url + "/", username="pic-y", password=PASSWORD) as client:
        names = {c.get_display_name(): str(c.url) for c in client.principal().calendars()}
    assert "Bentrok - Dinsos" in names, names
    assert names["Bentrok - Dinsos"].endswith("/bentrok/dinsos/")


def test_mail_waits_while_smtp_is_down(tmp_path: Path) -> None:
    """SMTP down: queued; up again: delivered, also across a server restart."""
    from tests.conftest import ServeProcess

    smtp = SmtpServer()  # not started: nobody listens on its port yet
    dep = make_deployment(tmp_path / "kediri")
    user = next(u for u in dep.users() if u.login == "pic-y")
    _set_email(dep, dataclasses.replace(user, email="pic-y@dinsos.kedirikota.go.id"))
    mail.save(dep.root, mail.Settings("127.0.0.1", smtp.port, "kalender@kedirikota.go.id"))
    server = ServeProcess(dep)
    try:
        live = LiveServer(dep, server.url)
        assert put(live, "pic-x", "dinkes", uuid.uuid4().hex, "0900", "1000", "Rapat A") == 201
        assert put(live, "pic-y", "dinsos", uuid.uuid4().hex, "0900", "1000", "Rapat B") == 403
        wait_entries(live, "dinsos", 1)  # the calendar does not wait for the mail
    finally:
        server.stop()
    smtp.start()
    try:
        server = ServeProcess(dep)  # the queue survived the restart
        try:
            [message] = smtp.wait_for(1, timeout=90)
            assert message["Subject"] == "[Kalender OPD] Bentrok: Rapat B"
        finally:
            server.stop()
    finally:
        smtp.stop()


def test_refused_move_is_told_to_the_source_opd(town: LiveServer) -> None:
    """A refused MOVE of a private event never shows it to the destination's PICs."""
    uid = uuid.uuid4().hex
    secret = f"Penyidikan {uuid.uuid4().hex[:6]}"
    assert put(town, "pic-x", "dinkes", uid, "1900", "2000", secret, "Ruang Kilisuci",
               extra="CLASS:PRIVATE") == 201
    other = uuid.uuid4().hex  # the admin books the destination's slot over the clash
    assert put(town, "admin-a", "dinsos", other, "1900", "2000", "Bazar", "Ruang Kilisuci",
               extra="DESCRIPTION:Abaikan bentrok: acara Wali Kota") == 201
    r = town.request("admin-a", "MOVE", f"/opd/dinkes/{uid}.ics",
                     headers={"Destination": f"{town.url}/opd/dinsos/{uid}.ics"})
    assert r.status_code == 403
    found = wait_entries(town, "dinkes", 1, "pic-x")
    assert any(secret in str(e["SUMMARY"]) for e in found)  # its own OPD hears of it
    time.sleep(1)
    assert not any(secret in e.to_ical().decode() for e in entries(town, "dinsos", "pic-y"))
