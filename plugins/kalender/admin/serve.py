"""``kalender serve``: the deployment under waitress, a production WSGI server.

waitress is pure Python, multi-threaded and needs no build step, so the
README's one-line setup works on a fresh machine with only Python. Every
thread shares Radicale's file lock, so concurrent writers are serialised
exactly as in Radicale's own server.

Logs go to stdout. Kalender OPD's own lines (logger ``kalender``) are always
shown: a short startup summary, one line per request that changes something
or fails (``kalender.admin.requestlog``) and one line per sync pass that wrote
something (``kalender_sync.service``, run in a process of its own by
``kalender.admin.syncproc``). Radicale's and waitress's loggers show
only what ``[logging] level`` of the config lets through: ``warning`` (the
default) keeps their warnings and errors; ``info`` or ``debug`` brings back
Radicale's own detailed log (its settings at start, every request and login)
in Radicale's format. ``[storage] kalender_sync_poll_seconds`` (default 30)
sets how often the sync service re-reads every OPD calendar;
``[storage] kalender_digest_today`` and ``kalender_digest_tomorrow`` (default
06:30 and 16:00 WIB, ``off``) when the digest scheduler
(``kalender.notify.schedule``) mails the leaders' agenda to subscribed accounts.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections import Counter
from types import FrameType

from radicale import config as radicale_config
from radicale import log as radicale_log

from kalender import upgrade
from kalender.admin import provision
from kalender.admin.provision import load_configuration
from kalender.admin.requestlog import Repeats, RequestLog
from kalender.admin.syncproc import SyncProcess
from kalender.dav import gate
from kalender.dav.app import Application
from kalender.dav.changes import CHANGES
from kalender.dav.storage import Storage
from kalender.deployment import Deployment
from kalender.notify import schedule, worker
from kalender.notify.channel import POSTED
from kalender.web.app import WebApp

logger = logging.getLogger("kalender")


class _Stop(SystemExit):
    """Raised in the main thread by SIGTERM to leave the serving loop.

    A SystemExit: waitress's event loop re-raises only ExitNow, KeyboardInterrupt
    and SystemExit from its handlers (wasyncore); anything else would be logged
    and swallowed if the signal arrived while a handler runs.
    """


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into a clean shutdown."""
    raise _Stop(0)


def _start_sync(dep: Deployment, host: str, port: int, stop: threading.Event,
                poll_seconds: float) -> SyncProcess | None:
    """The sync service in its own process (kalender.admin.syncproc), woken by every change."""
    if not (dep.root / "sync.secret").exists():
        return None
    local = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
    process = SyncProcess(dep.root, f"http://{local}:{port}", poll_seconds)
    process.start(CHANGES, stop)
    return process


def make_app(dep: Deployment) -> Application:
    """The WSGI application of a deployment (upgraded, validated, crash leftovers repaired)."""
    for line in upgrade.upgrade(dep):
        logger.info("Pembaruan deployment: %s", line)
    dep.validate()
    app = Application(load_configuration(dep))
    store = app._storage
    if isinstance(store, Storage):
        # Writes interrupted by a crash (kill -9) are re-read from storage now,
        # so the index is complete before the first request.
        with store.acquire_lock("w", "kalender:startup", actor="kalender:startup"):
            store.guard.maintain(store.read_item)
            # every OPD has its Bentrok calendar (deployments older than issue 8 too)
            provision.ensure_merged_calendars(store)
            for opd in dep.opds():
                provision.ensure_opd_calendar(store, opd)
    return app


def start_notifier(app: Application, stop: threading.Event) -> threading.Thread | None:
    """The notifier thread (Bentrok calendars, e-mail) of a deployment's application."""
    store = app._storage
    if not isinstance(store, Storage):
        return None
    days = int(_float_option(app.configuration, "kalender_bentrok_days", 14.0))
    return worker.start(store.deployment.root, store, stop, expire_days=days)


def start_digest(dep: Deployment, configuration: radicale_config.Configuration,
                 stop: threading.Event) -> tuple[threading.Thread | None, str]:
    """The digest scheduler's thread (None when off or misconfigured), and a line saying so."""
    try:
        chosen = schedule.slots(configuration)
    except ValueError as e:
        logger.error("Ringkasan agenda pimpinan tidak dikirim: %s", e)
        return None, "Kalender OPD: ringkasan agenda pimpinan tidak dikirim (config salah)"
    if not chosen:
        return None, f"Kalender OPD: ringkasan agenda pimpinan {schedule.describe(chosen)}"
    count = len(schedule.subscribers(dep.database))
    return schedule.start(dep, chosen, stop), (
        f"Kalender OPD: ringkasan agenda pimpinan {schedule.describe(chosen)} untuk {count} "
        "akun berlangganan")


def serve(dep: Deployment, host: str, port: int, threads: int = 8) -> None:
    """Serve until Ctrl-C or SIGTERM; logs go to stdout."""
    # Radicale's log handler writes to whatever sys.stderr is at emit time.
    with contextlib.redirect_stderr(sys.stdout):
        _serve(dep, host, port, threads)


def _serve(dep: Deployment, host: str, port: int, threads: int) -> None:
    """The body of serve()."""
    configuration = load_configuration(dep)
    level = setup_logging(configuration)
    application = make_app(dep)
    app = RequestLog(WebApp(application), quiet=_sync_logins(dep))
    # waitress with the deployment's body and header limits (kalender.dav.gate)
    server = gate.create_server(app, host=host, port=port, threads=threads,
                                ident="Kalender OPD", clear_untrusted_proxy_headers=True)
    signal.signal(signal.SIGTERM, _on_sigterm)
    stop = threading.Event()
    poll = _float_option(configuration, "kalender_sync_poll_seconds", 30.0)
    sync_thread = _start_sync(dep, host, int(server.effective_port), stop, poll)
    notifier = start_notifier(application, stop)
    digest_thread, digest_line = start_digest(dep, configuration, stop)
    for line in [*_summary(dep, sync_thread is not None, poll, level), digest_line]:
        logger.info("%s", line)
    logger.info("Kalender OPD melayani %s di http://%s:%s/ (Ctrl-C untuk berhenti)",
                dep.root, host, server.effective_port)
    try:
        server.run()
    except (KeyboardInterrupt, _Stop):
        logger.info("Kalender OPD berhenti.")
    finally:
        stop.set()
        CHANGES.wake()
        POSTED.set()  # the notifier too
        # requests still queued are dropped on purpose now: waitress's warning that
        # it cancels them says nothing an admin must act on
        logging.getLogger("waitress").setLevel(logging.ERROR)
        server.close()  # first: a sync pass in flight then fails fast instead of waiting
        if sync_thread is not None:
            sync_thread.join(timeout=5)  # a pass cut short resumes from sync.db
        if notifier is not None:
            notifier.join(timeout=15)  # its pass ends with the entries it began
        if digest_thread is not None:
            digest_thread.join(timeout=15)  # a send in flight ends (SMTP times out at 10 s)
    sys.stdout.flush()


class _Lines(logging.Formatter):
    """``YYYY-MM-DD HH:MM:SS message``; a warning or an error names its level."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The line, with ``[WARNING]``/``[ERROR]`` after the time when it is one."""
        text = super().formatMessage(record)
        if record.levelno <= logging.INFO:
            return text
        return f"{text[:19]} [{record.levelname}]{text[19:]}"


def setup_logging(configuration: radicale_config.Configuration) -> int:
    """Our lines always; Radicale's and waitress's from ``[logging] level`` on (its value)."""
    level = getattr(logging, str(configuration.get("logging", "level")).upper())
    ours = logging.StreamHandler(sys.stdout)
    ours.setFormatter(_Lines())
    logger.handlers = [ours]
    logger.setLevel(min(level, logging.INFO))
    logger.propagate = False
    if level <= logging.INFO:  # details asked for: Radicale's own handler and format
        radicale_log.setup()
        radicale_log.set_level(level, configuration.get("logging", "backtrace_on_debug"),
                               configuration.get("logging", "trace_filter"))
    else:
        others = logging.StreamHandler(sys.stdout)
        others.setFormatter(logging.Formatter("%(asctime)s [%(levelname)s] %(name)s: "
                                              "%(message)s", "%Y-%m-%d %H:%M:%S"))
        logging.getLogger().handlers = [others]
        radicale_log.logger.setLevel(level)
        radicale_log.logger.addFilter(radicale_log.REMOVE_TRACEBACK_FILTER)
        radicale_log.logger.addFilter(Repeats())
    logging.getLogger("waitress").setLevel(level)
    return int(level)


def _summary(dep: Deployment, sync: bool, poll: float, level: int) -> list[str]:
    """The startup lines before the ready line (Bahasa Indonesia)."""
    users = dep.users()
    roles = ", ".join(f"{n} {role}" for role, n in sorted(Counter(u.role for u in users).items()))
    opds = dep.opds()
    archived = sum(o.archived for o in opds)
    lines = [f"Kalender OPD: {len(opds) - archived} OPD"
             + (f" (dan {archived} diarsipkan)" if archived else "")
             + f", {len(users)} akun ({roles or 'belum ada'}), {len(dep.venues())} tempat dan "
             f"{len(dep.persons())} pejabat terdaftar",
             f"Kalender OPD: layanan sync aktif (membaca ulang setiap {poll:g} detik dan setelah "
             "setiap perubahan)" if sync else
             "Kalender OPD: layanan sync tidak dijalankan (DIR/sync.secret tidak ada)"]
    if level > logging.INFO:
        lines.append("Kalender OPD: log rinci Radicale mati; nyalakan dengan [logging] "
                     "level = info di config")
    return lines


def _sync_logins(dep: Deployment) -> frozenset[str]:
    """The sync accounts: their successful requests are summarised per sync pass."""
    return frozenset(u.login for u in dep.users() if u.role == "sync")


def _float_option(configuration: radicale_config.Configuration, name: str,
                  default: float) -> float:
    """A number option of ours in [storage] (Radicale accepts unknown options there)."""
    try:
        return float(configuration.get("storage", name))
    except KeyError:
        return default
