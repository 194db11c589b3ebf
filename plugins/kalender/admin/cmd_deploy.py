"""``kalender init``, ``serve``, ``log``, ``reindex``, ``verify``: a deployment as a whole."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import shutil
import sys
from importlib import resources
from pathlib import Path

from kalender import audit, registry
from kalender.admin import demo, maintenance, provision
from kalender.admin.cmd_accounts import add_user
from kalender.deployment import Deployment
from kalender.errors import CliError
from kalender.notify.worker import ACTOR as BENTROK_ACTOR
from kalender.registry import Opd, User

#: The account of the sync service (its password is in DIR/sync.secret).
SYNC_LOGIN = "kalender-sync"


def cmd_init(args: argparse.Namespace) -> int:
    """Create a deployment folder with config, rights, registries and calendars."""
    root = Path(args.dir).resolve()
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise CliError(f"folder {root} sudah berisi berkas; pilih folder baru atau kosong")
    source = Path(args.opd_file) if args.opd_file else None
    opds = registry.read_opds(source) if source else None
    existed = root.exists()
    root.mkdir(parents=True, exist_ok=True)
    try:
        _init_files(Deployment(root), args, opds)
    except BaseException:
        # all or nothing: a half-made deployment would only confuse the next try
        if existed:
            for child in root.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        else:
            shutil.rmtree(root, ignore_errors=True)
        raise
    return 0


def _init_files(dep: Deployment, args: argparse.Namespace, opds: list[Opd] | None) -> None:
    """The files and calendars of a new deployment (and the demo, if asked)."""
    root = dep.root
    template = resources.files("kalender_config").joinpath("config.template").read_text("utf-8")
    dep.config.write_text(template.replace("@DIR@", str(root)).replace("@HOST@", args.host)
                          .replace("@PORT@", str(args.port)), encoding="utf-8")
    if opds is None:
        _copy_default("opd.csv", dep.opd_csv)
    else:
        registry.write_opds(dep.opd_csv, opds)
    _copy_default("venues.csv", dep.venues_csv)
    _copy_default("persons.csv", dep.persons_csv)
    registry.write_users(dep.users_csv, [])
    provision.write_htpasswd(dep.htpasswd, {})
    dep.validate()  # the shipped registries read cleanly, or nothing is made
    dep.write_rights()
    with provision.storage_locked(dep) as store:
        for opd in dep.opds():
            provision.ensure_opd_calendar(store, opd)
        provision.ensure_merged_calendars(store)
    password = secrets.token_urlsafe(24)
    add_user(dep, User(SYNC_LOGIN, "sync"), password)
    fd = os.open(dep.root / "sync.secret", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"{SYNC_LOGIN}:{password}\n")
    print(f"Deployment dibuat di {root} ({len(dep.opds())} kalender OPD).")
    if args.demo:
        _init_demo(dep)


def _copy_default(name: str, target: Path) -> None:
    """Copy a default registry shipped in radicale_config/ into the deployment."""
    with resources.as_file(resources.files("kalender_config").joinpath(name)) as f:
        shutil.copyfile(f, target)


def _init_demo(dep: Deployment) -> None:
    """Demo accounts (passwords printed once), two months of activities, refused attempts."""
    passwords = demo.passwords()
    known = {o.id for o in dep.opds()}
    users = [User(u.login, u.role, tuple(o for o in u.opds if o in known))
             for u in demo.DEMO_USERS]
    users = [u for u in users if u.role != "pic" or u.opds]  # a custom --opd-file
    for user in users:
        add_user(dep, user, passwords[user.login])
    done = demo.populate(dep, dt.datetime.now(dt.UTC))
    print(f"Data demo: {done.items} kegiatan ({done.series} di antaranya mingguan) dari "
          f"{done.first:%d-%m-%Y} sampai {done.last:%d-%m-%Y}, {done.opds} OPD, "
          f"{done.venues} tempat terdaftar.")
    print(f"Percobaan PIC yang ditolak karena bentrok: {done.refused} (lihat 'kalender log "
          "--refused').")
    print("Akun demo (kata sandi hanya ditampilkan sekali ini):")
    for user in users:
        opds = f"  OPD: {', '.join(user.opds)}" if user.opds else ""
        print(f"  {user.login:<14} peran {user.role:<9} kata sandi {passwords[user.login]}{opds}")


def cmd_sync(args: argparse.Namespace) -> int:
    """Merge the OPD calendars into the output calendars (needs the server running)."""
    from kalender_sync.service import SyncService

    dep = Deployment.locate(args.dir)
    url = args.url or provision.server_url(dep)
    try:
        service = SyncService(dep, url)
    except FileNotFoundError as e:
        raise CliError(f"akun sync belum ada ({e.filename}); buat ulang dengan "
                       "'kalender init'") from None
    try:
        while True:
            try:
                report = service.run_once(dry_run=args.dry_run)
            except Exception as e:
                message = _sync_failure(e, url, dep)
                if message is None:
                    raise
                raise CliError(message) from e
            for line in report.lines():
                print(line)
            if args.once or args.dry_run:
                return 1 if report.failed else 0
            service_wait(args.interval)
    finally:
        service.close()


#: Modules whose OSErrors mean "no answer from the server" (caldav uses niquests).
_NETWORK_MODULES = ("requests", "niquests", "urllib3", "urllib3_future", "socket")


def _sync_failure(error: Exception, url: str, dep: Deployment) -> str | None:
    """One sentence for a sync pass that could not talk to the server (else None)."""
    from caldav.lib import error as caldav_error

    if isinstance(error, caldav_error.AuthorizationError):
        return (f"server di {url} menolak akun sync (login atau kata sandi di "
                f"{dep.root / 'sync.secret'} tidak cocok, atau server itu melayani deployment "
                "lain)")
    if isinstance(error, caldav_error.RateLimitError):
        wait = error.retry_after_seconds
        later = f"setelah {int(wait)} detik" if wait is not None else "nanti"
        return (f"server di {url} menolak sementara (terlalu banyak login gagal atau sibuk); "
                f"coba lagi {later}")
    if isinstance(error, caldav_error.DAVError):
        return f"server di {url} menjawab dengan galat ({error.reason}); lihat log server"
    network = isinstance(error, (ConnectionError, TimeoutError)) or (
        isinstance(error, OSError) and type(error).__module__.split(".")[0] in _NETWORK_MODULES)
    if network:
        return f"server tidak menjawab di {url}; jalankan 'kalender serve' atau periksa --url"
    return None


def service_wait(seconds: float) -> None:
    """Sleep between passes of a long-running ``kalender sync``."""
    import time

    time.sleep(seconds)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the server (waitress) on the deployment until Ctrl-C / SIGTERM."""
    from kalender.admin.serve import serve  # imported late: waitress is only needed here

    dep = Deployment(Path(args.dir).resolve())
    if not dep.config.is_file():
        raise CliError(f"{dep.root} bukan folder deployment (tidak ada 'config')")
    serve(dep, args.host, args.port)
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    """Print the audit trail: people's changes, or with --refused the refused writes."""
    dep = Deployment.locate(args.dir)
    if args.since:
        try:
            dt.date.fromisoformat(args.since)
        except ValueError:
            raise CliError(f"--since {args.since!r} bukan tanggal YYYY-MM-DD") from None
    users = dep.users()
    if args.opd and args.opd not in {o.id for o in dep.opds()} | audit.known(dep.database,
                                                                               "opd"):
        raise CliError(f"OPD {args.opd!r} tidak terdaftar dan tidak ada di jejak audit "
                       "(lihat 'kalender opd list')")
    if args.user and args.user not in {u.login for u in users} | audit.known(dep.database,
                                                                              "actor"):
        raise CliError(f"login {args.user!r} tidak ada dan tidak ada di jejak audit "
                       "(lihat 'kalender user list')")
    if args.refused:
        if args.action:
            raise CliError("--action tidak berlaku untuk --refused")
        lines = [audit.render_refusal(r) for r in audit.refusals(dep.database, args.opd,
                                                                 args.since)
                 if not args.user or r.actor == args.user]
        empty = "Belum ada penulisan yang ditolak."
    else:
        # the sync account copies every change into the merged calendars: noise by default
        # and so does the server's own Bentrok calendar upkeep (kalender.notify.worker)
        hidden = () if args.all else {SYNC_LOGIN, BENTROK_ACTOR,
                                      *(u.login for u in users if u.role == "sync")}
        lines = [audit.render(e) for e in audit.entries(
            dep.database, args.opd, args.since, actor=args.user, action=args.action,
            hide_actors=hidden)]
        empty = "Belum ada perubahan tercatat" + ("." if args.all else
                                                  " (salinan akun sync tampil dengan --all).")
    for line in lines:
        print(line)
    if not lines:
        print(empty)
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild the clash index from the stored calendars."""
    dep = Deployment.locate(args.dir)
    stats = maintenance.reindex(dep, maintenance.progress_bar)
    print(f"Indeks dibangun ulang: {stats.items} item, {stats.bookings} pemakaian, "
          f"{stats.seconds:.1f} detik.")
    for line in stats.unreadable:
        print(f"  tidak terbaca (tidak diperiksa bentrok): {line}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Compare the clash index with storage; exit 1 if they differ."""
    problems = maintenance.verify(Deployment.locate(args.dir))
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} perbedaan; jalankan 'kalender reindex'.", file=sys.stderr)
        return 1
    print("Indeks sesuai dengan penyimpanan.")
    return 0
