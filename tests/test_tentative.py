"""Tentative holds (STATUS:TENTATIVE, RFC 5545 §3.8.1.11): block, or only warn, per deployment.

Pure tables for the policy in the clash engine, the per-occurrence flag of the
extractor, the sentences; then real servers (one per policy) over HTTP.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pytest

from kalender import database, upgrade
from kalender.admin.serve import make_app
from kalender.clash import messages
from kalender.clash.extract import extract
from kalender.clash.guard import Guard
from kalender.clash.rules import BLOCK, WARN, Booking, Clash, Venue, judge, obstacles
from kalender.deployment import CachedRegistry, Deployment
from tests.conftest import LiveServer, event_ics, make_deployment, serve_in_thread
from tests.test_match import MATCHER

H = 3600
VENUES = {"joyoboyo": Venue("joyoboyo", "Ruang Joyoboyo"),
          "aula": Venue("aula", "Aula Balai Kota", capacity=2)}


def b(uid: str, start: float, end: float, venues: str = "", persons: str = "",
      opd: str = "dinkes", tentative: bool = False) -> Booking:
    """A booking from hours and space-separated ids."""
    return Booking(uid, opd, int(start * H), int(end * H), frozenset(venues.split()),
                   frozenset(persons.split()), title=uid, tentative=tentative)


def names(clashes: tuple[Clash, ...]) -> list[str]:
    return [f"{c.booking.uid}>{c.other.uid}" for c in clashes]


# -- the policy in the clash engine (pure) ---------------------------------------
HOLD = b("hold", 9, 11, "joyoboyo", "wali-kota", "dinsos", tentative=True)
FIRM = b("firm", 9, 11, "joyoboyo", "wali-kota", "dinsos")


@pytest.mark.parametrize(("policy", "existing", "candidate", "refused", "warned"), [
    # block: a hold is a booking, whichever side it is on
    (BLOCK, [HOLD], b("new", 10, 12, "joyoboyo"), ["new>hold"], []),
    (BLOCK, [FIRM], b("new", 10, 12, "joyoboyo", tentative=True), ["new>firm"], []),
    (BLOCK, [HOLD], b("new", 10, 12, persons="wali-kota"), ["new>hold"], []),
    # warn: a clash with a hold on either side is accepted with a warning
    (WARN, [HOLD], b("new", 10, 12, "joyoboyo"), [], ["new>hold"]),
    (WARN, [FIRM], b("new", 10, 12, "joyoboyo", tentative=True), [], ["new>firm"]),
    (WARN, [HOLD], b("new", 10, 12, "joyoboyo", tentative=True), [], ["new>hold"]),
    (WARN, [HOLD], b("new", 10, 12, persons="wali-kota"), [], ["new>hold"]),
    # firm against firm still refuses; the hold beside it is only a warning
    (WARN, [FIRM], b("new", 10, 12, "joyoboyo"), ["new>firm"], []),
    (WARN, [FIRM, b("hold2", 8, 10, "joyoboyo", tentative=True)], b("new", 9.5, 12, "joyoboyo"),
     ["new>firm"], ["new>hold2"]),
    # capacity 2: a firm booking plus a hold leave room for a firm one under warn
    (WARN, [b("a", 9, 11, "aula"), b("h", 9, 11, "aula", tentative=True)],
     b("new", 9, 10, "aula"), [], ["new>a", "new>h"]),
    (BLOCK, [b("a", 9, 11, "aula"), b("h", 9, 11, "aula", tentative=True)],
     b("new", 9, 10, "aula"), ["new>a", "new>h"], []),
    (WARN, [b("a", 9, 11, "aula"), b("c", 9, 11, "aula")], b("new", 9, 10, "aula"),
     ["new>a", "new>c"], []),
    # no overlap, nothing either way
    (WARN, [HOLD], b("new", 11, 12, "joyoboyo"), [], []),
])
def test_policy_table(policy: str, existing: list[Booking], candidate: Booking,
                      refused: list[str], warned: list[str]) -> None:
    verdict = judge([candidate], existing, VENUES, policy)
    assert names(verdict.refused) == refused
    assert names(verdict.warned) == warned


def test_obstacles_and_unknown_policy() -> None:
    assert obstacles([HOLD, FIRM], BLOCK) == [HOLD, FIRM]
    assert obstacles([HOLD, FIRM], WARN) == [FIRM]  # free-slot searches ignore holds
    with pytest.raises(ValueError, match="policy"):
        judge([FIRM], [HOLD], VENUES, "maybe")


# -- the flag per occurrence (extract) ---------------------------------------------
NOW = int(dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp())


def series(master_status: str, override_status: str, first: str = "20250106",
           second: str = "20250113", uid: str = "seri@kedirikota.go.id") -> str:
    """A weekly series of three days in Ruang Joyoboyo, 09.00-10.00; the second overridden."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Uji//ID",
             "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T000000Z",
             f"DTSTART;TZID=Asia/Jakarta:{first}T090000",
             f"DTEND;TZID=Asia/Jakarta:{first}T100000", "RRULE:FREQ=WEEKLY;COUNT=3",
             "SUMMARY:Rapat Mingguan", "LOCATION:Ruang Joyoboyo"]
    lines += [f"STATUS:{master_status}"] if master_status else []
    lines += ["END:VEVENT", "BEGIN:VEVENT", f"UID:{uid}",
              "DTSTAMP:20250101T000000Z", f"RECURRENCE-ID;TZID=Asia/Jakarta:{second}T090000",
              f"DTSTART;TZID=Asia/Jakarta:{second}T090000",
              f"DTEND;TZID=Asia/Jakarta:{second}T100000",
              "SUMMARY:Rapat Mingguan", "LOCATION:Ruang Joyoboyo"]
    lines += [f"STATUS:{override_status}"] if override_status else []
    return "\r\n".join([*lines, "END:VEVENT", "END:VCALENDAR", ""])


@pytest.mark.parametrize(("master", "override", "flags"), [
    ("TENTATIVE", "CONFIRMED", [True, False, True]),
    ("CONFIRMED", "TENTATIVE", [False, True, False]),
    ("", "TENTATIVE", [False, True, False]),
    ("TENTATIVE", "", [True, False, True]),  # STATUS is not inherited by an override
    ("tentative", "TENTATIVE", [True, True, True]),
])
def test_tentative_is_decided_per_occurrence(master: str, override: str,
                                             flags: list[bool]) -> None:
    found = extract(series(master, override), "dinkes", MATCHER, now=NOW)
    assert [x.tentative for x in found.bookings] == flags
    assert all(x.venues == {"ruang-joyoboyo"} for x in found.bookings)  # holds still book


# -- sentences ---------------------------------------------------------------------
def test_sentences_name_a_hold_and_never_a_private_title() -> None:
    mine = b("new", 10, 12, "joyoboyo")
    public = Booking("h", "dinsos", 9 * H, 11 * H, frozenset({"joyoboyo"}),
                     title="Rapat Stunting", tentative=True)
    private = Booking("p", "dinsos", 9 * H, 11 * H, frozenset({"joyoboyo"}),
                      title="Kasus Rahasia", private=True, tentative=True)
    assert messages.activity(public) == "kegiatan tentatif \"Rapat Stunting\""
    assert messages.activity(private) == "kegiatan tentatif tertutup"
    said = messages.sentence(Clash("venue", "joyoboyo", mine, private), "Ruang Joyoboyo",
                             "Dinas Sosial")
    assert "kegiatan tentatif tertutup" in said and "Rahasia" not in said
    warned = messages.warned([Clash("venue", "joyoboyo", mine, public),
                              Clash("venue", "joyoboyo", mine, private)],
                             lambda kind, rid: "Ruang Joyoboyo", {"dinsos": "Dinas Sosial"})
    assert warned.startswith("Diterima, tetapi bertabrakan dengan kegiatan tentatif "
                             "\"Rapat Stunting\" (Dinas Sosial) di Ruang Joyoboyo pada ")
    assert "Rahasia" not in warned
    details = messages.details([Clash("venue", "joyoboyo", mine, private)])
    assert details[0]["tentative"] == "true" and "title" not in details[0]


# -- over HTTP ---------------------------------------------------------------------
DAY = "20321206"  # a Monday


def _town(root: Path, policy: str | None) -> Deployment:
    dep = make_deployment(root)
    if policy is not None:
        text = dep.config.read_text("utf-8")
        dep.config.write_text(text.replace("[storage]\n",
                                           f"[storage]\nkalender_tentative = {policy}\n", 1),
                              encoding="utf-8")
    return dep


@pytest.fixture(scope="module")
def blocking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The default: no option in the config (holds block)."""
    yield from serve_in_thread(_town(tmp_path_factory.mktemp("block") / "kediri", None))


@pytest.fixture(scope="module")
def warning(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from serve_in_thread(_town(tmp_path_factory.mktemp("warn") / "kediri", "warn"))


def put(live: LiveServer, login: str, opd: str, start: str, end: str, summary: str,
        status: str = "", day: str = DAY, body: str = "", uid: str = "") -> tuple[int, str]:
    uid = uid or str(uuid.uuid4())
    body = body or event_ics(uid, f"{day}T{start}00", f"{day}T{end}00", summary=summary,
                             location="Ruang Joyoboyo",
                             extra=f"STATUS:{status}" if status else "")
    r = live.request(login, "PUT", f"/opd/{opd}/{uid}.ics", data=body.encode(),
                     headers={"Content-Type": "text/calendar"})
    return (201 if r.status_code == 204 else r.status_code), r.text


def entries(live: LiveServer, opd: str, login: str) -> list[icalendar.Event]:
    r = live.request(login, "GET", f"/bentrok/{opd}/")
    assert r.status_code == 200, r.text
    return list(icalendar.Calendar.from_ical(r.text).walk("VEVENT")) if r.text.strip() else []


def wait_entry(live: LiveServer, opd: str, login: str, title: str,
               timeout: float = 20) -> icalendar.Event:
    """The Bentrok entry about ``title`` once the notifier wrote it."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in entries(live, opd, login) if title in str(e["SUMMARY"])]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no Bentrok entry about {title!r} in {opd}")
        time.sleep(0.2)


def test_block_a_hold_refuses_a_second_booking(blocking: LiveServer) -> None:
    assert put(blocking, "pic-x", "dinkes", "0900", "1100", "Rapat Stunting", "TENTATIVE")[0] == 201
    status, text = put(blocking, "pic-y", "dinsos", "1000", "1200", "Bakti Sosial")
    assert status == 403, text
    assert "kegiatan tentatif &quot;Rapat Stunting&quot;" in text or \
        "kegiatan tentatif \"Rapat Stunting\"" in text


def test_block_a_tentative_override_of_a_confirmed_series(blocking: LiveServer) -> None:
    uid = str(uuid.uuid4())
    # 3, 10 (the tentative override) and 17 Jan 2033, 09.00-10.00
    body = series("CONFIRMED", "TENTATIVE", "20330103", "20330110", uid)
    assert put(blocking, "pic-x", "dinkes", "", "", "", body=body, uid=uid)[0] == 201
    status, text = put(blocking, "pic-y", "dinsos", "0930", "1030", "Sosialisasi",
                       day="20330110")
    assert status == 403 and "kegiatan tentatif" in text, text
    status, text = put(blocking, "pic-y", "dinsos", "0930", "1030", "Sosialisasi",
                       day="20330117")
    assert status == 403 and "tentatif" not in text, text  # that date is confirmed


def test_warn_accepts_and_tells_the_writer(warning: LiveServer) -> None:
    assert put(warning, "pic-x", "dinkes", "0900", "1100", "Rapat Stunting", "TENTATIVE")[0] == 201
    status, text = put(warning, "pic-y", "dinsos", "1000", "1200", "Bakti Sosial")
    assert status == 201, text
    entry = wait_entry(warning, "dinsos", "pic-y", "Bakti Sosial")
    assert str(entry["X-KALENDER-KIND"]) == "peringatan"
    said = str(entry["DESCRIPTION"])
    assert "Diterima, tetapi bertabrakan dengan kegiatan tentatif \"Rapat Stunting\"" in said
    assert "Ruang Joyoboyo" in said
    assert not [e for e in entries(warning, "dinkes", "pic-x")
                if "Bakti Sosial" in str(e["SUMMARY"])]  # the writer's OPD only


def test_warn_a_hold_over_a_firm_booking_is_accepted(warning: LiveServer) -> None:
    assert put(warning, "pic-x", "dinkes", "1300", "1400", "Rapat Gizi")[0] == 201
    status, text = put(warning, "pic-y", "dinsos", "1330", "1500", "Rapat Usulan", "TENTATIVE")
    assert status == 201, text
    entry = wait_entry(warning, "dinsos", "pic-y", "Rapat Usulan")
    assert "Diterima sebagai kegiatan tentatif" in str(entry["DESCRIPTION"])


def test_warn_firm_clash_still_refused(warning: LiveServer) -> None:
    assert put(warning, "pic-x", "dinkes", "1500", "1600", "Rapat Pasti")[0] == 201
    status, text = put(warning, "pic-y", "dinsos", "1530", "1700", "Rapat Lain")
    assert status == 403 and "tentatif" not in text, text


def test_warn_per_occurrence_of_a_tentative_series(warning: LiveServer) -> None:
    uid = str(uuid.uuid4())
    # 3, 10 (confirmed) and 17 Jan 2033, 09.00-10.00; the others are holds
    body = series("TENTATIVE", "CONFIRMED", "20330103", "20330110", uid)
    assert put(warning, "pic-x", "dinkes", "", "", "", body=body, uid=uid)[0] == 201
    assert put(warning, "pic-y", "dinsos", "0930", "1030", "Satu", day="20330110")[0] == 403
    assert put(warning, "pic-y", "dinsos", "0930", "1030", "Dua", day="20330117")[0] == 201


def test_live_check_and_free_slots_follow_the_policy(blocking: LiveServer,
                                                     warning: LiveServer) -> None:
    day, hold = dt.date(2032, 12, 8), "Rapat Usulan Anggaran"
    for live in (blocking, warning):
        assert put(live, "pic-x", "dinkes", "0700", "1800", hold, "TENTATIVE",
                   day="20321208")[0] == 201
    body = event_ics("coba", "20321208T100000", "20321208T110000", summary="Coba",
                     location="Ruang Joyoboyo")
    for live, policy in ((blocking, BLOCK), (warning, WARN)):
        guard = Guard(live.dep, CachedRegistry(live.dep), tentative=policy)
        trial = guard.trial("/opd/dinsos/", body, "pic-y")
        slots = guard.free_slots(3600, "ruang-joyoboyo", [], [day], "pic-y")
        venues = guard.free_venues(trial_start(day), trial_start(day) + H)
        if policy == BLOCK:
            assert not trial.accepted and "kegiatan tentatif" in trial.message
            assert slots == [] and "ruang-joyoboyo" not in venues
        else:
            assert trial.accepted and trial.message.startswith("Diterima, tetapi")
            assert slots and "ruang-joyoboyo" in venues


def trial_start(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(10), dt.timezone(dt.timedelta(hours=7)))
               .timestamp())


def test_a_bad_option_is_a_clear_startup_error(tmp_path: Path) -> None:
    dep = _town(tmp_path / "kediri", "mungkin")
    with pytest.raises(ValueError, match=r"kalender_tentative harus block atau warn"):
        make_app(dep)


def test_an_older_index_gets_the_column(tmp_path: Path) -> None:
    path = tmp_path / "kalender.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE slots (collection TEXT NOT NULL, href TEXT NOT NULL, uid TEXT "
                "NOT NULL, opd TEXT NOT NULL, kind TEXT NOT NULL, resource TEXT NOT NULL, "
                "start INTEGER NOT NULL, \"end\" INTEGER NOT NULL, title TEXT NOT NULL, "
                "private INTEGER NOT NULL, rid INTEGER)")
    old.execute("INSERT INTO slots VALUES ('opd/dinkes', 'a.ics', 'a', 'dinkes', 'venue', "
                "'ruang-joyoboyo', 0, 3600, 'Rapat', 0, NULL)")
    old.commit()
    old.close()
    conn = database.connect(path)
    assert conn.execute("SELECT uid, tentative FROM slots").fetchall() == [("a", 0)]
    database._add_columns(conn)  # idempotent
    columns = [r[1] for r in conn.execute("PRAGMA table_info(slots)")]
    assert columns.count("tentative") == 1


def test_upgrade_marks_holds_indexed_before(tmp_path: Path) -> None:
    """Holds indexed as firm bookings (before the column) are re-read once by the upgrade."""
    dep = make_deployment(tmp_path / "kediri")
    servers = serve_in_thread(dep)
    live = next(servers)
    try:
        assert put(live, "pic-x", "dinkes", "0900", "1000", "Usulan", "TENTATIVE")[0] == 201
        assert put(live, "pic-x", "dinkes", "1000", "1100", "Pasti", "CONFIRMED")[0] == 201
    finally:
        servers.close()
    db = database.connect(dep.database)
    with db:  # the index as the code before holds were told apart wrote it
        db.execute("UPDATE slots SET tentative = 0")
        db.execute("DELETE FROM meta WHERE key = 'tentative_holds'")
    assert "indeks: 1 jadwal kini ditandai tentatif" in upgrade.upgrade(dep)
    assert sorted(db.execute("SELECT title, tentative FROM slots")) == [
        ("Pasti", 0), ("Usulan", 1)]
    assert not any("tentatif" in line for line in upgrade.upgrade(dep))  # once
