"""The daily digest of the leaders' agenda: content, ``kalender digest``, the scheduler.

PICs write by CalDAV to a real server, one sync pass fills the web index the
digest reads; mail goes to a real SMTP server (aiosmtpd, ``tests.smtp_sink``)
through the deployment's settings. The scheduler runs with an injected clock
(``Scheduler.run_once(now)``), and once on a real ``kalender serve``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from kalender.admin import cli, cmd_accounts
from kalender.admin.provision import load_configuration
from kalender.deployment import Deployment
from kalender.notify import digest, mail, schedule
from kalender.registry import User
from kalender.web.dates import hari_tanggal
from kalender_sync.service import SyncService
from tests.conftest import (
    ACCOUNTS,
    PASSWORD,
    ServeProcess,
    free_port,
    make_deployment,
    serve_in_thread,
)
from tests.smtp_sink import SmtpServer

WIB = dt.timezone(dt.timedelta(hours=7))
DAY = dt.datetime.now(WIB).date() + dt.timedelta(days=3)
NEXT = DAY + dt.timedelta(days=1)
#: Accounts beyond the shared ones: two aides who subscribe, one without an address.
AIDES = {"ajudan": User("ajudan", "pimpinan", (), "ajudan@kedirikota.go.id"),
         "prokopim": User("prokopim", "admin", (), "prokopim@kedirikota.go.id"),
         "tanpa-surel": User("tanpa-surel", "pimpinan")}


def ics(uid: str, summary: str, day: dt.date, start: str, end: str, extra: str = "") -> bytes:
    """A VEVENT in Asia/Jakarta."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Kalender OPD//tests//ID",
             "BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z",
             f"DTSTART;TZID=Asia/Jakarta:{day:%Y%m%d}T{start}00",
             f"DTEND;TZID=Asia/Jakarta:{day:%Y%m%d}T{end}00", f"SUMMARY:{summary}",
             *[x for x in extra.strip().splitlines() if x], "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


#: name -> (login, OPD, iCalendar); every one is accepted
EVENTS: dict[str, tuple[str, str, bytes]] = {
    "posyandu": ("pic-x", "dinkes", ics(
        "posyandu", "Posyandu Balita Kelurahan Bandar", DAY, "0900", "1100",
        "LOCATION:R. Kilisuci\nDESCRIPTION:Pejabat: Wali Kota Kediri\\nPakaian: PDH Khaki")),
    "zebra": ("pic-y", "dinsos", ics(
        "zebra", "Rapat <b>Zebra</b> & Mitra", DAY, "1300", "1400",
        "CLASS:PRIVATE\nLOCATION:Ruang Joyoboyo")),
    "hold": ("pic-y", "dinsos", ics(
        "hold", "Peninjauan Lokasi Bansos", DAY, "1500", "1600", "STATUS:TENTATIVE")),
    "batal": ("pic-x", "dinkes", ics(
        "batal", "Senam Bersama", DAY, "0600", "0700",
        "STATUS:CANCELLED\nLOCATION:Halaman Balai Kota Kediri")),
    "wakil": ("pic-x", "dinkes", ics(
        "wakil", "Pembukaan Pekan Imunisasi", DAY, "1900", "2000",
        "DESCRIPTION:Pejabat: Wali Kota Kediri\\nWali Kota Kediri diwakili oleh Wakil "
        "Wali Kota Kediri")),
    "besok": ("pic-xz", "diskominfo", ics(
        "besok", "Kunjungan Kerja Kominfo", NEXT, "0800", "0900")),
    "lusa": ("pic-xz", "diskominfo", ics(
        "lusa", "Pelatihan Literasi Lusa", NEXT + dt.timedelta(days=1), "0800", "0900")),
}


@dataclass
class Setup:
    """The deployment (served, synced once) and its SMTP server."""

    dep: Deployment
    smtp: SmtpServer

    def mails(self) -> list[EmailMessage]:
        """Every message received so far."""
        return list(self.smtp.sink.messages)


def add_aides(dep: Deployment) -> None:
    """The aides' accounts (with their e-mail addresses)."""
    for user in AIDES.values():
        cmd_accounts.add_user(dep, user, PASSWORD)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """A deployment with the events above, synced once, e-mail set up to a live sink."""
    dep = make_deployment(tmp_path_factory.mktemp("digest") / "kediri", ACCOUNTS)
    add_aides(dep)
    smtp = SmtpServer().start()
    mail.save(dep.root, mail.Settings("127.0.0.1", smtp.port, "kalender@kedirikota.go.id"))
    try:
        for server in serve_in_thread(dep):
            for name, (login, opd, body) in EVENTS.items():
                r = server.request(login, "PUT", f"/opd/{opd}/{name}-{uuid.uuid4().hex[:6]}.ics",
                                   data=body, headers={"Content-Type": "text/calendar"})
                assert r.status_code == 201, (name, r.status_code, r.text)
            service = SyncService(dep, server.url)
            try:
                service.run_once()
            finally:
                service.close()
            yield Setup(dep, smtp)
    finally:
        smtp.stop()


def kalender(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
             *args: str) -> tuple[int, str, str]:
    """Run the kalender command in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    try:
        code = cli.main(list(args))
    except SystemExit as e:  # usage errors exit through argparse
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    """A moment in WIB."""
    return dt.datetime.combine(day, dt.time(hour, minute), WIB)


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text part, HTML part) of a digest mail."""
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert plain is not None and rich is not None
    return (str(plain.get_content()).replace("\r\n", "\n"),
            str(rich.get_content()).replace("\r\n", "\n"))


# -- content -------------------------------------------------------------------------
def test_the_digest_lists_the_day_in_order_with_every_detail(setup: Setup) -> None:
    found = digest.of_deployment(setup.dep, DAY)
    assert [e.title for e in found.entries] == [
        "Senam Bersama", "Posyandu Balita Kelurahan Bandar", "Rapat <b>Zebra</b> & Mitra",
        "Peninjauan Lokasi Bansos", "Pembukaan Pekan Imunisasi"]
    batal, posyandu, zebra, hold, _ = found.entries
    assert posyandu.time == "09.00-11.00 WIB" and posyandu.place == "Ruang Kilisuci"
    assert posyandu.organiser == "Dinas Kesehatan Kota Kediri"
    assert posyandu.persons == ("Wali Kota Kediri",) and posyandu.status == "Definitif"
    assert zebra.klass == "Rahasia" and zebra.organiser == "Dinas Sosial Kota Kediri"
    assert hold.status == "Tentatif" and batal.status == "DIBATALKAN"
    assert batal.place == "Halaman Balai Kota Kediri"
    text = digest.text(found)
    assert text.startswith(f"Agenda Pimpinan Pemerintah Kota Kediri\n{hari_tanggal(DAY)}\n")
    assert "5 kegiatan" in text and "Kunjungan Kerja" not in text and "Lusa" not in text
    assert ("2. 09.00-11.00 WIB [Definitif]\n   Posyandu Balita Kelurahan Bandar\n"
            "   Tempat: Ruang Kilisuci\n   Penyelenggara: Dinas Kesehatan Kota Kediri\n"
            "   Pejabat: Wali Kota Kediri\n") in text
    assert "Rapat <b>Zebra</b> & Mitra (Rahasia)" in text and "[DIBATALKAN]" in text
    page = digest.html(found)
    assert "Rapat &lt;b&gt;Zebra&lt;/b&gt; &amp; Mitra (Rahasia)" in page
    assert "<b>Zebra" not in page and "Tentatif" in page and hari_tanggal(DAY) in page
    assert "Tidak ada kegiatan" in digest.text(digest.of_deployment(setup.dep,
                                                                    DAY - dt.timedelta(days=9)))


def test_stand_ins_and_dress_code_reach_the_digest(setup: Setup) -> None:
    found = {e.title: e for e in digest.of_deployment(setup.dep, DAY).entries}
    posyandu, wakil = found["Posyandu Balita Kelurahan Bandar"], found["Pembukaan Pekan Imunisasi"]
    assert posyandu.pakaian == "PDH Khaki"
    assert wakil.stand_ins == ("Wali Kota Kediri diwakili oleh Wakil Wali Kota Kediri",)
    text = digest.text(digest.of_deployment(setup.dep, DAY))
    assert "   Pakaian: PDH Khaki\n" in text
    assert "   Wali Kota Kediri diwakili oleh Wakil Wali Kota Kediri\n" in text


def test_entries_render_every_field_escaped() -> None:
    entry = digest.Entry("09.00-11.00 WIB", "Rakor <Stunting>", "Ruang Kilisuci", "Dinkes",
                         ("Wali Kota Kediri",), ("Wali Kota diwakili oleh Sekda & Asisten",),
                         "PDH <Khaki>", "Ditolak", "Waktu <bentrok>")
    found = digest.Digest(DAY, (entry,))
    text = digest.text(found)
    assert ("1. 09.00-11.00 WIB [Ditolak]\n   Rakor <Stunting>\n   Tempat: Ruang Kilisuci\n"
            "   Penyelenggara: Dinkes\n   Pejabat: Wali Kota Kediri\n"
            "   Wali Kota diwakili oleh Sekda & Asisten\n   Pakaian: PDH <Khaki>\n"
            "   Alasan penolakan: Waktu <bentrok>\n") in text
    page = digest.html(found)
    for escaped in ("Rakor &lt;Stunting&gt;", "Sekda &amp; Asisten", "PDH &lt;Khaki&gt;",
                    "Waktu &lt;bentrok&gt;"):
        assert escaped in page
    assert "<Stunting>" not in page and "<Khaki>" not in page


# -- kalender digest -------------------------------------------------------------------
def test_print_writes_the_text(setup: Setup, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = kalender(capsys, monkeypatch, "digest", DAY.isoformat(), "--print",
                              "--dir", str(setup.dep.root))
    assert (code, err) == (0, "")
    assert out == digest.text(digest.of_deployment(setup.dep, DAY))
    assert "Posyandu Balita Kelurahan Bandar" in out and "09.00-11.00 WIB" in out
    tomorrow = dt.datetime.now(WIB).date() + dt.timedelta(days=1)
    code, out, err = kalender(capsys, monkeypatch, "digest", "besok", "--dir",
                              str(setup.dep.root))
    assert code == 0 and out.splitlines()[1] == hari_tanggal(tomorrow), out
    code, out, err = kalender(capsys, monkeypatch, "digest", "hari-ini", "--dir",
                              str(setup.dep.root))
    assert code == 0 and out.splitlines()[1] == hari_tanggal(dt.datetime.now(WIB).date())


@pytest.mark.parametrize(("args", "wanted"), [
    (["digest", "2026-13-01"], "tanggal '2026-13-01' tidak dikenal"),
    (["digest", "lusa"], "tulis YYYY-MM-DD"),
    (["digest", "2026-12-01", "--to", "bukan alamat"], "alamat e-mail 'bukan alamat'"),
])
def test_bad_input_is_one_line(setup: Setup, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch, args: list[str],
                               wanted: str) -> None:
    code, out, err = kalender(capsys, monkeypatch, *args, "--dir", str(setup.dep.root))
    assert code == 1 and out == "" and err.count("\n") == 1 and wanted in err, err


def test_to_without_mail_settings_fails_clearly(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    dep = make_deployment(tmp_path / "kediri", {})
    code, out, err = kalender(capsys, monkeypatch, "digest", "besok", "--to",
                              "ajudan@kedirikota.go.id", "--dir", str(dep.root))
    assert (code, out) == (1, "")
    assert err == ("kalender: e-mail belum diatur; jalankan dulu 'kalender email setup' "
                   "(lihat 'kalender email setup --help')\n")


def test_to_sends_text_and_html_through_smtp(setup: Setup, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    before = len(setup.mails())
    code, out, err = kalender(capsys, monkeypatch, "digest", DAY.isoformat(), "--to",
                              "a@kedirikota.go.id", "--to", "b@kedirikota.go.id", "--dir",
                              str(setup.dep.root))
    assert (code, err) == (0, "")
    assert out == (f"Agenda pimpinan {hari_tanggal(DAY)} terkirim ke a@kedirikota.go.id.\n"
                   f"Agenda pimpinan {hari_tanggal(DAY)} terkirim ke b@kedirikota.go.id.\n")
    new = setup.mails()[before:]
    assert [m["To"] for m in new] == ["a@kedirikota.go.id", "b@kedirikota.go.id"]
    assert new[0]["Subject"] == f"[Kalender OPD] Agenda Pimpinan {hari_tanggal(DAY)}"
    assert new[0]["From"] == "kalender@kedirikota.go.id"
    plain, rich = parts(new[0])
    assert plain == digest.text(digest.of_deployment(setup.dep, DAY))
    assert "Rapat <b>Zebra</b> & Mitra" in plain
    assert "Rapat &lt;b&gt;Zebra&lt;/b&gt; &amp; Mitra" in rich and "<b>Zebra" not in rich


def test_to_with_the_smtp_server_down_fails_with_exit_1(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    dep = make_deployment(tmp_path / "kediri", {})
    mail.save(dep.root, mail.Settings("127.0.0.1", free_port(), "kalender@kedirikota.go.id"))
    (dep.root / "sync.db").touch()
    code, out, err = kalender(capsys, monkeypatch, "digest", "hari-ini", "--to",
                              "a@kedirikota.go.id", "--dir", str(dep.root))
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "pengiriman ke a@kedirikota.go.id" in err and "gagal" in err, err


# -- subscriptions and the scheduler -------------------------------------------------------
def test_subscribing_needs_a_leaders_role_and_an_address(setup: Setup,
                                                        capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = str(setup.dep.root)
    code, out, err = kalender(capsys, monkeypatch, "user", "digest", "pic-x", "on", "--dir", root)
    assert code == 1 and "berperan pic" in err and "pimpinan, protokol, admin" in err, err
    code, out, err = kalender(capsys, monkeypatch, "user", "digest", "tanpa-surel", "on",
                              "--dir", root)
    assert (code, out) == (1, "") and err == (
        "kalender: akun tanpa-surel belum punya alamat e-mail; atur dulu dengan "
        "'kalender user email tanpa-surel ALAMAT'\n")
    code, _, err = kalender(capsys, monkeypatch, "user", "digest", "siapa", "on", "--dir", root)
    assert code == 1 and "login 'siapa' tidak ada" in err
    code, _, err = kalender(capsys, monkeypatch, "user", "digest", "ajudan", "ya", "--dir", root)
    assert code == 2 and "pilihan 'ya' tidak dikenal" in err
    assert schedule.subscribers(setup.dep.database) == []


def test_the_scheduler_sends_once_per_day_kind_and_recipient(
        setup: Setup, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    root, dep = str(setup.dep.root), setup.dep
    for login in ("ajudan", "prokopim"):
        code, out, err = kalender(capsys, monkeypatch, "user", "digest", login, "on",
                                  "--dir", root)
        assert code == 0 and out == (
            f"Ringkasan agenda pimpinan untuk {login} <{AIDES[login].email}> aktif: 06.30 "
            "(agenda hari ini) dan 16.00 (agenda besok) WIB.\n"), (out, err)
    assert kalender(capsys, monkeypatch, "user", "digest", "ajudan", "on", "--dir", root)[1] \
        .startswith("Ringkasan agenda pimpinan untuk ajudan <ajudan@kedirikota.go.id> sudah aktif")
    slots = schedule.slots(load_configuration(dep))
    date = hari_tanggal(DAY)
    assert slots == (schedule.Slot("hari-ini", dt.time(6, 30)),
                     schedule.Slot("besok", dt.time(16)))
    before = len(setup.mails())

    def new() -> list[EmailMessage]:
        return setup.mails()[before:]

    assert schedule.Scheduler(dep, slots).run_once(at(DAY, 6, 29)) == (0, 0)
    assert new() == []
    scheduler = schedule.Scheduler(dep, slots)
    assert scheduler.run_once(at(DAY, 6, 31)) == (2, 0)
    morning = new()
    assert sorted(m["To"] for m in morning) == ["ajudan@kedirikota.go.id",
                                               "prokopim@kedirikota.go.id"]
    assert {m["Subject"] for m in morning} == {f"[Kalender OPD] Agenda Pimpinan {date}"}
    assert "Posyandu Balita Kelurahan Bandar" in parts(morning[0])[0]
    # a second pass, and a restart (a new scheduler on the same deployment), send nothing more
    assert scheduler.run_once(at(DAY, 6, 45)) == (0, 0)
    assert schedule.Scheduler(dep, slots).run_once(at(DAY, 7, 10)) == (0, 0)
    assert schedule.Scheduler(dep, slots).run_once(at(DAY, 15, 59)) == (0, 0)
    assert len(new()) == 2
    # 16:01: tomorrow's agenda
    assert schedule.Scheduler(dep, slots).run_once(at(DAY, 16, 1)) == (2, 0)
    evening = new()[2:]
    assert {m["Subject"] for m in evening} == {
        f"[Kalender OPD] Agenda Pimpinan {hari_tanggal(NEXT)}"}
    plain = parts(evening[0])[0]
    assert "Kunjungan Kerja Kominfo" in plain and "Posyandu" not in plain
    assert schedule.Scheduler(dep, slots).run_once(at(DAY, 16, 30)) == (0, 0)
    # off stops it; a server started late (07:10) still sends that morning's digest
    code, out, err = kalender(capsys, monkeypatch, "user", "digest", "ajudan", "off", "--dir", root)
    assert code == 0 and out == "Ringkasan agenda pimpinan untuk ajudan dihentikan.\n"
    assert schedule.Scheduler(dep, slots).run_once(at(NEXT, 7, 10)) == (1, 0)
    assert [m["To"] for m in new()[4:]] == ["prokopim@kedirikota.go.id"]
    # ... but not after the catch-up window (six hours)
    later = NEXT + dt.timedelta(days=1)
    assert schedule.Scheduler(dep, slots).run_once(at(later, 12, 31)) == (0, 0)
    assert len(new()) == 5
    code, out, err = kalender(capsys, monkeypatch, "user", "digest", "ajudan", "off", "--dir", root)
    assert out == "Ringkasan agenda pimpinan untuk ajudan dihentikan (memang tidak berlangganan).\n"
    # a removed account gets nothing more (a new account of that login starts unsubscribed)
    assert kalender(capsys, monkeypatch, "user", "remove", "prokopim", "--dir", root)[0] == 0
    assert schedule.subscribers(dep.database) == []


def test_a_failed_send_is_retried_and_sent_once(setup: Setup) -> None:
    dep = setup.dep
    schedule.subscribe(dep.database, "ajudan", 0)
    slots = (schedule.Slot("hari-ini", dt.time(6, 30)),)
    day = DAY + dt.timedelta(days=5)
    before = len(setup.mails())
    setup.smtp.stop()
    try:
        sent, failed = schedule.Scheduler(dep, slots).run_once(at(day, 6, 31))
        assert sent == 0 and failed >= 1
        # the pause after a failure (30 s): a pass within it tries nothing
        assert schedule.Scheduler(dep, slots).run_once(at(day, 6, 31)) == (0, 0)
    finally:
        setup.smtp.start()
    sent, failed = schedule.Scheduler(dep, slots).run_once(at(day, 6, 32))
    assert sent >= 1 and failed == 0
    assert "ajudan@kedirikota.go.id" in [m["To"] for m in setup.mails()[before:]]
    assert schedule.Scheduler(dep, slots).run_once(at(day, 6, 40)) == (0, 0)


@pytest.mark.parametrize(("value", "wanted"), [
    ("07:15", dt.time(7, 15)), ("7.05", dt.time(7, 5)), ("off", None), (" Mati ", None)])
def test_times_are_read_as_people_write_them(value: str, wanted: dt.time | None) -> None:
    assert schedule.parse_time(value) == wanted


@pytest.mark.parametrize("value", ["24:00", "6", "06:60", "pagi", ""])
def test_a_wrong_time_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        schedule.parse_time(value)


def test_kalender_serve_mails_the_digest(tmp_path: Path) -> None:
    """A real ``kalender serve``: the scheduler thread sends, and the server stops cleanly."""
    dep = make_deployment(tmp_path / "kediri", {})
    add_aides(dep)
    schedule.subscribe(dep.database, "ajudan", 0)
    now = dt.datetime.now(WIB)
    due = max(now - dt.timedelta(minutes=2), now.replace(hour=0, minute=0))
    config = dep.config.read_text("utf-8")
    dep.config.write_text(config.replace(
        "\n[web]\n", f"\nkalender_digest_today = {due:%H:%M}\nkalender_digest_tomorrow = off\n"
        "\n[web]\n"), encoding="utf-8")
    smtp = SmtpServer().start()
    mail.save(dep.root, mail.Settings("127.0.0.1", smtp.port, "kalender@kedirikota.go.id"))
    try:
        server = ServeProcess(dep, capture=True)
        try:
            received = smtp.wait_for(1, timeout=120)
        finally:
            out = server.stop()
    finally:
        smtp.stop()
    assert [m["To"] for m in received] == ["ajudan@kedirikota.go.id"]
    assert received[0]["Subject"] == f"[Kalender OPD] Agenda Pimpinan {hari_tanggal(now)}"
    assert re.search(r"ringkasan agenda pimpinan \d\d\.\d\d \(agenda hari ini\) WIB untuk 1 akun",
                     out), out
    assert "Ringkasan agenda pimpinan: 1 e-mail terkirim" in out, out
    assert server.proc.returncode == 0 and "Traceback" not in out, out


def test_the_protocol_offices_decisions_show_in_the_digest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    dep = make_deployment(tmp_path / "kediri", {"pic-x": ("pic", ("dinkes",))})
    root = str(dep.root)
    assert kalender(capsys, monkeypatch, "approval", "on", "--dir", root)[0] == 0
    for server in serve_in_thread(dep):
        for uid, start in (("rakor-setuju", "0900"), ("rakor-tolak", "1300")):
            r = server.request("pic-x", "PUT", f"/opd/dinkes/{uid}.ics", data=ics(
                uid, f"Rakor {uid}", DAY, start, str(int(start) + 100).zfill(4),
                "DESCRIPTION:Pejabat: Wali Kota Kediri"),
                headers={"Content-Type": "text/calendar"})
            assert r.status_code == 201, r.text
        service = SyncService(dep, server.url)
        try:
            service.run_once()
            waiting = digest.of_deployment(dep, DAY).entries
            assert [e.status for e in waiting] == ["Menunggu persetujuan"] * 2
            assert kalender(capsys, monkeypatch, "approve", "dinkes", "rakor-setuju",
                            "--dir", root)[0] == 0
            code, _, err = kalender(capsys, monkeypatch, "reject", "dinkes", "rakor-tolak",
                                      "--reason", "Wali Kota <dinas luar>", "--dir", root)
            assert code == 0, err
            service.run_once()
        finally:
            service.close()
    decided = digest.of_deployment(dep, DAY)
    assert [(e.status, e.reason) for e in decided.entries] == [
        ("Definitif", ""), ("Ditolak", "Wali Kota <dinas luar>")]
    assert "   Alasan penolakan: Wali Kota <dinas luar>\n" in digest.text(decided)
    assert "Alasan penolakan: Wali Kota &lt;dinas luar&gt;" in digest.html(decided)
