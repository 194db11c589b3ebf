"""Clash rules end to end over HTTP: every write path, every rule, the non-clash cases."""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import caldav
import pytest
from caldav.lib import error as caldav_error
from radicale import item as radicale_item

from kalender import audit
from kalender.admin import cli
from kalender.clash.extract import Limits
from kalender.clash.guard import Guard
from kalender.clash.index import Index
from kalender.deployment import CachedRegistry
from kalender_sync.state import Output, State
from tests.conftest import PASSWORD, LiveServer, make_deployment, serve_in_thread

K = "{urn:x-kalender-opd:}"
#: A Monday well inside the 2-year horizon, computed from today (never hard-coded).
BASE = dt.date.today() + dt.timedelta(days=(7 - dt.date.today().weekday()) % 7 + 56)


def day(offset: int = 0) -> str:
    """BASE + offset days as YYYYMMDD."""
    return (BASE + dt.timedelta(days=offset)).strftime("%Y%m%d")


def ics(uid: str, start: str, end: str, *, location: str = "", summary: str = "Rapat",
        extra: str = "", tz: str = "Asia/Jakarta", overrides: str = "") -> str:
    """One calendar object; ``start``/``end`` like 20270105T090000 (WIB)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//tests//ID",
             "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
             f"DTSTART;TZID={tz}:{start}", f"DTEND;TZID={tz}:{end}", f"SUMMARY:{summary}"]
    if location:
        lines.append(f"LOCATION:{location}")
    lines += [x for x in extra.strip().splitlines() if x]
    lines.append("END:VEVENT")
    lines += [x for x in overrides.strip().splitlines() if x]
    lines += ["END:VCALENDAR", ""]
    return "\r\n".join(lines)


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment for the clash tests (its own, so other tests don't book its slots)."""
    dep = make_deployment(tmp_path_factory.mktemp("clash") / "kediri")
    yield from serve_in_thread(dep)


def put(srv: LiveServer, login: str, opd: str, body: str, name: str | None = None
        ) -> tuple[int, str]:
    """PUT ``body`` into /opd/<opd>/; (status, response text)."""
    name = name or f"{uuid.uuid4().hex}.ics"
    r = srv.request(login, "PUT", f"/opd/{opd}/{name}", data=body.encode(),
                    headers={"Content-Type": "text/calendar; charset=utf-8"})
    return r.status_code, r.text


def clashes(text: str) -> list[dict[str, str]]:
    """The clash elements of a DAV:error body."""
    return [dict(e.attrib) for e in ET.fromstring(text).iter(f"{K}clash")]


def uid() -> str:
    """A fresh UID."""
    return f"{uuid.uuid4()}@test"


def test_venue_clash_via_caldav_client(srv: LiveServer) -> None:
    """A PIC of another OPD saving a clashing event with the caldav client is refused."""
    assert put(srv, "pic-x", "dinkes", ics(uid(), f"{day()}T090000", f"{day()}T110000",
                                           location="R. Joyoboyo Balaikota Kediri"))[0] == 201
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with caldav.DAVClient(srv.url + "/", username="pic-y", password=PASSWORD) as client:
            cal = client.calendar(url=srv.url + "/opd/dinsos/")
            with pytest.raises(caldav_error.DAVError) as exc:
                cal.save_event(ics(uid(), f"{day()}T100000", f"{day()}T120000",
                                   location="Ruang Joyoboyo"))
    assert isinstance(exc.value, caldav_error.AuthorizationError)


def test_clash_answer_format(srv: LiveServer) -> None:
    """403 with reason phrase, XML body, details and a sentence in Bahasa Indonesia."""
    put(srv, "pic-x", "dinkes", ics(uid(), f"{day(1)}T090000", f"{day(1)}T110000",
                                    location="Ruang Kilisuci", summary="Rapat Gizi"))
    # http.client shows the status line as sent (urllib3-future normalises the reason).
    host, port = srv.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    token = base64.b64encode(f"pic-y:{PASSWORD}".encode()).decode()
    conn.request("PUT", f"/opd/dinsos/{uuid.uuid4().hex}.ics",
                 ics(uid(), f"{day(1)}T103000", f"{day(1)}T113000", location="R. Kilisuci"),
                 {"Authorization": f"Basic {token}", "Content-Type": "text/calendar"})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 403 and r.reason == "Jadwal Bentrok"
    assert r.getheader("Content-Type") == "application/xml; charset=utf-8"
    root = ET.fromstring(body)
    assert root.tag == "{DAV:}error" and root.find(f"{K}no-venue-clash") is not None
    (detail,) = clashes(body.decode())
    assert detail["resource"] == "ruang-kilisuci" and detail["opd"] == "dinkes"
    assert detail["start"] == f"{day(1)}T020000Z" and detail["end"] == f"{day(1)}T040000Z"
    message = root.findtext(f"{K}message") or ""
    assert message.startswith("Ruang Kilisuci sudah dipakai Dinas Kesehatan Kota Kediri")
    assert "09.00-11.00 WIB" in message and "Rapat Gizi" in message


def test_private_title_not_revealed(srv: LiveServer) -> None:
    """CLASS:PRIVATE/CONFIDENTIAL: 'kegiatan tertutup', no title anywhere in the answer."""
    put(srv, "pic-x", "dinkes", ics(uid(), f"{day(2)}T090000", f"{day(2)}T100000",
                                    location="Ruang Command Center", summary="Rahasia Negara",
                                    extra="CLASS:CONFIDENTIAL"))
    status, text = put(srv, "pic-y", "dinsos", ics(uid(), f"{day(2)}T093000", f"{day(2)}T103000",
                                                   location="Command Center Balaikota Kediri"))
    assert status == 403 and "kegiatan tertutup" in text and "Rahasia" not in text


def test_person_clash_description_and_attendee(srv: LiveServer) -> None:
    """Persons from DESCRIPTION lines and from ATTENDEE e-mail (registered via the CLI)."""
    assert cli.main(["person", "add", "narsum-budi", "Dr. Budi Santoso", "--email",
                     "budi@example.org", "--dir", str(srv.dep.root)]) == 0
    put(srv, "pic-x", "dinkes", ics(uid(), f"{day(3)}T090000", f"{day(3)}T110000",
                                    location="Taman Brantas",
                                    extra="DESCRIPTION:Narasumber: Wali Kota Kediri\\; "
                                          "Dr. Budi Santoso"))
    status, text = put(srv, "pic-y", "dinsos", ics(
        uid(), f"{day(3)}T100000", f"{day(3)}T120000", location="Aula Kelurahan",
        extra="ATTENDEE;CN=Budi;ROLE=REQ-PARTICIPANT:mailto:BUDI@example.org"))
    assert status == 403 and clashes(text)[0]["resource"] == "narsum-budi"
    status, text = put(srv, "pic-y", "dinsos", ics(
        uid(), f"{day(3)}T100000", f"{day(3)}T120000", extra="DESCRIPTION:Pimpinan: Walikota"))
    assert status == 403 and "Wali Kota Kediri sudah dijadwalkan" in text


def test_non_blocking_cases(srv: LiveServer) -> None:
    """Touching times, CANCELLED, TRANSPARENT and outside places never clash."""
    loc = "Ruang Sidang DPRD Kota Kediri"  # no buffers in the default registry
    assert put(srv, "pic-x", "dinkes", ics(uid(), f"{day(4)}T090000", f"{day(4)}T100000",
                                           location=loc))[0] == 201
    assert put(srv, "pic-y", "dinsos", ics(uid(), f"{day(4)}T100000", f"{day(4)}T110000",
                                           location=loc))[0] == 201
    for extra in ("STATUS:CANCELLED", "TRANSP:TRANSPARENT"):
        assert put(srv, "pic-y", "dinsos", ics(uid(), f"{day(4)}T090000", f"{day(4)}T100000",
                                               location=loc, extra=extra))[0] == 201
    for _ in range(2):
        assert put(srv, "pic-y", "dinsos", ics(uid(), f"{day(4)}T090000", f"{day(4)}T100000",
                                               location="Rumah Makan Bu Rudi"))[0] == 201


def test_edit_same_event_and_delete_frees(srv: LiveServer) -> None:
    """An event never clashes with itself; DELETE frees the slot at once."""
    u, name = uid(), "edit.ics"
    assert put(srv, "pic-x", "dinkes", ics(u, f"{day(5)}T090000", f"{day(5)}T110000",
                                           location="Taman Sekartaji"), name)[0] == 201
    assert put(srv, "pic-x", "dinkes", ics(u, f"{day(5)}T100000", f"{day(5)}T120000",
                                           location="Taman Sekartaji"), name)[0] == 204
    other = ics(uid(), f"{day(5)}T130000", f"{day(5)}T140000", location="Taman Sekartaji")
    assert put(srv, "pic-y", "dinsos", other)[0] == 403  # 60 min setup buffer
    assert srv.request("pic-x", "DELETE", f"/opd/dinkes/{name}").status_code in (200, 204)
    assert put(srv, "pic-y", "dinsos", other)[0] == 201


def test_move_between_opd_keeps_index(srv: LiveServer) -> None:
    """MOVE to another own OPD: no self-clash, and the slot then belongs to the new OPD."""
    name = "pindah.ics"
    assert put(srv, "pic-xz", "dinkes", ics(uid(), f"{day(6)}T090000", f"{day(6)}T110000",
                                            location="Ruang Joyoboyo"), name)[0] == 201
    r = srv.request("pic-xz", "MOVE", f"/opd/dinkes/{name}",
                    headers={"Destination": f"{srv.url}/opd/diskominfo/{name}"})
    assert r.status_code == 201
    status, text = put(srv, "pic-y", "dinsos", ics(uid(), f"{day(6)}T100000", f"{day(6)}T103000",
                                                   location="Ruang Joyoboyo"))
    assert status == 403 and clashes(text)[0]["opd"] == "diskominfo"


WEEKLY = "RRULE:FREQ=WEEKLY;COUNT=8"


def test_recurring_series_lists_every_clash(srv: LiveServer) -> None:
    """A weekly series over two booked Tuesdays is refused with both occurrences listed."""
    for week in (2, 5):
        assert put(srv, "pic-x", "dinkes", ics(uid(), f"{day(7 * week + 1)}T090000",
                                               f"{day(7 * week + 1)}T100000",
                                               location="Hutan Kota Joyoboyo"))[0] == 201
    status, text = put(srv, "pic-y", "dinsos", ics(uid(), f"{day(1)}T090000", f"{day(1)}T100000",
                                                   location="Hutan Joyoboyo", extra=WEEKLY))
    assert status == 403
    starts = sorted(c["occurrence-start"] for c in clashes(text))
    assert starts == [f"{day(15)}T020000Z", f"{day(36)}T020000Z"]
    assert "2 jadwal" in text


def test_recurring_exdate_and_overrides_resolve(srv: LiveServer) -> None:
    """EXDATE (in UTC against a zoned start), a moved or cancelled override: accepted."""
    booked = day(7 * 3 + 2)  # a Wednesday in week 3
    assert put(srv, "pic-x", "dinkes", ics(uid(), f"{booked}T090000", f"{booked}T100000",
                                           location="Memorial Park"))[0] == 201
    series = dict(start=f"{day(2)}T090000", end=f"{day(2)}T100000", location="Memorial Park")
    u = uid()
    assert put(srv, "pic-y", "dinsos", ics(u, **series, extra=WEEKLY))[0] == 403
    exdate = f"EXDATE:{booked}T020000Z"
    assert put(srv, "pic-y", "dinsos", ics(u, **series, extra=f"{WEEKLY}\n{exdate}"),
               "exdate.ics")[0] == 201
    assert srv.request("pic-y", "DELETE", "/opd/dinsos/exdate.ics").status_code == 200
    for change in ("STATUS:CANCELLED", f"DTSTART;TZID=Asia/Jakarta:{booked}T140000\n"
                                       f"DTEND;TZID=Asia/Jakarta:{booked}T150000"):
        u2 = uid()
        override = (f"BEGIN:VEVENT\nUID:{u2}\nDTSTAMP:20260101T000000Z\n"
                    f"RECURRENCE-ID;TZID=Asia/Jakarta:{booked}T090000\n"
                    + ("" if change.startswith("DTSTART") else
                       f"DTSTART;TZID=Asia/Jakarta:{booked}T090000\n"
                       f"DTEND;TZID=Asia/Jakarta:{booked}T100000\n")
                    + f"{change}\nSUMMARY:Rapat\nEND:VEVENT")
        body = ics(u2, f"{day(2)}T120000", f"{day(2)}T130000", location="Memorial Park",
                   extra=WEEKLY, overrides=override)
        # the series itself at 12-13 never clashes; the override holds the booked day
        status, text = put(srv, "pic-y", "dinsos", body.replace("T120000", "T090000")
                           .replace("T130000", "T100000"), "override.ics")
        assert status == 201, text
        assert srv.request("pic-y", "DELETE", "/opd/dinsos/override.ics").status_code == 200


def test_bad_input_is_a_clear_4xx(srv: LiveServer) -> None:
    """Unknown TZID, endless recurrence, garbage: 4xx with a message, nothing stored."""
    status, text = put(srv, "pic-x", "dinkes", ics(uid(), f"{day(9)}T090000",
                                                   f"{day(9)}T100000", tz="Mars/Olympus_Mons"))
    assert status == 400 and "Mars/Olympus_Mons" in text
    started = time.monotonic()
    status, _ = put(srv, "pic-x", "dinkes", ics(uid(), f"{day(9)}T090000", f"{day(9)}T090001",
                                                extra="RRULE:FREQ=SECONDLY"))
    assert 400 <= status < 500 and time.monotonic() - started < 10
    assert put(srv, "pic-x", "dinkes", "BEGIN:VCALENDAR\r\nbukan kalender\r\n")[0] == 400
    names = [p.name for p in (srv.dep.collections / "collection-root/opd/dinkes").glob("*.ics")]
    assert all("Mars" not in (srv.dep.collections / "collection-root/opd/dinkes" / n)
               .read_text("utf-8") for n in names)


def test_import_is_checked_as_a_whole(srv: LiveServer) -> None:
    """Whole-calendar PUT (admin import): a clash with others or inside the file refuses all."""
    assert put(srv, "pic-y", "dinsos", ics(uid(), f"{day(10)}T090000", f"{day(10)}T100000",
                                           location="Taman Brantas"))[0] == 201

    def calendar(*events: str) -> str:
        head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kalender OPD//tests//ID\r\n"
        inner = "".join(e.split(head)[1].split("END:VCALENDAR")[0] for e in events)
        return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kalender OPD//tests//ID\r\n"
                + inner + "END:VCALENDAR\r\n")

    clash_outside = calendar(ics(uid(), f"{day(10)}T093000", f"{day(10)}T103000",
                                 location="Taman Brantas"))
    clash_inside = calendar(ics(uid(), f"{day(11)}T090000", f"{day(11)}T100000",
                                location="Alun-Alun Kota Kediri"),
                            ics(uid(), f"{day(11)}T093000", f"{day(11)}T103000",
                                location="Alun-alun Kediri"))
    for body in (clash_outside, clash_inside):
        r = srv.request("admin-a", "PUT", "/opd/kec-kota/", data=body.encode(),
                        headers={"Content-Type": "text/calendar"})
        assert r.status_code == 403, r.text
    assert not list((srv.dep.collections / "collection-root/opd/kec-kota").glob("*.ics"))
    fine = calendar(ics(uid(), f"{day(12)}T090000", f"{day(12)}T100000", location="Taman Brantas"))
    r = srv.request("admin-a", "PUT", "/opd/kec-kota/", data=fine.encode(),
                    headers={"Content-Type": "text/calendar"})
    assert r.status_code == 201, r.text
    assert put(srv, "pic-y", "dinsos", ics(uid(), f"{day(12)}T093000", f"{day(12)}T100000",
                                           location="Taman Brantas"))[0] == 403


def test_admin_override_is_audited(srv: LiveServer) -> None:
    """'Abaikan bentrok: alasan' works for an admin only and is recorded."""
    assert put(srv, "pic-x", "dinkes", ics(uid(), f"{day(13)}T090000", f"{day(13)}T100000",
                                           location="Selomangleng"))[0] == 201
    line = "DESCRIPTION:Abaikan bentrok: kunjungan Gubernur\\, disetujui Sekda"
    body = ics(uid(), f"{day(13)}T090000", f"{day(13)}T100000", location="Goa Selomangleng",
               extra=line)
    assert put(srv, "pic-y", "dinsos", body)[0] == 403
    assert put(srv, "admin-a", "dinsos", body, "admin-override.ics")[0] == 201
    notes = [e.note for e in audit.entries(srv.dep.database, "dinsos")
             if e.href == "admin-override.ics"]
    assert notes and "kunjungan Gubernur" in (notes[0] or "")


def test_merged_calendars_are_not_checked(srv: LiveServer) -> None:
    """The merged calendars' copies (in sync.db) never count as bookings; nobody PUTs there."""
    body = ics(uid(), f"{day(71)}T090000", f"{day(71)}T100000", location="Selomangleng")
    r = srv.request("sync-a", "PUT", f"/publik/agenda/{uuid.uuid4().hex}.ics", data=body.encode(),
                    headers={"Content-Type": "text/calendar"})
    assert r.status_code == 403 and "disusun otomatis" in r.text
    state = State(srv.dep.root / "sync.db")
    try:  # a copy of a booking at that venue and time, as the sync writes it
        state.apply([Output("publik/agenda", f"{uuid.uuid4().hex}.ics", "dinkes", "x.ics", "k",
                            0, "20300101T000000Z", body, 0, 2**40, True)], 0)
    finally:
        state.close()
    assert put(srv, "pic-y", "dinsos", body)[0] == 201


def test_capacity_and_parent_from_cli(srv: LiveServer) -> None:
    """Capacity 2 allows two parallel bookings; a hall and its part block each other."""
    d = str(srv.dep.root)
    assert cli.main(["venue", "add", "aula-besar", "Aula Besar Bappeda", "--capacity", "2",
                     "--dir", d]) == 0
    assert cli.main(["venue", "add", "aula-besar-a", "Aula Besar Sisi A", "--parent",
                     "aula-besar", "--dir", d]) == 0
    slot = (f"{day(14)}T090000", f"{day(14)}T100000")
    assert put(srv, "pic-x", "dinkes", ics(uid(), *slot, location="Aula Besar Bappeda"))[0] == 201
    assert put(srv, "pic-y", "dinsos", ics(uid(), *slot, location="Aula Besar Bappeda"))[0] == 201
    assert put(srv, "pic-y", "dinsos", ics(uid(), *slot, location="Aula Besar Bappeda"))[0] == 403
    later = (f"{day(14)}T130000", f"{day(14)}T140000")
    assert put(srv, "pic-x", "dinkes", ics(uid(), *later, location="Aula Besar Sisi A"))[0] == 201
    assert put(srv, "pic-y", "dinsos", ics(uid(), *later, location="Aula Besar Bappeda"))[0] == 403


def test_unknown_locations_and_verify(srv: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    """venue unknown counts outside places; verify agrees with storage, then catches tampering."""
    d = str(srv.dep.root)
    put(srv, "pic-x", "dinkes", ics(uid(), f"{day(20)}T090000", f"{day(20)}T100000",
                                    location="Pendopo Kelurahan Bangsal"))
    capsys.readouterr()
    assert cli.main(["venue", "unknown", "--dir", d]) == 0
    assert "Pendopo Kelurahan Bangsal" in capsys.readouterr().out
    assert cli.main(["verify", "--dir", d]) == 0
    victim = next((srv.dep.collections / "collection-root/opd/dinkes").glob("*.ics"))
    text = victim.read_text("utf-8")
    victim.unlink()
    assert cli.main(["verify", "--dir", d]) == 1
    victim.write_text(text, "utf-8")
    assert cli.main(["reindex", "--dir", d]) == 0
    assert cli.main(["verify", "--dir", d]) == 0


def test_same_uid_in_another_opd_still_clashes(srv: LiveServer) -> None:
    """A UID reused by another OPD (one .ics imported twice) is another event: it clashes."""
    shared = uid()
    assert put(srv, "pic-x", "dinkes", ics(shared, f"{day(22)}T090000", f"{day(22)}T100000",
                                           location="Ruang Joyoboyo"))[0] == 201
    assert put(srv, "pic-y", "dinsos", ics(shared, f"{day(22)}T090000", f"{day(22)}T100000",
                                           location="Ruang Joyoboyo"))[0] == 403


def test_far_future_event_against_series(srv: LiveServer) -> None:
    """A one-off event beyond the 2-year horizon is checked against an unbounded series."""
    start = dt.date.today() + dt.timedelta(days=2)
    first = start.strftime("%Y%m%d")
    assert put(srv, "pic-x", "dinkes", ics(uid(), f"{first}T050000", f"{first}T060000",
                                           location="Sport Center Ngronggo",
                                           extra="RRULE:FREQ=DAILY"))[0] == 201
    far = (start + dt.timedelta(days=1100)).strftime("%Y%m%d")
    status, text = put(srv, "pic-y", "dinsos", ics(uid(), f"{far}T050000", f"{far}T060000",
                                                   location="Sport Center Ngronggo"))
    assert status == 403, text
    rdate = (start + dt.timedelta(days=900)).strftime("%Y%m%d")
    assert put(srv, "pic-x", "dinkes", ics(uid(), f"{first}T200000", f"{first}T210000",
                                           location="Selomangleng",
                                           extra=f"RDATE;TZID=Asia/Jakarta:{rdate}T200000"
                                           ))[0] == 201
    assert put(srv, "pic-y", "dinsos", ics(uid(), f"{rdate}T200000", f"{rdate}T203000",
                                           location="Goa Selomangleng"))[0] == 403



# -- privacy of clash answers (kalender.visibility) -------------------------------------
SECRET = "Operasi Senyap Kelurahan"


@pytest.mark.parametrize(("offset", "series_class", "override_class"), [
    (60, "CLASS:X-RAHASIA", None),  # an unknown value counts as PRIVATE
    (61, "CLASS:PRIVATE ", None),  # values are compared trimmed
    (62, "CLASS:private", None),  # ... and case-insensitively
    (63, "CLASS:PRIVATE", ""),  # an override without CLASS inherits its series' class
    (64, "CLASS:CONFIDENTIAL", ""),
    (65, "CLASS:PRIVATE", "CLASS:PUBLIC"),  # never less restricted than its series
])
def test_non_public_titles_never_in_clash_answer(srv: LiveServer, offset: int, series_class: str,
                                                 override_class: str | None) -> None:
    """The 403 to another OPD says 'kegiatan tertutup' and never the title (RFC 5545 §3.8.1.3)."""
    when = day(offset + 7 if override_class is not None else offset)
    if override_class is None:  # one event, its CLASS line followed by another line
        body = ics(uid(), f"{when}T090000", f"{when}T100000", location="Stadion Brawijaya",
                   summary=SECRET, extra=f"{series_class}\nCATEGORIES:Rapat")
    else:  # a weekly series at 07:00 whose second occurrence moved to 09:00
        u = uid()
        override = (f"BEGIN:VEVENT\nUID:{u}\nDTSTAMP:20260101T000000Z\n"
                    f"RECURRENCE-ID;TZID=Asia/Jakarta:{when}T070000\n"
                    f"DTSTART;TZID=Asia/Jakarta:{when}T090000\n"
                    f"DTEND;TZID=Asia/Jakarta:{when}T100000\n{override_class}\n"
                    f"SUMMARY:{SECRET}\nLOCATION:Stadion Brawijaya\nEND:VEVENT")
        body = ics(u, f"{day(offset)}T070000", f"{day(offset)}T080000",
                   location="Stadion Brawijaya", summary="Apel Pagi",
                   extra=f"RRULE:FREQ=WEEKLY;COUNT=4\n{series_class}\nCATEGORIES:Rapat",
                   overrides=override)
    status, text = put(srv, "pic-x", "dinkes", body)
    assert status == 201, text
    status, text = put(srv, "pic-y", "dinsos", ics(uid(), f"{when}T093000", f"{when}T103000",
                                                   location="Stadion Brawijaya"))
    assert status == 403, text
    message = ET.fromstring(text).findtext(f"{K}message") or ""
    assert "kegiatan tertutup" in message
    assert SECRET not in text and "Senyap" not in text
    assert all("title" not in c for c in clashes(text))


# -- bodies Radicale would answer with a bare 400 ------------------------------------------
def _stored(srv: LiveServer, opd: str) -> list[str]:
    """The files of an OPD calendar and its index rows (nothing may change on a refusal)."""
    folder = srv.dep.collections / "collection-root" / "opd" / opd
    index = Index(srv.dep.database)
    return sorted(p.name for p in folder.glob("*.ics")) + sorted(
        r.href for r in index.items(f"opd/{opd}"))


def _offset_zone(offset: str) -> str:
    """A calendar whose embedded VTIMEZONE has an impossible UTC offset."""
    zone = ("BEGIN:VTIMEZONE\nTZID:Zona Aneh\nBEGIN:STANDARD\nDTSTART:19700101T000000\n"
            f"TZOFFSETFROM:{offset}\nTZOFFSETTO:{offset}\nEND:STANDARD\nEND:VTIMEZONE\n")
    body = ics(uid(), f"{day(70)}T090000", f"{day(70)}T100000", tz="Zona Aneh")
    return body.replace("PRODID:-//Kalender OPD//tests//ID\r\n",
                        "PRODID:-//Kalender OPD//tests//ID\r\n" + zone.replace("\n", "\r\n"))


UNREADABLE = {
    "garbage": ("hello world\r\n", "bukan format iCalendar", "Baris 1"),
    "missing-end": (ics("x@test", f"{day(70)}T090000", f"{day(70)}T100000")
                    .replace("END:VEVENT\r\n", ""), "END:VEVENT", "BEGIN:VEVENT"),
    "missing-end-calendar": (ics("x@test", f"{day(70)}T090000", f"{day(70)}T100000")
                             .replace("END:VCALENDAR\r\n", ""), "END:VCALENDAR", "lengkapi"),
    "impossible-date": (ics("x@test", f"{day(70)}T090000", f"{day(70)}T100000")
                        .replace(f"DTSTART;TZID=Asia/Jakarta:{day(70)}T090000",
                                 "DTSTART:2028-13-45"), "DTSTART", "20280113T090000"),
    "count-beyond-radicale": (ics("x@test", f"{day(70)}T090000", f"{day(70)}T100000",
                                  extra="RRULE:FREQ=DAILY;COUNT=1000000000"),
                              "COUNT", "10000"),
    "until-beyond-radicale": (ics("x@test", f"{day(70)}T090000", f"{day(70)}T100000",
                                  extra="RRULE:FREQ=DAILY;UNTIL=20991231T000000Z"),
                              "UNTIL", "10000"),
    "absurd-tzoffset": (_offset_zone("+9999"), "TZOFFSETFROM", "+0700"),
    "empty": ("", "kosong", "BEGIN:VCALENDAR"),
    "two-calendars": (ics("x@test", f"{day(70)}T090000", f"{day(70)}T100000") * 2,
                      "lebih dari satu VCALENDAR", "satu kalender"),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_unreadable_bodies_get_a_sentence(srv: LiveServer, case: str) -> None:
    """Bodies vobject refuses with a bare 400: refused first, with what to change."""
    body, *words = UNREADABLE[case]
    before = _stored(srv, "dinkes")
    r = srv.request("pic-x", "PUT", f"/opd/dinkes/{uuid.uuid4().hex}.ics", data=body.encode(),
                    headers={"Content-Type": "text/calendar; charset=utf-8"})
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(r.content)
    assert root.tag == "{DAV:}error"
    assert any(e.tag.startswith(K) and e.tag != f"{K}message" for e in root)
    message = root.findtext(f"{K}message") or ""
    assert all(w in message for w in words), message
    assert _stored(srv, "dinkes") == before


# -- recurrence cost (kalender.clash.recurrence), refused before the storage lock ------------
def _floating(start: str, rule: str) -> str:
    """A calendar whose event starts at a floating ``start`` (a DTSTART far in the past)."""
    body = ics(uid(), f"{day(70)}T090000", f"{day(70)}T100000", extra=rule)
    return (body.replace(f"DTSTART;TZID=Asia/Jakarta:{day(70)}T090000", f"DTSTART:{start}")
            .replace(f"DTEND;TZID=Asia/Jakarta:{day(70)}T100000", "DURATION:PT1H"))


def _many_exdates(count: int) -> str:
    """A daily series with ``count`` EXDATE values, 2,000 per line."""
    first = dt.date.today() + dt.timedelta(days=80)
    values = [(first + dt.timedelta(days=i)).strftime("%Y%m%d") + "T020000Z"
              for i in range(count)]
    lines = "\n".join("EXDATE:" + ",".join(values[i:i + 2000]) for i in range(0, count, 2000))
    return ics(uid(), f"{first:%Y%m%d}T090000", f"{first:%Y%m%d}T100000",
               extra=f"RRULE:FREQ=DAILY\n{lines}")


def _numbers(first: int, last: int) -> str:
    return ",".join(str(n) for n in range(first, last + 1))


COSTLY = {
    "every-second-of-every-day": (
        ics(uid(), f"{day(70)}T000000", f"{day(70)}T000001",
            extra=f"RRULE:FREQ=YEARLY;BYYEARDAY={_numbers(1, 366)};BYHOUR={_numbers(0, 23)};"
                  f"BYMINUTE={_numbers(0, 59)};BYSECOND={_numbers(0, 44)}"), "BYYEARDAY"),
    "late-in-its-year": (
        ics(uid(), "20351231T235959", "20351231T235959",
            extra=f"RRULE:FREQ=YEARLY;BYYEARDAY={_numbers(1, 366)};BYHOUR={_numbers(0, 23)};"
                  f"BYMINUTE={_numbers(0, 59)};BYSECOND={_numbers(0, 44)}"), "calon waktu"),
    "daily-from-year-1": (_floating("00010101T090000", "RRULE:FREQ=DAILY"), "DTSTART"),
    "never-matches": (ics(uid(), f"{day(70)}T090000", f"{day(70)}T100000",
                          extra="RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"), "tidak pernah"),
    "count-reached-after-centuries": (
        ics(uid(), f"{day(70)}T090000", f"{day(70)}T100000",
            extra="RRULE:FREQ=DAILY;COUNT=9000;BYMONTH=2;BYMONTHDAY=29"), "COUNT=9000"),
    "interval-never-meets": (ics(uid(), f"{day(71)}T090000", f"{day(71)}T100000",  # a Tuesday
                                 extra="RRULE:FREQ=DAILY;INTERVAL=7;BYDAY=MO"), "INTERVAL=7"),
    "100000-exdates": (_many_exdates(100_000), "EXDATE"),
}


@pytest.mark.parametrize("case", sorted(COSTLY))
def test_costly_recurrence_is_refused_at_once(srv: LiveServer, case: str) -> None:
    """Refused with a sentence, nothing written, and another OPD's PUT meanwhile works."""
    body, words = COSTLY[case]
    before = _stored(srv, "dinkes")
    other: dict[str, object] = {}

    def other_opd() -> None:
        began = time.perf_counter()
        status, text = put(srv, "pic-y", "dinsos", ics(uid(), f"{day(90)}T090000",
                                                       f"{day(90)}T100000"))
        other.update(status=status, text=text, seconds=time.perf_counter() - began)

    thread = threading.Thread(target=other_opd)
    began = time.perf_counter()
    thread.start()
    r = srv.request("pic-x", "PUT", f"/opd/dinkes/{uuid.uuid4().hex}.ics", data=body.encode(),
                    headers={"Content-Type": "text/calendar; charset=utf-8"})
    seconds = time.perf_counter() - began
    thread.join()
    print(f"{case}: {len(body)} bytes refused in {seconds:.3f} s; "
          f"other OPD's PUT {other['seconds']:.3f} s")
    assert r.status_code == 400, r.text
    message = ET.fromstring(r.content).findtext(f"{K}message") or ""
    assert words in message, message
    assert _stored(srv, "dinkes") == before
    assert other["status"] == 201, other["text"]


def test_costly_item_in_an_import(srv: LiveServer) -> None:
    """A whole-calendar PUT is planned item by item: one costly item refuses the import."""
    fine = ics(uid(), f"{day(72)}T090000", f"{day(72)}T100000", location="Taman Brantas")
    costly = COSTLY["never-matches"][0]
    body = fine.replace("END:VCALENDAR\r\n", costly.split("PRODID:-//Kalender OPD//tests//ID\r\n")
                        [1])
    r = srv.request("admin-a", "PUT", "/opd/kec-mojoroto/", data=body.encode(),
                    headers={"Content-Type": "text/calendar"})
    assert r.status_code == 400, r.text
    assert "tidak pernah" in (ET.fromstring(r.content).findtext(f"{K}message") or "")
    assert not list((srv.dep.collections / "collection-root/opd/kec-mojoroto").glob("*.ics"))


def test_plan_in_the_lock_reuses_the_plan_made_before(tmp_path: Path) -> None:
    """Guard.plan reuses plan_ahead's result for Radicale's serialisation of the same body."""
    dep = make_deployment(tmp_path / "kediri")
    guard = Guard(dep, CachedRegistry(dep), limits=Limits(radicale_limit=10000))
    text = ics(uid(), f"{day(80)}T090000", f"{day(80)}T100000", location="Ruang Kilisuci",
               extra=WEEKLY)
    (component,) = radicale_item.read_components(text)  # what Radicale stores
    item = radicale_item.Item(collection_path="opd/dinkes", vobject_item=component)
    guard.plan_ahead("opd/dinkes", text, whole=False)
    first = guard.plan("opd/dinkes", "a.ics", item.serialize(), item.uid)
    assert first.extracted is not None and len(first.bookings) == 8
    assert guard.plan("opd/dinkes", "a.ics", item.serialize(), item.uid).extracted \
        is first.extracted
    # another calendar, or a re-index, is planned anew
    assert guard.plan("opd/dinsos", "a.ics", item.serialize(), item.uid).extracted \
        is not first.extracted
    assert guard.plan("opd/dinkes", "a.ics", item.serialize(), item.uid,
                      storing=False).extracted is not first.extracted
    # a registry change (a new venue) is seen: planned anew, with the same result here
    assert cli.main(["venue", "add", "aula-uji", "Aula Uji", "--dir", str(dep.root)]) == 0
    again = guard.plan("opd/dinkes", "a.ics", item.serialize(), item.uid)
    assert again.extracted is not first.extracted and again.bookings == first.bookings
    guard.forget_ahead()
    guard.plan_ahead("opd/dinkes", text, whole=False)
    # a different body under the same UID (what Radicale stores differs): planned anew
    changed = item.serialize().replace("T090000", "T080000")
    assert guard.plan("opd/dinkes", "a.ics", changed, item.uid).bookings[0].start \
        == first.bookings[0].start - 3600
