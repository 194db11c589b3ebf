"""Telling an OPD's PICs: post the notice and queue the mails, in one transaction.

Called on the request's path (a refused write, a location to check), so it
only touches SQLite; the notifier thread writes the Bentrok calendars and
sends the mail (:mod:`kalender.notify.worker`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from kalender import database
from kalender.notify import board, outbox
from kalender.notify.mail import notice_subject, notice_text
from kalender.notify.notice import REFUSED, Notice

#: Set when something was posted: wakes the notifier thread of this process.
POSTED = threading.Event()


def tell(db: Path, notice: Notice, addresses: Iterable[str]) -> bool:
    """Post ``notice`` and queue one mail per address (refusals only); True if posted."""
    conn = database.connect(db)
    conn.execute("BEGIN IMMEDIATE")  # the connection is in autocommit mode: one transaction
    try:
        posted = board.post(conn, notice)
        if posted and notice.kind == REFUSED:  # a stale or repeated notice sends nothing
            key = f"{notice.opd}\0{notice.uid}\0{notice.reason}"
            for address in dict.fromkeys(a.strip() for a in addresses if a.strip()):
                outbox.enqueue(conn, key, address, notice_subject(notice),
                               notice_text(notice), notice.at)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    POSTED.set()
    return posted
