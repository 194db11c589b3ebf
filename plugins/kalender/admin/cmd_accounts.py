"""``kalender opd ...`` and ``kalender user ...``: OPD calendars and accounts."""

from __future__ import annotations

import argparse
import getpass
import sys

from kalender import registry
from kalender.admin import provision
from kalender.deployment import Deployment
from kalender.errors import CliError
from kalender.registry import Opd, User


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
            # a PIC of this OPD only has no role left: their account goes too
            gone = {u.login for u in users} - {u.login for u in remaining}
            provision.drop_passwords(dep.htpasswd, gone)
            registry.write_opds(dep.opd_csv, [o for o in opds if o.id != opd.id])
            provision.delete_collection(store, opd.href)
            message = f"OPD {opd.id} dihapus (kalendernya kosong)"
            if gone:
                message += "; akun PIC yang hanya melayani OPD ini dihapus: " + ", ".join(
                    sorted(gone))
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


def add_user(dep: Deployment, user: User, password: str) -> None:
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
    add_user(dep, User(args.login, args.role, opds), _read_password(args))
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
    provision.drop_passwords(dep.htpasswd, {args.login})
    dep.write_rights()
    print(f"Akun {args.login} dihapus.")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    """List accounts."""
    for u in Deployment.locate(args.dir).users():
        print(f"{u.login:<20} {u.role:<9} {', '.join(u.opds)}")
    return 0
