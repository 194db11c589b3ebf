"""``kalender opd ...`` and ``kalender user ...``: OPD calendars and accounts.

Each change is checked completely before anything is written, then written as
one :class:`~kalender.filechange.FileChange` (every file new, or every file as
before), inside Radicale's write lock when it also creates or deletes a
collection. The files are replaced in an order that keeps every moment
readable for the running server: an account's rights go before the account
(``user remove``), an OPD's users before the OPD (``opd remove``).
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import sys
import time

from kalender import registry, roles
from kalender.admin import provision
from kalender.dav.props import Overlay
from kalender.deployment import Deployment
from kalender.errors import CliError
from kalender.feedtokens import FeedTokens, label, readable
from kalender.filechange import FileChange
from kalender.notify import schedule
from kalender.registry import Opd, User

RIGHTS_MODE = 0o644


def _opd_of(opd_id: str, opds: list[Opd]) -> Opd:
    """The registered OPD ``opd_id`` or a CliError."""
    opd = next((o for o in opds if o.id == opd_id), None)
    if opd is None:
        raise CliError(f"OPD {opd_id!r} tidak terdaftar (lihat 'kalender opd list')")
    return opd


def cmd_opd_add(args: argparse.Namespace) -> int:
    """Register an OPD and create its calendar."""
    dep = Deployment.locate(args.dir)
    registry.check_id(args.id, "id OPD")
    name = " ".join(args.name.split())
    if not name:
        raise CliError("nama OPD tidak boleh kosong")
    opd = Opd(args.id, name, (args.short or "").strip(), (args.kind or "").strip(),
              registry.check_color(args.color))
    # read, check and write under the storage lock: two admins' changes never interleave
    with provision.storage_locked(dep) as store:
        opds, users = dep.opds(), dep.users()
        if any(o.id == opd.id for o in opds):
            raise CliError(f"OPD {opd.id!r} sudah terdaftar")
        new = [*opds, opd]
        change = (FileChange().put(dep.opd_csv, registry.opds_text(new))
                  .put(dep.rights, roles.rights_text(users, new), RIGHTS_MODE))
        created = provision.ensure_opd_calendar(store, opd)
        try:
            change.commit()
        except BaseException:
            if created:
                provision.delete_opd_calendars(store, opd)
            raise
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
    with provision.storage_locked(dep) as store:
        opds, users = dep.opds(), dep.users()
        opd = _opd_of(args.id, opds)
        serving = [u for u in users if opd.id in u.opds]
        events = provision.count_items(store, opd.href)
        if events:
            archived = Opd(opd.id, opd.name, opd.short, opd.kind, opd.color, True)
            new = [archived if o.id == opd.id else o for o in opds]
            change = (FileChange().put(dep.rights, roles.rights_text(users, new), RIGHTS_MODE)
                      .put(dep.opd_csv, registry.opds_text(new)))
            provision.ensure_opd_calendar(store, archived)
            try:
                change.commit()
            except BaseException:
                provision.ensure_opd_calendar(store, opd)
                raise
            message = (f"OPD {opd.id} memiliki {events} kegiatan: diarsipkan (kalender tetap "
                       "tersimpan, hanya baca bagi pimpinan dan admin)")
        else:
            # a PIC of this OPD only has no role left: their account goes too
            remaining = [dataclasses.replace(u, opds=tuple(o for o in u.opds if o != opd.id))
                         for u in users if opd.id not in u.opds or len(u.opds) > 1]
            gone = {u.login for u in users} - {u.login for u in remaining}
            new = [o for o in opds if o.id != opd.id]
            ids = [o.id for o in new]
            passwords = provision.read_htpasswd(dep.htpasswd)
            change = (FileChange().put(dep.rights, roles.rights_text(remaining, new), RIGHTS_MODE)
                      .put(dep.users_csv, registry.users_text(remaining, ids))
                      .put(dep.htpasswd, provision.htpasswd_text(
                          {k: v for k, v in passwords.items() if k not in gone}),
                          provision.HTPASSWD_MODE)
                      .put(dep.opd_csv, registry.opds_text(new)))
            change.commit()
            provision.delete_opd_calendars(store, opd)
            message = f"OPD {opd.id} dihapus (kalendernya kosong)"
            if gone:
                message += "; akun PIC yang hanya melayani OPD ini dihapus: " + ", ".join(
                    sorted(gone))
    print(message)
    if serving:
        print("PIC terkait: " + ", ".join(u.login for u in serving))
    return 0


def _read_password(args: argparse.Namespace) -> str:
    """A password from stdin (--password-stdin) or an interactive prompt typed twice."""
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise CliError("stdin kosong: --password-stdin membaca kata sandi dari satu baris "
                           "stdin")
        password = line.rstrip("\r\n")
    else:
        if not sys.stdin.isatty():
            raise CliError("tidak ada terminal untuk mengetik kata sandi; kirim kata sandi "
                           "lewat stdin dengan --password-stdin")
        try:
            password = getpass.getpass("Kata sandi: ")
            again = getpass.getpass("Ulangi kata sandi: ")
        except EOFError:
            raise CliError("kata sandi tidak terbaca (input berakhir)") from None
        if again != password:
            raise CliError("kedua kata sandi tidak sama")
    if len(password) < 8:
        raise CliError("kata sandi minimal 8 karakter")
    return password


def _check_new_user(user: User, users: list[User], opds: list[Opd]) -> None:
    """Refuse an account that cannot be added (login, uniqueness, role, OPD)."""
    registry.check_login(user.login)
    same = registry.same_login(users, user.login)
    if same is not None:
        hint = "" if same.login == user.login else f" (sebagai {same.login!r})"
        raise CliError(f"login {user.login!r} sudah ada{hint}; login tidak membedakan huruf "
                       "besar dan kecil")
    if user.role not in registry.ROLES:
        raise CliError(f"peran {user.role!r} tidak dikenal (pilih: {', '.join(registry.ROLES)})")
    if user.role == "pic" and not user.opds:
        raise CliError("peran pic membutuhkan --opd ID (boleh lebih dari satu)")
    if user.role != "pic" and user.opds:
        raise CliError(f"--opd hanya untuk peran pic, bukan {user.role}")
    for o in user.opds:
        if _opd_of(o, opds).archived:
            raise CliError(f"OPD {o!r} sudah diarsipkan")
    if user.email:
        registry.check_email(user.email)


def add_user(dep: Deployment, user: User, password: str) -> None:
    """Register ``user`` with ``password``, create their home, regenerate rights."""
    digest = provision.hash_password(password)  # slow on purpose: before taking the lock
    with provision.storage_locked(dep) as store:
        users, opds = dep.users(), dep.opds()
        _check_new_user(user, users, opds)
        new = [*users, user]
        passwords = provision.read_htpasswd(dep.htpasswd)
        passwords[user.login] = digest
        # password first: a login without a role yet can do nothing; rights last
        change = (FileChange()
                  .put(dep.htpasswd, provision.htpasswd_text(passwords), provision.HTPASSWD_MODE)
                  .put(dep.users_csv, registry.users_text(new, [o.id for o in opds]))
                  .put(dep.rights, roles.rights_text(new, opds), RIGHTS_MODE))
        created = provision.ensure_principal(store, user.login)
        try:
            change.commit()
        except BaseException:
            if created:
                provision.delete_collection(store, f"/{user.login}/")
            raise


def cmd_user_add(args: argparse.Namespace) -> int:
    """Create an account with a role."""
    dep = Deployment.locate(args.dir)
    user = User(args.login, args.role, tuple(dict.fromkeys(args.opd or ())),
                _email_arg(args.email) if args.email is not None else "")
    _check_new_user(user, dep.users(), dep.opds())  # before asking for a password
    add_user(dep, user, _read_password(args))
    print(f"Akun {args.login} ({args.role}) dibuat" + (
        f", e-mail {user.email}." if user.email else "."))
    return 0


def _email_arg(value: str) -> str:
    """An address given on the command line, trimmed and checked."""
    address = value.strip()
    if not address:
        raise CliError("alamat e-mail kosong; untuk menghapus alamat akun gunakan "
                       "'kalender user email LOGIN --hapus'")
    return registry.check_email(address)


def cmd_user_email(args: argparse.Namespace) -> int:
    """Set or clear the e-mail address of an account (the server re-reads it at once)."""
    if (args.address is None) == (not args.hapus):
        raise CliError("berikan ALAMAT, atau --hapus untuk menghapus alamat (tidak keduanya)")
    address = "" if args.hapus else _email_arg(args.address)
    dep = Deployment.locate(args.dir)
    with provision.storage_locked(dep):
        users, opds = dep.users(), dep.opds()
        user = _existing(users, args.login)
        new = [dataclasses.replace(u, email=address) if u.login == user.login else u
               for u in users]
        registry.write_users(dep.users_csv, new, [o.id for o in opds])
    if address:
        print(f"E-mail {user.login}: {address}")
    else:
        print(f"E-mail {user.login} dihapus" + ("." if user.email else " (memang belum ada)."))
    return 0


def _existing(users: list[User], login: str) -> User:
    """The account ``login`` (exactly) or a CliError, with a hint on a case mismatch."""
    found = next((u for u in users if u.login == login), None)
    if found is None:
        same = registry.same_login(users, login)
        hint = f"; maksud Anda {same.login!r}?" if same is not None else ""
        raise CliError(f"login {login!r} tidak ada{hint}")
    return found


def cmd_user_passwd(args: argparse.Namespace) -> int:
    """Set a new password."""
    dep = Deployment.locate(args.dir)
    user = _existing(dep.users(), args.login)
    password = _read_password(args)
    entries = provision.read_htpasswd(dep.htpasswd)
    entries[user.login] = provision.hash_password(password)
    provision.write_htpasswd(dep.htpasswd, entries)
    print(f"Kata sandi {user.login} diganti.")
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    """Remove an account (its changes stay in the audit trail)."""
    dep = Deployment.locate(args.dir)
    with provision.storage_locked(dep):
        users, opds = dep.users(), dep.opds()
        user = _existing(users, args.login)
        remaining = [u for u in users if u.login != user.login]
        passwords = provision.read_htpasswd(dep.htpasswd)
        passwords.pop(user.login, None)
        # rights first: from the first rename on, the account may do nothing
        (FileChange().put(dep.rights, roles.rights_text(remaining, opds), RIGHTS_MODE)
         .put(dep.users_csv, registry.users_text(remaining, [o.id for o in opds]))
         .put(dep.htpasswd, provision.htpasswd_text(passwords), provision.HTPASSWD_MODE)
         .commit())
    # their own calendar names and colours go too: a new account of that login starts clean
    Overlay(dep.database).forget_login(user.login)
    FeedTokens.of(dep.root).rotate(user.login)  # a re-made login gets no old links
    schedule.unsubscribe(dep.database, user.login)  # ... and no digest it did not ask for
    print(f"Akun {user.login} dihapus.")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    """List accounts with their e-mail (a login made before the rules of 0.3 is marked)."""
    for u in Deployment.locate(args.dir).users():
        note = "" if registry.LOGIN_RE.match(u.login) else (
            "  [login lama: tidak sesuai aturan login baru, tetap berlaku]")
        email = f"  <{u.email}>" if u.email else ""
        print(f"{u.login:<20} {u.role:<9} {', '.join(u.opds)}{email}{note}".rstrip())
    return 0


def cmd_user_feed(args: argparse.Namespace) -> int:
    """Print an account's private subscription links (``--rotate``: revoke, make new ones)."""
    dep = Deployment.locate(args.dir)
    user = _existing(dep.users(), args.login)
    opds, venues, persons = dep.opds(), dep.venues(), dep.persons()
    calendars = readable(user, opds, [v.id for v in venues], [p.id for p in persons])
    if not calendars:
        raise CliError(f"akun {user.login} ({user.role}) tidak memakai tautan langganan")
    base = (args.url or provision.server_url(dep)).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise CliError(f"--url {args.url!r} harus diawali http:// atau https://")
    tokens = FeedTokens.of(dep.root)
    if args.rotate:
        print(f"{tokens.rotate(user.login)} tautan lama {user.login} dicabut; tautan baru:")
    links = tokens.links(user.login, calendars)
    names = ({o.id: o.name for o in opds}, {v.id: v.name for v in venues},
             {p.id: p.title for p in persons})
    print(f"Tautan langganan pribadi {user.login} (rahasiakan: siapa pun yang memegang "
          "tautan dapat membaca kalender itu; buat ulang dengan --rotate):")
    for link in links:
        print(f"  {label(link.calendar, *names)}\n    {base}{link.path}")
    return 0


def cmd_user_digest(args: argparse.Namespace) -> int:
    """Subscribe an account to the daily digest of the leaders' agenda, or stop it."""
    dep = Deployment.locate(args.dir)
    user = _existing(dep.users(), args.login)
    if args.state == "off":
        stopped = schedule.unsubscribe(dep.database, user.login)
        print(f"Ringkasan agenda pimpinan untuk {user.login} dihentikan"
              + ("." if stopped else " (memang tidak berlangganan)."))
        return 0
    if user.role not in registry.LEADER_ROLES:
        raise CliError(f"akun {user.login} berperan {user.role}: ringkasan agenda pimpinan "
                       "hanya untuk peran " + ", ".join(registry.LEADER_ROLES)
                       + " (yang boleh membaca seluruh agenda pimpinan)")
    if not user.email:
        raise CliError(f"akun {user.login} belum punya alamat e-mail; atur dulu dengan "
                       f"'kalender user email {user.login} ALAMAT'")
    try:
        times = schedule.describe(schedule.slots(provision.load_configuration(dep)))
    except ValueError as e:
        times = f"belum dapat dikirim: {e}"
    new = schedule.subscribe(dep.database, user.login, int(time.time()))
    print(f"Ringkasan agenda pimpinan untuk {user.login} <{user.email}> "
          + ("aktif" if new else "sudah aktif") + f": {times}.")
    return 0
