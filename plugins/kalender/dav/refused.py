"""Refused writes into the audit trail (``kalender.audit.record_refusal``), off the request path.

A refusal is answered at once: the row is written by one background thread,
so a busy or locked ``kalender.db`` delays the record, never the 403 (and never
turns it into a 500). The refused event's UID and own title come from the raw
request body (``kalender.clash.fields``): the body was already parsed once by
Radicale and the guard; it is not parsed again.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kalender import audit
from kalender.notify import channel
from kalender.notify.notice import Notice

logger = logging.getLogger("kalender")

#: Refusals waiting for the recorder; more are dropped (counted in the log).
QUEUED = 1000


class CapturingInput:
    """``wsgi.input`` that keeps what was read from it (references, not copies)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._chunks: list[bytes] = []

    def read(self, *args: Any) -> bytes:
        """Read like the wrapped stream."""
        data: bytes = self._stream.read(*args)
        self._chunks.append(data)
        return data

    def readline(self, *args: Any) -> bytes:
        """Read a line like the wrapped stream."""
        data: bytes = self._stream.readline(*args)
        self._chunks.append(data)
        return data

    def readlines(self, *args: Any) -> list[bytes]:
        """Read lines like the wrapped stream."""
        lines: list[bytes] = self._stream.readlines(*args)
        self._chunks.extend(lines)
        return lines

    def __iter__(self) -> Iterator[bytes]:
        """Iterate lines like the wrapped stream."""
        for line in self._stream:
            self._chunks.append(line)
            yield line

    def captured(self) -> bytes:
        """Everything read so far."""
        return b"".join(self._chunks)


@dataclass(frozen=True)
class Refused:
    """One refused write to record."""

    db: Path
    actor: str
    path: str
    uid: str
    title: str
    reason: str
    message: str
    notice: Notice | None = None  # what the OPD's PICs are told (kalender.notify)
    addresses: tuple[str, ...] = ()  # their e-mail addresses


class Recorder:
    """One daemon thread writing refusals to the audit trail, in order."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Refused] = queue.Queue(QUEUED)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def submit(self, refused: Refused) -> None:
        """Queue one refusal (dropped with a log line when the queue is full)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kalender-refusals",
                                                daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait(refused)
        except queue.Full:
            self.dropped += 1
            if self.dropped % 100 == 1:
                logger.warning("Penolakan tidak tercatat: antrean penuh (%d terlewat)",
                               self.dropped)

    def join(self) -> None:
        """Wait until every queued refusal was written (for tests and shutdown)."""
        self._queue.join()

    def _run(self) -> None:
        """Write queued refusals until the process ends."""
        while True:
            item = self._queue.get()
            try:
                audit.record_refusal(item.db, item.actor, item.path, item.uid, item.title,
                                     item.reason, item.message)
                if item.notice is not None:
                    channel.tell(item.db, item.notice, item.addresses)
            except (sqlite3.Error, OSError) as e:
                logger.warning("Penolakan oleh %s di %s tidak tercatat: %s",
                               item.actor, item.path, e)
            except Exception:  # never let the recorder die: later refusals still count
                logger.exception("Penolakan oleh %s di %s tidak tercatat", item.actor, item.path)
            finally:
                self._queue.task_done()


RECORDER = Recorder()
