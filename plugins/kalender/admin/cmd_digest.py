"""``kalender digest DATE``: one day of the leaders' agenda, printed or mailed now.

The same digest ``kalender serve`` mails to subscribed accounts
(``kalender.notify.schedule``), from the web index the sync service fills
(``DIR/sync.db``). ``--to`` sends at once through the deployment's SMTP
settings (``kalender email setup``) and reports each address, like
``kalender email test``; nothing is queued, so a failure is seen right away.
"""

from __future__ import annotations

import argparse
import datetime as dt

from kalender import registry
from kalender.deployment import Deployment
from kalender.errors import CliError
from kalender.notify import digest, mail
from kalender_sync.occurrences import WIB

#: Words accepted for DATE besides YYYY-MM-DD: days after today (WIB).
WORDS = {"hari-ini": 0, "besok": 1}


def parse_date(text: str, now: dt.datetime | None = None) -> dt.date:
    """DATE of the command: ``YYYY-MM-DD``, ``hari-ini`` or ``besok`` (WIB)."""
    word = text.strip().casefold()
    if word in WORDS:
        return (now or dt.datetime.now(WIB)).astimezone(WIB).date() + dt.timedelta(
            days=WORDS[word])
    try:
        if len(word) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(word)
    except ValueError:
        raise CliError(f"tanggal {text!r} tidak dikenal: tulis YYYY-MM-DD (mis. 2026-12-01), "
                       "hari-ini atau besok") from None


def cmd_digest(args: argparse.Namespace) -> int:
    """Print the leaders' agenda of a day and/or mail it to the given addresses."""
    day = parse_date(args.date)
    addresses = [registry.check_email(a.strip()) for a in args.to or ()]
    dep = Deployment.locate(args.dir)
    settings = mail.load(dep.root) if addresses else None
    if addresses and settings is None:
        raise CliError("e-mail belum diatur; jalankan dulu 'kalender email setup' "
                       "(lihat 'kalender email setup --help')")
    if not (dep.root / "sync.db").exists():
        raise CliError(f"belum ada data agenda ({dep.root / 'sync.db'} tidak ada): jalankan "
                       "'kalender serve' dengan layanan sync terlebih dahulu")
    found = digest.of_deployment(dep, day)
    if args.print or not addresses:
        print(digest.text(found), end="")
    failed = []
    for address in addresses:
        assert settings is not None
        try:
            mail.send(settings, digest.message(settings, address, found))
        except mail.MailError as e:
            failed.append(f"{address} ({e})")
            continue
        print(f"Agenda pimpinan {found.date} terkirim ke {address}.")
    if failed:
        raise CliError(f"pengiriman ke {', '.join(failed)} gagal melalui "
                       f"{settings.host if settings else '?'}; periksa 'kalender email show'")
    return 0
