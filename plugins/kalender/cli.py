"""The ``kalender`` admin CLI (messages for people in Bahasa Indonesia).

Every command has ``--help``; on error it prints one line ``kalender: ...`` on
stderr and exits non-zero. Commands other than ``init`` and ``serve`` act on
the deployment named by ``--dir``, else ``$KALENDER_DIR``, else the current
folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import shutil
import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from kalender import audit, demo, provision, registry
from kalender.deployment import Deployment
from kalender.registry import Opd, RegistryError, User


class CliError(Exception):
    """An error shown to the admin as one line; exit code 1."""


Handler = Callable[[argparse.Namespace], int]


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
        with resources.as_file(resources.files("kalender_config").joinpath("opd.csv")) as f:
            shutil.copyfile(f, dep.opd_csv)
    else:
        registry.write_opds(dep.opd_csv, opds)
    registry.write_users(dep.users_csv, [])
    provision.write_htpasswd(dep.htpasswd, {})
    dep.write_rights()
    with provision.storage_locked(dep) as store:
        for opd in dep.opds():
            provision.ensure_opd_calendar(store, opd)
        provision.ensure_merged_calendars(store)
    print(f"Deployment dibuat di {root} ({len(dep.opds())} kalender OPD).")
    if args.demo:
        _init_demo(dep)
    return 0


def _init_demo(dep: Deployment) -> None:
    """Demo accounts (passwords printed once) and two weeks of activities."""
    passwords = demo.passwords()
    for user in demo.DEMO_USERS:
        _add_user(dep, user, passwords[user.login])
    now = dt.datetime.now(dt.UTC)
    count = 0
    with provision.storage_locked(dep, "demo") as store:
        for event in demo.events(now.astimezone(demo.WIB).date(), now):
            provision.upload_event(store, f"/opd/{event.opd}/", event.name, event.ics)
            count += 1
    print(f"Data demo: {count} kegiatan dalam dua minggu ke depan.")
    print("Akun demo (kata sandi hanya ditampilkan sekali ini):")
    for user in demo.DEMO_USERS:
        opds = f"  OPD: {', '.join(user.opds)}" if user.opds else ""
        print(f"  {user.login:<14} peran {user.role:<9} kata sandi {passwords[user.login]}{opds}")


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the server (waitress) on the deployment until Ctrl-C / SIGTERM."""
    from kalender.serve import serve  # imported late: waitress is only needed here

    dep = Deployment(Path(args.dir).resolve())
    if not dep.config.is_file():
        raise CliError(f"{dep.root} bukan folder deployment (tidak ada 'config')")
    serve(dep, args.host, args.port)
    return 0


def cmd_opd_add(args: argparse.Namespace) -> int:
    """Register an OPD and create its calendar."""
    dep = Deployment.locate(args.dir)
    opds = dep.opds()
    registry.check_id(args.id, "id OPD")
    if any(o.id == args.id for o in opds):
        raise CliError(f"OPD {args.id!r} sudah terdaftar")
    opd = Opd(args.id, args.name, args.short or "", args.kind or "", args.color)
    registry.write_opds(dep.opd_csv, [*opds, opd])
    with provision.storage_locked(dep) as store:
        provision.ensure_opd_calendar(store, opd)
    dep.write_rights()
    print(f"OPD {opd.id} ditambahkan: kalender {opd.href}")
    return 0


def cmd_opd_list(args: argparse.Namespace) -> int:
    """List the OPD registry."""
    for o in Deployment.locate(args.dir).opds():
        print(f"{o.id:<20} {o.href:<26} {o.name}{'  [diarsipkan]' if o.archived else ''}")
    return 0


def cmd_opd_remove(args: argparse.Namespace) -> int:
    """Remove an OPD; one whose calendar holds events is archived instead."""
    dep = Deployment.locate(args.dir)
    opds = dep.opds()
    opd = next((o for o in opds if o.id == args.id), None)
    if opd is None:
        raise CliError(f"OPD {args.id!r} tidak terdaftar")
    users = [u for u in dep.users() if args.id in u.opds]
    with provision.storage_locked(dep) as store:
        events = provision.count_items(store, opd.href)
        if events:
            archived = Opd(opd.id, opd.name, opd.short, opd.kind, opd.color, True)
            registry.write_opds(dep.opd_csv, [archived if o.id == opd.id else o for o in opds])
            provision.ensure_opd_calendar(store, archived)
            message = (f"OPD {opd.id} memiliki {events} kegiatan: diarsipkan (kalender tetap "
                       "tersimpan, hanya baca bagi pimpinan dan admin)")
        else:
            remaining = [u for u in dep.users() if args.id not in u.opds or len(u.opds) > 1]
            registry.write_users(dep.users_csv, [
                User(u.login, u.role, tuple(o for o in u.opds if o != args.id))
                for u in remaining])
            registry.write_opds(dep.opd_csv, [o for o in opds if o.id != opd.id])
            provision.delete_collection(store, opd.href)
            message = f"OPD {opd.id} dihapus (kalendernya kosong)"
    dep.write_rights()
    print(message)
    if users:
        print("PIC terkait: " + ", ".join(u.login for u in users))
    return 0


def _read_password(args: argparse.Namespace) -> str:
    """A password from stdin (--password-stdin) or an interactive prompt typed twice."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Kata sandi: ")
        if getpass.getpass("Ulangi kata sandi: ") != password:
            raise CliError("kedua kata sandi tidak sama")
    if len(password) < 8:
        raise CliError("kata sandi minimal 8 karakter")
    return password


def _add_user(dep: Deployment, user: User, password: str) -> None:
    """Register ``user`` with ``password``, create their home, regenerate rights."""
    users = dep.users()
    if any(u.login == user.login for u in users):
        raise CliError(f"login {user.login!r} sudah ada")
    registry.write_users(dep.users_csv, [*users, user])
    entries = provision.read_htpasswd(dep.htpasswd)
    entries[user.login] = provision.hash_password(password)
    provision.write_htpasswd(dep.htpasswd, entries)
    with provision.storage_locked(dep) as store:
        provision.ensure_principal(store, user.login)
    dep.write_rights()


def cmd_user_add(args: argparse.Namespace) -> int:
    """Create an account with a role."""
    dep = Deployment.locate(args.dir)
    registry.check_login(args.login)
    known = {o.id: o for o in dep.opds()}
    opds = tuple(dict.fromkeys(args.opd or ()))
    if args.role == "pic" and not opds:
        raise CliError("peran pic membutuhkan --opd ID (boleh lebih dari satu)")
    if args.role != "pic" and opds:
        raise CliError(f"--opd hanya untuk peran pic, bukan {args.role}")
    for o in opds:
        if o not in known:
            raise CliError(f"OPD {o!r} tidak terdaftar (lihat 'kalender opd list')")
        if known[o].archived:
            raise CliError(f"OPD {o!r} sudah diarsipkan")
    _add_user(dep, User(args.login, args.role, opds), _read_password(args))
    print(f"Akun {args.login} ({args.role}) dibuat.")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    """Set a new password."""
    dep = Deployment.locate(args.dir)
    if not any(u.login == args.login for u in dep.users()):
        raise CliError(f"login {args.login!r} tidak ada")
    entries = provision.read_htpasswd(dep.htpasswd)
    entries[args.login] = provision.hash_password(_read_password(args))
    provision.write_htpasswd(dep.htpasswd, entries)
    print(f"Kata sandi {args.login} diganti.")
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    """Remove an account (its changes stay in the audit trail)."""
    dep = Deployment.locate(args.dir)
    users = dep.users()
    if not any(u.login == args.login for u in users):
        raise CliError(f"login {args.login!r} tidak ada")
    registry.write_users(dep.users_csv, [u for u in users if u.login != args.login])
    entries = provision.read_htpasswd(dep.htpasswd)
    entries.pop(args.login, None)
    provision.write_htpasswd(dep.htpasswd, entries)
    dep.write_rights()
    print(f"Akun {args.login} dihapus.")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    """List accounts."""
    for u in Deployment.locate(args.dir).users():
        print(f"{u.login:<20} {u.role:<9} {', '.join(u.opds)}")
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="kalender", description="Kalender OPD: admin CLI")
    sub = parser.add_subparsers(dest="command", required=True, metavar="PERINTAH")

    def command(parent: argparse._SubParsersAction, name: str, handler: Handler,
                dir_option: bool = True) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=(handler.__doc__ or "").strip(),
                              description=(handler.__doc__ or "").strip())
        if dir_option:
            p.add_argument("--dir",
                           help="folder deployment (bawaan: $KALENDER_DIR atau folder ini)")
        p.set_defaults(handler=handler)
        return p

    p = command(sub, "init", cmd_init, dir_option=False)
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--opd-file", metavar="CSV",
                   help="daftar OPD sendiri (id,name,short,kind,color)")
    p.add_argument("--demo", action="store_true", help="tambahkan akun dan kegiatan contoh")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5232)

    p = command(sub, "serve", cmd_serve, dir_option=False)
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5232)

    opd = sub.add_parser("opd", help="kelola daftar OPD").add_subparsers(
        dest="sub", required=True, metavar="AKSI")
    p = command(opd, "add", cmd_opd_add)
    p.add_argument("id")
    p.add_argument("name")
    p.add_argument("--short")
    p.add_argument("--kind")
    p.add_argument("--color", default="#1f6feb")
    command(opd, "list", cmd_opd_list)
    command(opd, "remove", cmd_opd_remove).add_argument("id")

    user = sub.add_parser("user", help="kelola akun").add_subparsers(
        dest="sub", required=True, metavar="AKSI")
    p = command(user, "add", cmd_user_add)
    p.add_argument("login")
    p.add_argument("--role", required=True, choices=("pic", "pimpinan", "admin", "sync"))
    p.add_argument("--opd", action="append", metavar="ID", help="OPD yang dilayani PIC")
    p.add_argument("--password-stdin", action="store_true", help="baca kata sandi dari stdin")
    p = command(user, "passwd", cmd_user_passwd)
    p.add_argument("login")
    p.add_argument("--password-stdin", action="store_true", help="baca kata sandi dari stdin")
    command(user, "remove", cmd_user_remove).add_argument("login")
    command(user, "list", cmd_user_list)

    p = command(sub, "log", cmd_log)
    p.add_argument("--opd", metavar="ID")
    p.add_argument("--since", metavar="YYYY-MM-DD")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kalender`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (CliError, RegistryError, OSError, RuntimeError) as e:
        print(f"kalender: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
