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
from kalender.rules import Person, Venue


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
        _add_user(dep, user, passwords[user.login])
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


def cmd_venue_add(args: argparse.Namespace) -> int:
    """Register a venue (effective at once)."""
    dep = Deployment.locate(args.dir)
    venues = dep.venues()
    registry.check_id(args.id, "id tempat")
    if any(v.id == args.id for v in venues):
        raise CliError(f"tempat {args.id!r} sudah terdaftar")
    if args.parent and not any(v.id == args.parent for v in venues):
        raise CliError(f"parent {args.parent!r} bukan tempat terdaftar")
    if args.capacity < 1 or args.setup < 0 or args.teardown < 0:
        raise CliError("kapasitas minimal 1, jeda persiapan/pembongkaran tidak boleh negatif")
    venue = Venue(args.id, args.name, args.building or "", tuple(args.alias or ()),
                  args.capacity, args.setup, args.teardown, args.parent)
    registry.write_venues(dep.venues_csv, [*venues, venue])
    print(f"Tempat {venue.id} ({venue.name}) ditambahkan.")
    return 0


def cmd_venue_list(args: argparse.Namespace) -> int:
    """List the venue registry."""
    for v in Deployment.locate(args.dir).venues():
        extra = f" kapasitas {v.capacity}" if v.capacity != 1 else ""
        if v.setup_min or v.teardown_min:
            extra += f" jeda {v.setup_min}/{v.teardown_min} menit"
        if v.parent:
            extra += f" bagian dari {v.parent}"
        print(f"{v.id:<24} {v.name}{extra}")
    return 0


def cmd_venue_remove(args: argparse.Namespace) -> int:
    """Remove a venue (events there are no longer checked)."""
    dep = Deployment.locate(args.dir)
    venues = dep.venues()
    if not any(v.id == args.id for v in venues):
        raise CliError(f"tempat {args.id!r} tidak terdaftar")
    children = [v.id for v in venues if v.parent == args.id]
    if children:
        raise CliError(f"tempat {args.id!r} masih menjadi induk dari: {', '.join(children)}")
    registry.write_venues(dep.venues_csv, [v for v in venues if v.id != args.id])
    print(f"Tempat {args.id} dihapus. Jalankan 'kalender reindex' agar indeks ikut diperbarui.")
    return 0


def cmd_venue_unknown(args: argparse.Namespace) -> int:
    """Free-text locations that matched no venue, most used first."""
    from kalender.index import Index

    dep = Deployment.locate(args.dir)
    counts = Index(dep.database).unknown_locations()
    if not counts:
        print("Semua lokasi dikenali (atau belum ada kegiatan).")
    for text, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"{n:>5}  {text}")
    return 0


def cmd_person_add(args: argparse.Namespace) -> int:
    """Register a key person (effective at once)."""
    dep = Deployment.locate(args.dir)
    persons = dep.persons()
    registry.check_id(args.id, "id orang")
    if any(p.id == args.id for p in persons):
        raise CliError(f"orang {args.id!r} sudah terdaftar")
    emails = tuple(e.lower() for e in args.email or ())
    if any("@" not in e for e in emails):
        raise CliError("alamat e-mail tidak valid")
    person = Person(args.id, args.title, emails, tuple(args.alias or ()))
    registry.write_persons(dep.persons_csv, [*persons, person])
    print(f"Orang {person.id} ({person.title}) ditambahkan.")
    return 0


def cmd_person_list(args: argparse.Namespace) -> int:
    """List the key person registry."""
    for p in Deployment.locate(args.dir).persons():
        print(f"{p.id:<20} {p.title}" + (f"  <{', '.join(p.emails)}>" if p.emails else ""))
    return 0


def cmd_person_remove(args: argparse.Namespace) -> int:
    """Remove a key person."""
    dep = Deployment.locate(args.dir)
    persons = dep.persons()
    if not any(p.id == args.id for p in persons):
        raise CliError(f"orang {args.id!r} tidak terdaftar")
    registry.write_persons(dep.persons_csv, [p for p in persons if p.id != args.id])
    print(f"Orang {args.id} dihapus. Jalankan 'kalender reindex' agar indeks ikut diperbarui.")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild the clash index from the stored calendars."""
    from kalender import maintenance

    dep = Deployment.locate(args.dir)
    stats = maintenance.reindex(dep, maintenance.progress_bar)
    print(f"Indeks dibangun ulang: {stats.items} item, {stats.bookings} pemakaian, "
          f"{stats.seconds:.1f} detik.")
    for line in stats.unreadable:
        print(f"  tidak terbaca (tidak diperiksa bentrok): {line}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Compare the clash index with storage; exit 1 if they differ."""
    from kalender import maintenance

    problems = maintenance.verify(Deployment.locate(args.dir))
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} perbedaan; jalankan 'kalender reindex'.", file=sys.stderr)
        return 1
    print("Indeks sesuai dengan penyimpanan.")
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

    venue = sub.add_parser("venue", help="kelola daftar tempat").add_subparsers(
        dest="sub", required=True, metavar="AKSI")
    p = command(venue, "add", cmd_venue_add)
    p.add_argument("id")
    p.add_argument("name")
    p.add_argument("--building")
    p.add_argument("--alias", action="append", help="ejaan lain (boleh berulang)")
    p.add_argument("--capacity", type=int, default=1, help="kegiatan paralel (bawaan 1)")
    p.add_argument("--setup", type=int, default=0, help="jeda persiapan, menit")
    p.add_argument("--teardown", type=int, default=0, help="jeda pembongkaran, menit")
    p.add_argument("--parent", help="tempat induk (mis. aula yang dibagi)")
    command(venue, "list", cmd_venue_list)
    command(venue, "remove", cmd_venue_remove).add_argument("id")
    command(venue, "unknown", cmd_venue_unknown)

    person = sub.add_parser("person", help="kelola daftar orang kunci").add_subparsers(
        dest="sub", required=True, metavar="AKSI")
    p = command(person, "add", cmd_person_add)
    p.add_argument("id")
    p.add_argument("title")
    p.add_argument("--email", action="append")
    p.add_argument("--alias", action="append", help="sebutan lain (boleh berulang)")
    command(person, "list", cmd_person_list)
    command(person, "remove", cmd_person_remove).add_argument("id")

    command(sub, "reindex", cmd_reindex)
    command(sub, "verify", cmd_verify)

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
