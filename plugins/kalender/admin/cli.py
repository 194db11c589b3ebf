"""The ``kalender`` admin CLI (messages for people in Bahasa Indonesia).

Every command has ``--help``; on error it prints one line ``kalender: ...`` on
stderr and exits non-zero. Commands other than ``init`` and ``serve`` act on
the deployment named by ``--dir``, else ``$KALENDER_DIR``, else the current
folder.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from kalender.admin.cmd_accounts import (
    cmd_opd_add,
    cmd_opd_list,
    cmd_opd_remove,
    cmd_user_add,
    cmd_user_list,
    cmd_user_passwd,
    cmd_user_remove,
)
from kalender.admin.cmd_deploy import (
    cmd_init,
    cmd_log,
    cmd_reindex,
    cmd_serve,
    cmd_sync,
    cmd_verify,
)
from kalender.admin.cmd_places import (
    cmd_person_add,
    cmd_person_list,
    cmd_person_remove,
    cmd_venue_add,
    cmd_venue_list,
    cmd_venue_remove,
    cmd_venue_unknown,
)
from kalender.errors import CliError
from kalender.registry import RegistryError

Handler = Callable[[argparse.Namespace], int]


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

    p = command(sub, "sync", cmd_sync)
    p.add_argument("--once", action="store_true", help="satu putaran lalu berhenti")
    p.add_argument("--dry-run", action="store_true", help="tampilkan rencana tanpa menulis")
    p.add_argument("--url", help="alamat server (bawaan: dari [server] hosts di config)")
    p.add_argument("--interval", type=float, default=30.0, help="detik antar putaran")

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
