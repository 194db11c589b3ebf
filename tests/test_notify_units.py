"""The notice board, the mail queue and the entry text: plain data, numbers for time."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import icalendar

from kalender import database
from kalender.notify import board, outbox
from kalender.notify.notice import CHECK_LOCATION, REFUSED, Notice, entry_href, ics


def notice(uid: str = "u1", at: int = 1_900_000_000, message: str = "Ruang dipakai.",
           kind: str = REFUSED) -> Notice:
    start = 1_900_086_400
    return Notice(kind, "dinkes", "Dinas Kesehatan", uid, "Rapat; Stunting, 2", start,
                  start + 7200, "Ruang Joyoboyo", "Jadwal Bentrok", message, "pic-x", at)


def test_entry_is_valid_icalendar_with_the_sentence(tmp_path: Path) -> None:
    text = ics(notice())
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))  # RFC 5545 §3.1
    event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "DITOLAK: Rapat; Stunting, 2"
    assert "Ruang dipakai." in str(event["DESCRIPTION"])
    assert "pic-x" in str(event["DESCRIPTION"])
    assert str(event["TRANSP"]) == "TRANSPARENT"
    assert entry_href("dinkes", "u1") != entry_href("dinsos", "u1")
    check = icalendar.Calendar.from_ical(ics(notice(kind=CHECK_LOCATION))).walk("VEVENT")[0]
    assert str(check["SUMMARY"]).startswith("PERIKSA LOKASI: ")


def test_board_one_row_per_uid_and_quiet_retries(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    assert board.post(db, notice())
    assert not board.post(db, notice(at=1_900_000_060))  # same, a minute later: no rewrite
    assert board.post(db, notice(at=1_900_000_060, message="Lain."))  # says something new
    assert not board.post(db, notice(at=1_900_000_120, message="Lain."))
    assert board.post(db, notice(at=1_900_000_060 + board.QUIET + 1, message="Lain."))
    assert len(board.pending(db)) == 1 and len(board.current(db)) == 1


def test_board_done_only_if_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    board.post(db, notice())
    taken = board.pending(db)[0]
    board.post(db, notice(message="Baru."))  # arrives while the entry is being written
    board.done(db, taken)
    assert [p.notice.message for p in board.pending(db)] == ["Baru."]
    board.done(db, board.pending(db)[0])
    assert board.pending(db) == []


def test_board_withdraw_and_expire(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    board.post(db, notice("a"))
    board.post(db, notice("b"))
    for item in board.pending(db):
        board.done(db, item)
    assert board.withdraw(database.connect(db), "dinkes", {"a"}, now=1_900_000_500) == 1
    assert not board.post(db, notice("a", at=1_900_000_400))  # recorded late: stale
    assert [(p.notice.uid, p.remove) for p in board.pending(db)] == [("a", True)]
    end_of_b = notice("b").end or 0
    assert board.expire(db, end_of_b + 2 * 86400, days=3) == 0
    assert board.expire(db, end_of_b + 4 * 86400, days=3) == 1
    for item in board.pending(db):
        board.done(db, item)
    assert board.current(db) == []


def test_outbox_once_a_day_and_backoff(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    assert outbox.enqueue(db, "k", "PIC@kediri.go.id", "s", "b", now=0)
    assert not outbox.enqueue(db, "k", "pic@kediri.go.id", "s", "b", now=3600)
    assert outbox.enqueue(db, "k", "pic@kediri.go.id", "s", "b", now=86401)
    assert [outbox.backoff(n) for n in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]

    def down(message: outbox.Queued) -> None:
        raise ConnectionRefusedError("down")

    assert outbox.deliver(db, down, now=86401) == (0, 2)
    assert outbox.due(db, now=86401 + 29) == []  # waiting out the first backoff
    sent: list[str] = []
    assert outbox.deliver(db, lambda m: sent.append(m.address), now=86401 + 30) == (2, 0)
    assert sent == ["pic@kediri.go.id"] * 2 and outbox.pending_count(db) == 0


def test_mail_subject_is_one_line() -> None:
    from kalender.notify.mail import notice_subject

    subject = notice_subject(dataclasses.replace(notice(), title="Rapat\r\nBcc: x@y.z\x00"))
    assert subject == "[Kalender OPD] Bentrok: Rapat Bcc: x@y.z"


def test_outbox_message_sent_once_by_two_senders(tmp_path: Path) -> None:
    """Two server processes on one deployment: a due message is claimed by one of them."""
    db = tmp_path / "k.db"
    outbox.enqueue(db, "k", "pic@kediri.go.id", "s", "b", now=0)
    sent: list[str] = []

    def second_sender(message: outbox.Queued) -> None:
        assert outbox.deliver(db, lambda m: sent.append("second"), now=10) == (0, 0)
        sent.append("first")

    assert outbox.deliver(db, second_sender, now=10) == (1, 0)
    assert sent == ["first"]
