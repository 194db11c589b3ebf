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
from kalender.registry import User

#: The account of the sync service (its password is in DIR/sync.secret).
SYNC_LOGIN = "kalender-sync"


def cmd_init(args: argparse.Namespace) -> int:
    """Create a deployment folder with config, rights, registries and calendars."""
    root = Path(args.dir).resolve()
    if root.exists() and any(root.iterdir()):
        raise CliError(f"folder {root} sudah berisi berkas; pilih folder baru atau kosong")
    source = Path(args.opd_file) if args.opd_file else None
    opds = registry.read_opds(source) if source else None
    root.mkdir(parents=True, exist_ok=True)
    dep = Deployment(root)
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
    return 0


def _copy_default(name: str, target: Path) -> None:
    """Copy a default registry shipped in radicale_config/ into the deployment."""
    with resources.as_file(resources.files("kalender_config").joinpath(name)) as f:
        shutil.copyfile(f, target)


def _init_demo(dep: Deployment) -> None:
    """Demo accounts (passwords printed once) and two weeks of activities."""
    passwords = demo.passwords()
    for user in demo.DEMO_USERS:
        add_user(dep, user, passwords[user.login])
    now = dt.datetime.now(dt.UTC)
    count = 0
    with provision.storage_locked(dep, "kalender:demo") as store:
        for event in demo.events(now.astimezone(demo.WIB).date(), now):
            provision.upload_event(store, f"/opd/{event.opd}/", event.name, event.ics)
            count += 1
    print(f"Data demo: {count} kegiatan dalam dua minggu ke depan.")
    print("Akun demo (kata sandi hanya ditampilkan sekali ini):")
    for user in demo.DEMO_USERS:
        opds = f"  OPD: {', '.join(user.opds)}" if user.opds else ""
        print(f"  {user.login:<14} peran {user.role:<9} kata sandi {passwords[user.login]}{opds}")


def cmd_sync(args: argparse.Namespace) -> int:
    """Merge the OPD calendars into the output calendars (needs the server running)."""
    import requests

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
            except requests.ConnectionError:
                raise CliError(f"server tidak menjawab di {url}; jalankan 'kalender serve'"
                               ) from None
            for line in report.lines():
                print(line)
            if args.once or args.dry_run:
                return 1 if report.failed else 0
            service_wait(args.interval)
    finally:
        service.close()


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
    """Print the audit trail."""
    dep = Deployment.locate(args.dir)
    if args.since:
        try:
            dt.date.fromisoformat(args.since)
        except ValueError:
            raise CliError(f"tanggal {args.since!r} bukan YYYY-MM-DD") from None
    found = False
    for entry in audit.entries(dep.database, args.opd, args.since):
        print(audit.render(entry))
        found = True
    if not found:
        print("Belum ada perubahan tercatat.")
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
