"""``kalender import``: exports of real clients into an OPD calendar, through the guard.

The files are written here with the quirks of real exports (Google: UTC
times, X-WR-TIMEZONE, HTML descriptions, METHOD; Outlook: a Windows TZID,
X-MICROSOFT-CDO-*, an override of a series; Thunderbird: VALARM, X-MOZ-*, a
VTODO), with CRLF line ends and folded lines. Imports run through the CLI;
what they stored is read back through a real server.
"""

from __future__ import annotations

import contextlib
import os
import pty
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree as ET

import icalendar
import pytest

from kalender import audit
from kalender.admin import cli, maintenance
from kalender.admin.importsplit import content_key, split
from kalender.deployment import Deployment
from tests.conftest import KALENDER, LiveServer, event_ics, make_deployment, serve_in_thread

K = "{urn:x-kalender-opd:}"


def _calendar(*blocks: str, head: str = "") -> str:
    """A VCALENDAR of ``blocks`` (LF-written, sent with CRLF like every client)."""
    text = ("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//tests//impor//ID\n" + head
            + "".join(blocks) + "END:VCALENDAR\n")
    return text.replace("\n", "\r\n")


def _event(uid: str, start: str, end: str, summary: str, extra: str = "") -> str:
    """One VEVENT; ``start``/``end`` are written as given (with their own TZID/Z)."""
    uid_line = f"UID:{uid}\n" if uid else ""
    return (f"BEGIN:VEVENT\n{uid_line}DTSTAMP:20261201T000000Z\nDTSTART{start}\nDTEND{end}\n"
            f"SUMMARY:{summary}\n{extra}END:VEVENT\n")


GOOGLE = _calendar(
    _event("g-evaluasi@google.com", ":20270303T020000Z", ":20270303T040000Z",
           "Rapat Evaluasi Program",
           "DESCRIPTION:<b>Agenda</b>:<br>1. Pembukaan<br>2. Laporan triwulan <a href=\"h\n"
           " ttps://example.org/laporan\">unduh</a><br>3. Penutup\nLOCATION:Ruang Kilisuci\n"
           "SEQUENCE:0\nSTATUS:CONFIRMED\nTRANSP:OPAQUE\nLAST-MODIFIED:20261120T010203Z\n"),
    _event("g-lama@google.com", ":20190114T010000Z", ":20190114T020000Z", "Apel Pagi 2019"),
    head="CALSCALE:GREGORIAN\nMETHOD:PUBLISH\nX-WR-CALNAME:Dinkes\nX-WR-TIMEZONE:Asia/Jakarta\n")

_SE_ASIA = ("BEGIN:VTIMEZONE\nTZID:SE Asia Standard Time\nBEGIN:STANDARD\nDTSTART:16010101T000000"
            "\nTZOFFSETFROM:+0700\nTZOFFSETTO:+0700\nEND:STANDARD\nEND:VTIMEZONE\n")
OUTLOOK = _calendar(
    _SE_ASIA,
    _event("040000008200E00074C5B7101A82E0080000000060AE3F2D9A38C901000000000000000010000000"
           "1E9AFCA9DCE51242AB306C53D7095851", ";TZID=\"SE Asia Standard Time\":20270308T090000",
           ";TZID=\"SE Asia Standard Time\":20270308T100000", "Koordinasi Mingguan",
           "RRULE:FREQ=WEEKLY;COUNT=4;BYDAY=MO\nLOCATION:Ruang Joyoboyo\n"
           "X-ALT-DESC;FMTTYPE=text/html:<html><body><p>Koordinasi</p></body></html>\n"
           "X-MICROSOFT-CDO-BUSYSTATUS:BUSY\nX-MICROSOFT-CDO-IMPORTANCE:1\n"
           "X-MICROSOFT-DISALLOW-COUNTER:FALSE\n"),
    _event("040000008200E00074C5B7101A82E0080000000060AE3F2D9A38C901000000000000000010000000"
           "1E9AFCA9DCE51242AB306C53D7095851", ";TZID=\"SE Asia Standard Time\":20270316T130000",
           ";TZID=\"SE Asia Standard Time\":20270316T140000", "Koordinasi Mingguan (digeser)",
           "RECURRENCE-ID;TZID=\"SE Asia Standard Time\":20270315T090000\n"
           "LOCATION:Ruang Joyoboyo\nX-MICROSOFT-CDO-BUSYSTATUS:BUSY\n"),
    "BEGIN:VTIMEZONE\nTZID:Zona Kantor\nBEGIN:STANDARD\nDTSTART:16010101T000000\n"
    "TZOFFSETFROM:+0700\nTZOFFSETTO:+0700\nEND:STANDARD\nEND:VTIMEZONE\n",
    _event("outlook-zona-kantor", ";TZID=Zona Kantor:20270311T080000",
           ";TZID=Zona Kantor:20270311T090000", "Apel Kantor", "LOCATION:Ruang Kilisuci\n"),
    head="METHOD:PUBLISH\nX-CALSTART:20270308T020000Z\nX-WR-RELCALID:{0000002E-1234}\n")

THUNDERBIRD = _calendar(
    "BEGIN:VTIMEZONE\nTZID:Asia/Jakarta\nX-LIC-LOCATION:Asia/Jakarta\nBEGIN:STANDARD\n"
    "TZOFFSETFROM:+0700\nTZOFFSETTO:+0700\nTZNAME:WIB\nDTSTART:19700101T000000\nEND:STANDARD\n"
    "END:VTIMEZONE\n",
    _event("b23d11e6-a296-44a1-b5c3-2f1e0c9d7a11", ";TZID=Asia/Jakarta:20270310T130000",
           ";TZID=Asia/Jakarta:20270310T150000", "Sosialisasi Posyandu",
           "X-MOZ-GENERATION:3\nX-MOZ-LASTACK:20261130T010000Z\nCATEGORIES:Kesehatan\n"
           "BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER;VALUE=DURATION:-PT15M\n"
           "DESCRIPTION:Pengingat\nX-MOZ-LASTACK:20261130T010000Z\nEND:VALARM\n"),
    "BEGIN:VTODO\nUID:todo-1@thunderbird\nDTSTAMP:20261201T000000Z\nSUMMARY:Siapkan laporan\n"
    "END:VTODO\n")


@pytest.fixture
def dep(tmp_path: Path) -> Deployment:
    """A fresh deployment with the test accounts."""
    return make_deployment(tmp_path / "kediri")


@pytest.fixture
def server(dep: Deployment) -> Iterator[LiveServer]:
    """The deployment served in a thread."""
    yield from serve_in_thread(dep)


def _run(dep: Deployment, file: Path, *options: str, opd: str = "dinkes",
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``kalender import`` in-process: (exit code, stdout, stderr)."""
    code = cli.main(["import", "--dir", str(dep.root), opd, str(file), *options])
    out, err = capsys.readouterr()
    return code, out, err


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def _stored(dep: Deployment, opd: str = "dinkes") -> list[Path]:
    folder = dep.collections / "collection-root" / "opd" / opd
    return sorted(folder.glob("*.ics"))


def _unfolded(text: str) -> str:
    """iCalendar text with its folded lines joined (RFC 5545 §3.1)."""
    return re.sub(r"\r?\n[ \t]", "", text)


def _imports(dep: Deployment) -> list[audit.Entry]:
    return list(audit.entries(dep.database, action="import"))


def _hold(server: LiveServer) -> None:
    """Dinsos books Ruang Joyoboyo on 6 April 2027, 09:00-11:00 WIB, by CalDAV."""
    held = event_ics("d-aula", "20270406T090000", "20270406T110000", "Rapat Dinsos",
                     "Ruang Joyoboyo")
    r = server.request("pic-y", "PUT", "/opd/dinsos/d-aula.ics", data=held.encode(),
                       headers={"Content-Type": "text/calendar"})
    assert r.status_code == 201, r.text


def test_dry_run_prints_the_plan_and_writes_nothing(
        dep: Deployment, server: LiveServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _hold(server)
    file = _write(tmp_path, "campur.ics", _mixed())
    code, out, _ = _run(dep, file, "--dry-run", capsys=capsys)
    assert code == 0
    assert "baru       2027-04-05 09:00 WIB  Rapat Baru" in out
    assert "akan ditolak: Ruang Joyoboyo sudah dipakai Dinas Sosial" in out
    assert "akan tidak terbaca: DTEND (waktu selesai) lebih awal" in out
    assert "Baru: 5, berubah: 0, sudah ada: 0, tidak terbaca: 1" in out
    assert "tidak ada yang ditulis" in out
    assert _stored(dep) == [] and _imports(dep) == []
    code, out, _ = _run(dep, _write(tmp_path, "google.ics", GOOGLE), "--dry-run",
                        capsys=capsys)
    assert code == 0 and "Apel Pagi 2019  (lampau)" in out and _stored(dep) == []


def test_client_quirks_import_and_rerun_imports_nothing(
        dep: Deployment, server: LiveServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    files = [_write(tmp_path, n, t) for n, t in
             (("google.ics", GOOGLE), ("outlook.ics", OUTLOOK), ("tb.ics", THUNDERBIRD))]
    for file in files:
        code, out, _ = _run(dep, file, "--as", "pic-x", capsys=capsys)
        assert code == 0, out
    assert "Dilewati: 1 VTODO" in out
    entries = _imports(dep)
    assert len(entries) == 5 and {e.actor for e in entries} == {"pic-x"}
    # each item carries the zones it uses, and only those (RFC 5545 §3.6.5)
    kantor = next(e.after or "" for e in entries if e.href == "outlook-zona-kantor.ics")
    assert "TZID:Zona Kantor" in kantor and "SE Asia" not in kantor
    r = server.request("pic-x", "GET", "/opd/dinkes/")
    assert r.status_code == 200
    text = _unfolded(r.text)
    for words in ("Rapat Evaluasi Program", "unduh</a>", "Koordinasi Mingguan (digeser)",
                  "RECURRENCE-ID", "BEGIN:VALARM", "X-MOZ-GENERATION", "X-MICROSOFT-CDO-"):
        assert words in text, words
    assert "METHOD:" not in text and "Siapkan laporan" not in text
    # the Windows zone was read as WIB: the series' Monday 09:00 WIB clashes at its venue
    clash = event_ics("u-senin", "20270322T093000", "20270322T103000", "Rapat Lain",
                      "Ruang Joyoboyo")
    r = server.request("pic-y", "PUT", "/opd/dinsos/u-senin.ics", data=clash.encode(),
                       headers={"Content-Type": "text/calendar"})
    assert r.status_code == 403, r.text
    # Google's UTC time means 09:00-11:00 WIB at Ruang Kilisuci
    r = server.request("pic-y", "PUT", "/opd/dinsos/u-rabu.ics", headers={
        "Content-Type": "text/calendar"}, data=event_ics(
            "u-rabu", "20270303T100000", "20270303T103000", "Rapat", "Ruang Kilisuci").encode())
    assert r.status_code == 403, r.text
    for file in files:  # a second run finds everything there
        code, out, _ = _run(dep, file, capsys=capsys)
        assert code == 0 and "Diimpor: 0" in out and "berubah: 0" in out, out
    assert len(_imports(dep)) == 5


def _mixed() -> str:
    return _calendar(
        _event("m-baru", ";TZID=Asia/Jakarta:20270405T090000", ";TZID=Asia/Jakarta:20270405T110000",
               "Rapat Baru", "LOCATION:Ruang Kilisuci\n"),
        _event("m-ganda", ";TZID=Asia/Jakarta:20270407T090000",
               ";TZID=Asia/Jakarta:20270407T100000", "Rapat Ganda", "SEQUENCE:0\n"),
        _event("m-ganda", ";TZID=Asia/Jakarta:20270407T090000",
               ";TZID=Asia/Jakarta:20270407T100000", "Rapat Ganda (revisi)", "SEQUENCE:1\n"),
        _event("m-bentrok", ";TZID=Asia/Jakarta:20270406T100000",
               ";TZID=Asia/Jakarta:20270406T120000", "Bimtek Bentrok",
               "LOCATION:Ruang Joyoboyo\n"),
        _event("m-rusak", ";TZID=Asia/Jakarta:20270408T100000",
               ";TZID=Asia/Jakarta:20270408T080000", "Waktu Terbalik"),
        _event("m-aturan", ";TZID=Asia/Jakarta:20270409T100000",
               ";TZID=Asia/Jakarta:20270409T110000", "Aturan Rusak",
               "RRULE:FREQ=WEEKLY;BYDAY=XX\n"),
        _event("", ";TZID=Asia/Jakarta:20270410T080000", ";TZID=Asia/Jakarta:20270410T090000",
               "Tanpa UID"),
        "BEGIN:VTODO\nUID:t1\nDTSTAMP:20261201T000000Z\nSUMMARY:Tugas\nEND:VTODO\n")


def test_mixed_file_report_exit_code_and_server(
        dep: Deployment, server: LiveServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _hold(server)
    # the sentence a PIC gets for the same event by CalDAV
    body = _mixed().split("BEGIN:VEVENT\r\nUID:m-bentrok")[1].split("END:VEVENT")[0]
    single = _calendar("BEGIN:VEVENT\nUID:m-bentrok" + body.replace("\r\n", "\n") + "END:VEVENT\n")
    r = server.request("pic-x", "PUT", "/opd/dinkes/m-bentrok.ics", data=single.encode(),
                       headers={"Content-Type": "text/calendar"})
    assert r.status_code == 403
    sentence = ET.fromstring(r.content).findtext(f"{K}message") or ""
    assert sentence.startswith("Ruang Joyoboyo sudah dipakai")
    file = _write(tmp_path, "campur.ics", _mixed())
    code, out, _ = _run(dep, file, capsys=capsys)
    assert code == 1
    assert "Diimpor: 3 (sebagai riwayat: 0); sudah ada: 0; ditolak: 1; tidak terbaca: 2." in out
    assert f"Bimtek Bentrok, 2027-04-06 10:00 WIB: {sentence}" in out
    assert "Waktu Terbalik (UID m-rusak): DTEND (waktu selesai) lebih awal" in out
    assert "Aturan Rusak (UID m-aturan): Data kegiatan tidak dapat dibaca" in out
    assert "UID ganda dalam berkas (dipakai salinan terbaru): m-ganda" in out
    assert "Tanpa UID, diberi UID dari isinya: Tanpa UID -> kalender-impor-" in out
    assert "Dilewati: 1 VTODO" in out
    text = _unfolded(server.request("pic-x", "GET", "/opd/dinkes/").text)
    assert "Rapat Baru" in text and "Rapat Ganda (revisi)" in text and "Tanpa UID" in text
    assert "Bimtek Bentrok" not in text and "Waktu Terbalik" not in text
    assert text.count("UID:m-ganda") == 1
    actors = {e.actor for e in _imports(dep)}
    assert len(actors) == 1 and actors.pop().startswith("kalender:impor:")
    refused = [r for r in audit.refusals(dep.database) if r.uid == "m-bentrok"]
    assert refused and refused[-1].actor.startswith("kalender:impor:")
    # again: nothing new; the same refusals
    code, out, _ = _run(dep, file, capsys=capsys)
    assert code == 1 and "Diimpor: 0" in out and "sudah ada: 3; ditolak: 1" in out
    assert len(_imports(dep)) == 3


def test_one_line_errors(dep: Deployment, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path, "g.ics", GOOGLE)
    cases = [
        (("tidak-ada", good), "OPD 'tidak-ada' tidak terdaftar"),
        (("dinkes", tmp_path / "hilang.ics"), "tidak dapat dibaca: tidak ada"),
        (("dinkes", _write(tmp_path, "x.ics", "Nama,Tanggal\nRapat,2027-01-01\n")),
         "bukan berkas iCalendar"),
        (("dinkes", _write(tmp_path, "y.ics", "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n")),
         "tidak dapat dibaca sebagai iCalendar"),
        (("dinkes", good, "--as", "pic-y"), "akun 'pic-y' tidak boleh menulis"),
    ]
    for (opd, file, *options), words in cases:
        code, out, err = _run(dep, file, *options, opd=opd, capsys=capsys)
        assert code == 1 and out == "", (words, out)
        assert err.startswith("kalender: ") and err.count("\n") == 1 and words in err, err
    assert _stored(dep) == []


def _utc(moment: datetime) -> str:
    return ":" + moment.strftime("%Y%m%dT%H%M%SZ")


def test_riwayat_imports_overlapping_past_events(
        dep: Deployment, server: LiveServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    hours = [timedelta(hours=h) for h in range(7)]
    text = _calendar(  # ended a few hours ago, both in the hall: the guard still sees them
        _event("r-1", _utc(now - hours[5]), _utc(now - hours[3]), "Musrenbang Sesi 1",
               "LOCATION:Ruang Joyoboyo\n"),
        _event("r-2", _utc(now - hours[4]), _utc(now - hours[2]), "Musrenbang Sesi 2",
               "LOCATION:Ruang Joyoboyo\n"),
        _event("r-lama", ":20190301T020000Z", ":20190301T040000Z", "Rapat 2019",
               "LOCATION:Ruang Joyoboyo\n"))
    file = _write(tmp_path, "riwayat.ics", text)
    code, out, _ = _run(dep, file, capsys=capsys)  # as a PUT: the second one clashes
    assert code == 1 and "Diimpor: 2 (sebagai riwayat: 2)" in out and "ditolak: 1" in out, out
    assert "Musrenbang Sesi 2" in out.split("Ditolak (bentrok):")[1]
    code, out, _ = _run(dep, file, "--riwayat", capsys=capsys)
    assert code == 0, out
    assert "Diimpor: 1 (sebagai riwayat: 1); sudah ada: 2; ditolak: 0" in out
    notes = [e.note for e in _imports(dep) if e.href == "r-2.ics"]
    assert notes and "riwayat: 1 bentrok" in (notes[0] or "")
    # history never blocks what comes: the hall is free from now on
    start = (now + timedelta(minutes=5)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    end = (now + timedelta(hours=1)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    future = _calendar(_event("f-1", f":{start}", f":{end}", "Rapat Sore",
                              "LOCATION:Ruang Joyoboyo\n"))
    r = server.request("pic-y", "PUT", "/opd/dinsos/f-1.ics", data=future.encode(),
                       headers={"Content-Type": "text/calendar"})
    assert r.status_code == 201, r.text
    text = _unfolded(server.request("pic-x", "GET", "/opd/dinkes/").text)
    assert all(f"UID:{u}" in text for u in ("r-1", "r-2", "r-lama"))


def _big(n: int) -> str:
    """``n`` events, one an hour on working days of 2027, in UTC like Google writes them."""
    start = datetime(2027, 1, 4, 1, 0, tzinfo=UTC)
    blocks = []
    for i in range(n):
        day, hour = divmod(i, 8)
        begin = start + timedelta(days=day, hours=hour)
        blocks.append(_event(f"besar-{i}@google.com", _utc(begin),
                             _utc(begin + timedelta(minutes=50)), f"Kegiatan {i}"))
    return _calendar(*blocks, head="X-WR-TIMEZONE:Asia/Jakarta\n")


def _import_until(dep: Deployment, file: Path, count: int, sig: int) -> int:
    """``kalender import`` as a process, sent ``sig`` once ``count`` items are stored."""
    proc = subprocess.Popen([*KALENDER, "import", "--dir", str(dep.root), "dinkes", str(file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(_stored(dep)) < count and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(sig)
    finally:
        proc.wait(timeout=60)
    return proc.returncode


def test_interrupted_import_leaves_whole_items_and_a_rerun_completes(
        dep: Deployment, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    n = 1500
    file = _write(tmp_path, "besar.ics", _big(n))
    keys = {i.uid: i.key for i in split(file.read_text("utf-8")).items}
    # Ctrl-C or SIGTERM: stops between two items, the index agrees at once
    assert _import_until(dep, file, 40, signal.SIGTERM) == 130
    assert 40 <= len(_stored(dep)) < n
    assert maintenance.verify(dep) == []
    # SIGKILL: whatever was in flight is whole or absent
    before = len(_stored(dep))
    assert _import_until(dep, file, before + 40, signal.SIGKILL) == -signal.SIGKILL
    written = _stored(dep)
    assert before + 40 <= len(written) < n
    for path in written:  # every stored item is whole: the event as the file gives it
        calendar = icalendar.Calendar.from_ical(path.read_text("utf-8"))
        events = calendar.walk("VEVENT")
        assert len(events) == 1
        assert content_key(events) == keys[str(events[0]["UID"])], path.name
    # at most the one item in flight is not yet in the index; the next write repairs it
    problems = maintenance.verify(dep)
    assert len({p.split(":")[0] for p in problems}) <= 1, problems
    code, out, _ = _run(dep, file, capsys=capsys)
    assert code == 0, out
    assert f"sudah ada: {len(written)};" in out, out
    assert len(_stored(dep)) == n
    assert cli.main(["verify", "--dir", str(dep.root)]) == 0
    assert n - 1 <= len(_imports(dep)) <= n  # the item in flight may be stored, not audited


def test_progress_on_a_terminal(dep: Deployment, tmp_path: Path) -> None:
    file = _write(tmp_path, "google.ics", GOOGLE)
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([*KALENDER, "import", "--dir", str(dep.root), "dinkes", str(file)],
                              stdout=subprocess.PIPE, stderr=follower, text=True, timeout=120)
        os.close(follower)
        follower = -1
        shown = b""
        with contextlib.suppress(OSError):  # EIO once the terminal's other end is closed
            while chunk := os.read(leader, 4096):
                shown += chunk
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert proc.returncode == 0, proc.stdout
    assert "\rMengimpor 2/2 ..." in shown.decode()
    assert "Mengimpor" not in proc.stdout
