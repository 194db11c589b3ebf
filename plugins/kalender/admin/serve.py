"""``kalender serve``: the deployment under waitress, a production WSGI server.

waitress is pure Python, multi-threaded and needs no build step, so the
README's one-line setup works on a fresh machine with only Python. Every
thread shares Radicale's file lock, so concurrent writers are serialised
exactly as in Radicale's own server.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from types import FrameType

import waitress
from radicale import log as radicale_log

from kalender import upgrade
from kalender.admin.provision import load_configuration
from kalender.dav.app import Application
from kalender.dav.changes import CHANGES
from kalender.dav.storage import Storage
from kalender.deployment import Deployment


class _Stop(SystemExit):
    """Raised in the main thread by SIGTERM to leave the serving loop.

    A SystemExit: waitress's event loop re-raises only ExitNow, KeyboardInterrupt
    and SystemExit from its handlers (wasyncore); anything else would be logged
    and swallowed if the signal arrived while a handler runs.
    """


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into a clean shutdown."""
    raise _Stop(0)


def _start_sync(dep: Deployment, host: str, port: int, stop: threading.Event
                ) -> threading.Thread | None:
    """The sync service in a thread, woken by every accepted change."""
    from kalender_sync.service import SyncService

    if not (dep.root / "sync.secret").exists():
        print("Layanan sync tidak dijalankan: DIR/sync.secret tidak ada.", flush=True)
        return None
    local = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
    service = SyncService(dep, f"http://{local}:{port}")
    thread = threading.Thread(target=service.run_forever, args=(stop, CHANGES),
                              name="kalender-sync", daemon=True)
    thread.start()
    return thread


def make_app(dep: Deployment) -> Application:
    """The WSGI application of a deployment (upgraded, validated, crash leftovers repaired)."""
    for line in upgrade.upgrade(dep):
        print(f"Pembaruan deployment: {line}", flush=True)
    dep.validate()
    app = Application(load_configuration(dep))
    store = app._storage
    if isinstance(store, Storage):
        # Writes interrupted by a crash (kill -9) are re-read from storage now,
        # so the index is complete before the first request.
        with store.acquire_lock("w", "kalender:startup", actor="kalender:startup"):
            store.guard.maintain(store.read_item)
    return app


def serve(dep: Deployment, host: str, port: int, threads: int = 8) -> None:
    """Serve until Ctrl-C or SIGTERM; logs go to stdout."""
    # Radicale's log handler writes to whatever sys.stderr is at emit time.
    with contextlib.redirect_stderr(sys.stdout):
        _serve(dep, host, port, threads)


def _serve(dep: Deployment, host: str, port: int, threads: int) -> None:
    """The body of serve()."""
    radicale_log.setup()
    configuration = load_configuration(dep)
    radicale_log.set_level(configuration.get("logging", "level"), False)
    app = make_app(dep)
    logging.getLogger("waitress").setLevel(logging.INFO)
    server = waitress.create_server(app, host=host, port=port, threads=threads,
                                    ident="Kalender OPD", clear_untrusted_proxy_headers=True)
    signal.signal(signal.SIGTERM, _on_sigterm)
    stop = threading.Event()
    sync_thread = _start_sync(dep, host, int(server.effective_port), stop)
    print(f"Kalender OPD melayani {dep.root} di http://{host}:{server.effective_port}/ "
          "(Ctrl-C untuk berhenti)", flush=True)
    try:
        server.run()
    except (KeyboardInterrupt, _Stop):
        print("Kalender OPD berhenti.", flush=True)
    finally:
        stop.set()
        CHANGES.wake()
        server.close()  # first: a sync pass in flight then fails fast instead of waiting
        if sync_thread is not None:
            sync_thread.join(timeout=5)  # a pass cut short resumes from its journal
    sys.stdout.flush()
