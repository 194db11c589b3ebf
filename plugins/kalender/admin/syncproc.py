"""The sync service of ``kalender serve`` in a process of its own.

A sync pass is Python work (parsing the sources, making the copies, rendering
the feeds and the web index). In a thread of the server it would hold the
interpreter lock the request threads need, so an OPD's PUT would wait behind the
pass its own previous write woke (issue 12 item 2: 5x the idle p95 at 10,000
events with 20 readers). In its own process it runs on another core and the
server only forwards, through a queue, the OPD ids of every accepted change
(``kalender.dav.changes.CHANGES``).

The child stops when the server asks (``join``) or, if the server was killed
(``kill -9``), within a second of finding its parent gone; a pass cut short is
safe (one SQLite transaction per step, ``kalender_sync.state``).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import signal
import threading
from pathlib import Path
from typing import Any

from kalender.dav.changes import ChangeSet
from kalender.deployment import Deployment

logger = logging.getLogger("kalender")
#: How often the child looks for a stop request or a vanished parent (seconds).
CHECK_SECONDS = 1.0


class SyncProcess:
    """The sync service's process, fed with the OPD ids of the server's accepted changes."""

    def __init__(self, root: Path, url: str, poll_seconds: float) -> None:
        from kalender_sync.service import credentials

        ctx = mp.get_context("spawn")  # a fresh interpreter: no server threads or locks copied
        self._queue: Any = ctx.Queue()
        self._stop: Any = ctx.Event()
        # the password as DIR/sync.secret holds it now: the server's sync keeps it
        account = credentials(Deployment(root))
        self._proc = ctx.Process(target=_child, name="kalender-sync", daemon=True,
                                 args=(str(root), url, poll_seconds, self._queue, self._stop,
                                       os.getpid(), account))
        self._forwarder: threading.Thread | None = None

    def start(self, changes: ChangeSet, stop: threading.Event) -> None:
        """Start the child and the thread forwarding ``changes`` to it until ``stop``."""
        self._proc.start()
        self._forwarder = threading.Thread(target=self._forward, args=(changes, stop),
                                           name="kalender-sync-forward", daemon=True)
        self._forwarder.start()

    def _forward(self, changes: ChangeSet, stop: threading.Event) -> None:
        """Hand every set of changed OPD ids to the child."""
        while not stop.is_set():
            if changes.event.wait(CHECK_SECONDS):
                taken = changes.take()
                if taken:
                    self._queue.put(sorted(taken))

    def join(self, timeout: float) -> None:
        """Ask the child to stop after its pass; end it if it has not within ``timeout``."""
        self._stop.set()
        self._queue.put(None)  # wakes the child's inbox at once
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.terminate()  # safe: a pass cut short resumes from sync.db
            self._proc.join(5)
        if self._forwarder is not None:
            self._forwarder.join(CHECK_SECONDS * 2)
        self._queue.close()
        self._queue.join_thread()


def _child(root: str, url: str, poll_seconds: float, inbox: Any, stop: Any,
           parent: int, account: tuple[str, str]) -> None:
    """The child's body: the sync service's loop, woken by the server's changes."""
    from kalender.admin.provision import load_configuration
    from kalender.admin.serve import setup_logging
    from kalender_sync.service import SyncService

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    dep = Deployment(Path(root))
    setup_logging(load_configuration(dep))
    changes, done = ChangeSet(), threading.Event()

    def listen() -> None:
        while not done.is_set():
            if stop.is_set() or os.getppid() != parent:
                done.set()
                changes.wake()
                return
            try:
                changed = inbox.get(timeout=CHECK_SECONDS)
            except queue.Empty:
                continue
            if changed is None:  # the server stops
                done.set()
                changes.wake()
                return
            changes.note(set(changed))

    listener = threading.Thread(target=listen, name="kalender-sync-inbox", daemon=True)
    listener.start()
    service = SyncService(dep, url, account)
    try:
        service.run_forever(done, changes, poll_seconds)
    finally:
        service.close()
