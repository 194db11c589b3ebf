"""Every output copy has a VTIMEZONE for each TZID it uses, named by tzdata (issue 12 item 4)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
import warnings
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest

from kalender.clash.match import Matcher
from kalender.clash.rules import Venue
from kalender.clash.tz import resolve_tzid
from kalender.errors import UnknownTimezoneError
from kalender_sync.plan import targets
from kalender_sync.service import SyncService
from kalender_sync.transform import Source, output_uid, parse
from tests.conftest import LiveServer, make_deployment, serve_in_thread

FIXTURES = Path(__file__).parent / "fixtures" / "ics"
MATCHER = Matcher((Venue("ruang-joyoboyo", "Ruang Joyoboyo", "Balai Kota Kediri",
                         ("R. Joyoboyo",)),), ())
DAY = (dt.date.today() + dt.timedelta(days=10)).strftime("%Y%m%d")
JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
#: A VTIMEZONE as Outlook writes it for a Windows zone (a 1601 start, STANDARD = DAYLIGHT).
OUTLOOK_ZONE = """BEGIN:VTIMEZONE
TZID:{tzid}
BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:+0700
TZOFFSETTO:+0700
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T000000
TZOFFSETFROM:+0700
TZOFFSETTO:+0700
END:DAYLIGHT
END:VTIMEZONE
"""


def item(uid: str, tzid: str, zone: str = "", *, where: str = "Ruang Joyoboyo",
         extra: str = "", hour: int = 9, moved_to: int = 13) -> str:
    """A weekly series in ``tzid`` with an RDATE, an EXDATE and a moved occurrence."""
    if any(c in tzid for c in ":;,"):
        tzid = f'"{tzid}"'  # a parameter value with these is quoted (RFC 5545 §3.2)
    text = (f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Kalender OPD//tests//ID\n{zone}"
            f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20260101T000000Z\n"
            f"DTSTART;TZID={tzid}:{DAY}T090000\nDTEND;TZID={tzid}:{DAY}T100000\n"
            "RRULE:FREQ=WEEKLY;COUNT=4\n"
            f"EXDATE;TZID={tzid}:{_later(7)}T090000\nRDATE;TZID={tzid}:{_later(2)}T090000\n"
            f"SUMMARY:Rapat Koordinasi\nLOCATION:{where}\nCLASS:PUBLIC\n"
            "DESCRIPTION:Narasumber: Wali Kota Kediri\n{extra}END:VEVENT\n"
            f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20260101T000000Z\n"
            f"RECURRENCE-ID;TZID={tzid}:{_later(14)}T090000\n"
            f"DTSTART;TZID={tzid}:{_later(14)}T130000\nDTEND;TZID={tzid}:{_later(14)}T140000\n"
            f"SUMMARY:Rapat Koordinasi (siang)\nLOCATION:{where}\nEND:VEVENT\nEND:VCALENDAR\n")
    hours = {"09": hour, "10": hour + 1, "13": moved_to, "14": moved_to + 1}
    text = re.sub(r"T(09|10|13|14)0000", lambda m: f"T{hours[m[1]]:02d}0000", text)
    return text.replace("{extra}", extra).replace("\r\n", "\n").replace("\n", "\r\n")


def _later(days: int) -> str:
    """DAY plus ``days``, as iCalendar text."""
    return (dt.datetime.strptime(DAY, "%Y%m%d") + dt.timedelta(days=days)).strftime("%Y%m%d")


def missing(cal: icalendar.Calendar) -> set[str]:
    """TZIDs a calendar uses without a VTIMEZONE of that TZID (RFC 5545 §3.2.19)."""
    defined = {str(z["TZID"]) for z in cal.walk("VTIMEZONE")}
    used: set[str] = set()
    for component in cal.walk():
        if component.name in ("VTIMEZONE", "STANDARD", "DAYLIGHT"):
            continue
        for values in component.values():
            for value in values if isinstance(values, list) else [values]:
                tzid = getattr(value, "params", {}).get("TZID")
                if tzid:
                    used.add(str(tzid))
    return used - defined


def outputs(text: str) -> dict[tuple[str, str], icalendar.Calendar]:
    """Every output copy of a dinkes source, read back from its text."""
    src = Source("dinkes", "Dinas Kesehatan Kota Kediri", "x.ics", "x@test", text)
    return {k: icalendar.Calendar.from_ical(v.to_ical())
            for k, v in targets(src, parse(src), MATCHER).items()}


def instants(cal: icalendar.Calendar) -> list[dt.datetime]:
    """DTSTART, RDATE, EXDATE and RECURRENCE-ID of every VEVENT as UTC instants."""
    found: list[dt.datetime] = []
    for event in cal.walk("VEVENT"):
        for name in ("DTSTART", "RECURRENCE-ID", "RDATE", "EXDATE"):
            prop = event.get(name)
            for value in [prop.dt] if hasattr(prop, "dt") else [d.dt for d in
                                                                 getattr(prop, "dts", [])]:
                assert value.tzinfo is not None, (name, value)  # never floating
                found.append(value.astimezone(dt.UTC))
    return sorted(found)


EXPECTED = sorted(dt.datetime.strptime(d + t, "%Y%m%d%H%M").replace(tzinfo=JAKARTA)
                  .astimezone(dt.UTC) for d, t in ((DAY, "0900"), (_later(7), "0900"),
                                                   (_later(2), "0900"), (_later(14), "0900"),
                                                   (_later(14), "1300")))

QUIRKS = {
    "wib-without-vtimezone": ("WIB", ""),
    "windows-id-outlook": ("SE Asia Standard Time",
                           OUTLOOK_ZONE.format(tzid="SE Asia Standard Time")),
    "outlook-display-name": ("(UTC+07:00) Bangkok, Hanoi, Jakarta",
                             OUTLOOK_ZONE.format(tzid=r"(UTC+07:00) Bangkok\, Hanoi\, Jakarta")),
    "quoted-lowercase": ('"asia/jakarta"', ""),
    "windows-id-without-vtimezone": ("SE Asia Standard Time", ""),
}


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_server_resolved_names_become_asia_jakarta(quirk: str) -> None:
    """Each client quirk ends as TZID=Asia/Jakarta with its VTIMEZONE, same instants."""
    tzid, zone = QUIRKS[quirk]
    out = outputs(item("x@test", tzid, zone.replace("\n", "\r\n")))
    assert {c for c, _ in out} == {"pimpinan/agenda", "publik/agenda", "ruang/ruang-joyoboyo"}
    for key, cal in out.items():
        assert missing(cal) == set(), key
        assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["Asia/Jakarta"], key
        text = cal.to_ical().decode()
        assert text.count("TZID=Asia/Jakarta") == 7, key  # 2 DTSTART, 2 DTEND, RDATE, EXDATE, RID
        assert f"TZID={tzid}" not in text and f"TZID:{tzid}" not in text, key
        assert instants(icalendar.Calendar.from_ical(text)) == EXPECTED, key


def test_outlook_fixture_gets_asia_jakarta() -> None:
    """The Exchange 2010 invitation (SE Asia Standard Time) of tests/fixtures."""
    text = (FIXTURES / "outlook_exchange_windows_tzid.ics").read_text("utf-8")
    for key, cal in outputs(text).items():
        assert missing(cal) == set() and "SE Asia" not in cal.to_ical().decode(), key
        (event,) = cal.walk("VEVENT")
        assert event["DTSTART"].params["TZID"] == "Asia/Jakarta"
        assert event["DTSTART"].dt == dt.datetime(2025, 1, 15, 14, tzinfo=JAKARTA)


def test_proper_iana_vtimezone_is_kept_as_sent() -> None:
    """A client's own Asia/Jakarta VTIMEZONE stays (no change for copies that were right)."""
    zone = ("BEGIN:VTIMEZONE\nTZID:Asia/Jakarta\nX-LIC-LOCATION:Asia/Jakarta\nBEGIN:STANDARD\n"
            "TZOFFSETFROM:+0700\nTZOFFSETTO:+0700\nTZNAME:WIB\nDTSTART:19700101T000000\n"
            "END:STANDARD\nEND:VTIMEZONE\n")
    for key, cal in outputs(item("x@test", "Asia/Jakarta", zone.replace("\n", "\r\n"))).items():
        (vtz,) = cal.walk("VTIMEZONE")
        assert str(vtz.walk("STANDARD")[0]["TZNAME"]) == "WIB" and "X-LIC-LOCATION" not in vtz
        assert "COMMENT" not in vtz, key  # the client's, not a generated one
        assert instants(cal) == EXPECTED


def test_other_zones_get_their_daylight_rules() -> None:
    """A Berlin meeting named by its Outlook display name: Europe/Berlin with CET and CEST."""
    tzid = "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"
    zone = OUTLOOK_ZONE.format(tzid=tzid.replace(",", "\\,")).replace("+0700", "+0100")
    out = outputs(item("x@test", tzid, zone
                       .replace("\n", "\r\n")))
    cal = out[("publik/agenda", next(h for c, h in out if c == "publik/agenda"))]
    (vtz,) = cal.walk("VTIMEZONE")
    assert str(vtz["TZID"]) == "Europe/Berlin" and missing(cal) == set()
    assert {c.name for c in vtz.subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert len(vtz.to_ical()) < 2500  # bounded range of transitions
    start = cal.walk("VEVENT")[0]["DTSTART"].dt
    assert start.tzinfo is not None and str(start.tzinfo) in ("Europe/Berlin", "CET")


def test_own_definition_and_fixed_offset_keep_their_names() -> None:
    """A zone known only by its VTIMEZONE keeps it; "UTC+07:00" gets one of its own."""
    custom = OUTLOOK_ZONE.format(tzid="Waktu Kantor Kediri")
    for tzid, zone in (("Waktu Kantor Kediri", custom), ("UTC+07:00", "")):
        for key, cal in outputs(item("x@test", tzid, zone.replace("\n", "\r\n"))).items():
            assert missing(cal) == set(), (tzid, key)
            assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == [tzid]
            assert instants(cal) == EXPECTED


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.ics")), ids=lambda p: p.stem)
def test_every_client_fixture_copy_has_its_vtimezones(path: Path) -> None:
    """Each client export of tests/fixtures: no copy uses a TZID without its VTIMEZONE."""
    src = Source("dinkes", "Dinas Kesehatan Kota Kediri", "x.ics", "x@test",
                 path.read_text("utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # icalendar warns on guessed vendor TZIDs (Evolution)
        try:
            cal = parse(src)
        except ValueError:
            pytest.skip("unreadable fixture (refused by the server too)")
        copies = targets(src, cal, MATCHER)
    given = {str(z["TZID"]): z for z in cal.walk("VTIMEZONE")}
    try:
        for tzid in missing(cal) | {str(z) for z in given}:
            resolve_tzid(tzid, given)
    except UnknownTimezoneError:
        pytest.skip("a TZID nothing defines: the server refuses the item (4xx)")
    assert copies
    for key, copy in copies.items():
        back = icalendar.Calendar.from_ical(copy.to_ical())
        assert missing(back) == set(), key
        defined = [str(z["TZID"]) for z in back.walk("VTIMEZONE")]
        assert len(defined) == len(set(defined)), key


# -- through a real server and a sync pass -------------------------------------------------

@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A deployment of its own."""
    dep = make_deployment(tmp_path_factory.mktemp("zones") / "kediri")
    yield from serve_in_thread(dep)


def test_every_output_has_its_vtimezones(live: LiveServer) -> None:
    """TZID=WIB reaches /publik/agenda/ as Asia/Jakarta; no feed file lacks a VTIMEZONE."""
    uids = {quirk: f"{uuid.uuid4()}@test" for quirk in QUIRKS}
    for i, (quirk, (tzid, zone)) in enumerate(QUIRKS.items()):  # no two at one time
        body = item(uids[quirk], tzid, zone, where="Ruang Kilisuci", hour=7 + 2 * i,
                    moved_to=8 + 2 * i)
        # Radicale (vobject) refuses an RDATE or EXDATE in a zone it cannot name (400
        # valid-calendar-data, whatever the VTIMEZONE): the unit tests above cover those
        body = "".join(line for line in body.splitlines(keepends=True)
                       if not line.startswith(("EXDATE", "RDATE")))
        r = live.request("pic-x", "PUT", f"/opd/dinkes/{quirk}.ics", data=body.encode(),
                         headers={"Content-Type": "text/calendar"})
        assert r.status_code in (201, 204), (quirk, r.text)
    service = SyncService(live.dep, live.url)
    try:
        report = service.run_once()
    finally:
        service.close()
    assert not report.skipped

    r = live.request(None, "GET", "/publik/agenda/")
    assert r.status_code == 200
    public = icalendar.Calendar.from_ical(r.content)
    wib = [e for e in public.walk("VEVENT")
           if str(e["UID"]) == output_uid("dinkes", uids["wib-without-vtimezone"])]
    assert wib and all(e["DTSTART"].params["TZID"] == "Asia/Jakarta" for e in wib)
    assert "Asia/Jakarta" in {str(z["TZID"]) for z in public.walk("VTIMEZONE")}
    assert b"TZID=WIB" not in r.content and missing(public) == set()

    for path in ("/pimpinan/agenda/", "/ruang/ruang-kilisuci/", "/orang/wali-kota/"):
        r = live.request("pimpinan-a", "GET", path)
        assert r.status_code == 200, path
        cal = icalendar.Calendar.from_ical(r.content)
        assert len(cal.walk("VEVENT")) >= 2 * len(QUIRKS), path
        assert missing(cal) == set(), path

    files = sorted((live.dep.root / "feeds").glob("*.ics"))
    assert files
    for path in files:
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        assert missing(cal) == set(), path.name
        for event in cal.walk("VEVENT"):
            assert instants_ok(event), (path.name, str(event["UID"]))


def instants_ok(event: icalendar.cal.Component) -> bool:
    """Whether every zoned value of a VEVENT resolved to a zone (nothing floating)."""
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        value = event.get(name)
        if value is not None and isinstance(value.dt, dt.datetime) and value.dt.tzinfo is None:
            return False
    return True
