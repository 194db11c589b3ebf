"""E-mail: the deployment's SMTP settings and the messages sent to PICs.

Settings live in ``DIR/email.json`` (mode 0600: it may hold the SMTP password),
written by ``kalender email setup`` and re-read by the server when the file
changes, so a change needs no restart. Messages are plain text with a simple
HTML alternative (RFC 2046 multipart/alternative), in Bahasa Indonesia.
"""

from __future__ import annotations

import html
import json
import logging
import os
import smtplib
import ssl
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from kalender.notify.notice import (
    REFUSED,
    REJECTED_BY_PROTOCOL,
    WARNED,
    Notice,
    description,
    summary,
)

logger = logging.getLogger("kalender")
#: Seconds one SMTP conversation may take before it counts as failed.
SMTP_TIMEOUT = 10


class MailError(Exception):
    """Sending failed; the message stays queued (``str()`` says why, for the log)."""


@dataclass(frozen=True)
class Settings:
    """How to reach the SMTP server."""

    host: str
    port: int = 25
    sender: str = ""
    security: str = "none"  # none | starttls | ssl
    login: str = ""
    password: str = ""


def settings_path(root: Path) -> Path:
    """Where a deployment keeps its SMTP settings."""
    return root / "email.json"


def load(root: Path) -> Settings | None:
    """The deployment's settings, or None when e-mail is not set up (or unreadable)."""
    path = settings_path(root)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
        return Settings(**{k: data[k] for k in Settings.__dataclass_fields__ if k in data})
    except (OSError, ValueError, TypeError) as e:  # e.g. unreadable for this user
        logger.error("Pengaturan e-mail %s tidak dapat dibaca: %s", path, e)
        return None


def save(root: Path, settings: Settings) -> None:
    """Write the settings atomically, readable by the owner only."""
    path = settings_path(root)
    tmp = path.with_name(".email.json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(asdict(settings), f, indent=2)
    os.replace(tmp, path)


def send(settings: Settings, message: EmailMessage) -> None:
    """Deliver one message; raises MailError on any failure."""
    try:
        if settings.security == "ssl":
            context = ssl.create_default_context()
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port,
                                                    timeout=SMTP_TIMEOUT, context=context)
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT)
        with client:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.login:
                client.login(settings.login, settings.password)
            client.send_message(message)
    except (OSError, smtplib.SMTPException, ssl.SSLError) as e:
        raise MailError(f"{type(e).__name__}: {e}") from None


def compose(settings: Settings, to: str, subject: str, text: str) -> EmailMessage:
    """A message with a plain-text body and the same text as simple HTML."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="kalender-opd")
    message.set_content(text)
    message.add_alternative(_html(subject, text), subtype="html")
    return message


def _html(title: str, text: str) -> str:
    """Paragraphs of ``text`` as a small, self-contained HTML document."""
    paragraphs = "".join(
        "<p>" + "<br>".join(html.escape(line) for line in block.splitlines()) + "</p>"
        for block in text.split("\n\n") if block.strip())
    return ("<!DOCTYPE html><html lang=\"id\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title></head>"
            "<body style=\"font-family:sans-serif;line-height:1.5;max-width:40em\">"
            f"<h1 style=\"font-size:1.2em;color:#b71c1c\">{html.escape(title)}</h1>"
            f"{paragraphs}</body></html>")


def notice_subject(notice: Notice) -> str:
    """'[Kalender OPD] Bentrok: <title>' ('Ditolak: ...' for other refusals, 'Ditolak
    Prokopim: ...' for a rejection by the protocol office, 'Peringatan: ...' for a warning).

    Line breaks and control characters of a title become spaces: a header is
    one line (RFC 5322 §2.2), and a title is the PIC's free text.
    """
    title = notice.title or "(tanpa judul)"
    if notice.kind == REJECTED_BY_PROTOCOL:
        return _one_line(f"[Kalender OPD] Ditolak Prokopim: {title}")
    if notice.kind == WARNED:
        return _one_line(f"[Kalender OPD] Peringatan: {title}")
    if notice.kind != REFUSED:
        return _one_line(f"[Kalender OPD] {summary(notice).title()}")
    label = "Bentrok" if notice.reason == "Jadwal Bentrok" else "Ditolak"
    return _one_line(f"[Kalender OPD] {label}: {title}")


def _one_line(text: str) -> str:
    """``text`` without line breaks or control characters, at most 200 characters."""
    return " ".join("".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in text)
                    .split())[:200]


def notice_text(notice: Notice) -> str:
    """The body of the mail about ``notice`` (the same text as its Bentrok entry)."""
    return (f"Yth. PIC {notice.opd_name},\n\n{description(notice)}\n\n"
            f"Pemberitahuan ini juga tampil di kalender \"Bentrok\" OPD Anda.\n\n"
            "-- \nKalender OPD, Pemerintah Kota Kediri (pesan otomatis)")
