"""The ``kalender`` command line: every command, option and message in Bahasa Indonesia.

argparse writes its own headings and errors in English through gettext; the
:class:`Parser` subclass replaces them (usage prefix, section titles, the
``--help`` text, and the messages of :meth:`Parser.error`, translated by
pattern) and reports every usage error as one line. The help texts are kept
here, apart from the handlers' English docstrings.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from kalender.admin import (
    cmd_accounts,
    cmd_approval,
    cmd_deploy,
    cmd_digest,
    cmd_email,
    cmd_import,
    cmd_places,
)
from kalender.registry import ROLES

Handler = Callable[[argparse.Namespace], int]

#: Audit trail actions (``kalender.dav.storage``) that ``kalender log --action`` accepts.
ACTIONS = ("create", "update", "delete", "move", "import", "props", "approval")

#: argparse's English error messages (Python 3.11-3.13) and their Indonesian form.
_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r"^the following arguments are required: (.*)$", r"argumen wajib belum diisi: \1"),
    (r"^argument (.+?): invalid choice: (.*?) \(choose from (.*)\)$",
     r"\1: pilihan \2 tidak dikenal (pilih salah satu: \3)"),
    (r"^argument (.+?): invalid int value: (.*)$", r"\1: \2 bukan bilangan bulat"),
    (r"^argument (.+?): invalid float value: (.*)$", r"\1: \2 bukan angka"),
    (r"^argument (.+?): invalid .* value: (.*)$", r"\1: nilai \2 tidak valid"),
    (r"^argument (.+?): expected one argument$", r"\1 membutuhkan satu nilai"),
    (r"^argument (.+?): expected at most one argument$", r"\1 menerima paling banyak satu nilai"),
    (r"^argument (.+?): expected at least one argument$", r"\1 membutuhkan minimal satu nilai"),
    (r"^argument (.+?): not allowed with argument (.*)$", r"\1 tidak boleh dipakai bersama \2"),
    (r"^argument (.+?): ignored explicit argument (.*)$", r"\1 tidak menerima nilai \2"),
    (r"^unrecognized arguments: (.*)$", r"argumen tidak dikenal: \1"),
    (r"^ambiguous option: (.*?) could match (.*)$", r"opsi \1 ambigu, bisa berarti: \2"),
    (r"^one of the arguments (.*) is required$", r"salah satu dari \1 wajib diisi"),
    (r"^argument (.+?): (.*)$", r"\1: \2"),
))


def translate(message: str) -> str:
    """argparse's English error ``message`` in Bahasa Indonesia (unchanged when unknown)."""
    for pattern, replacement in _ERRORS:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message


class _Formatter(argparse.HelpFormatter):
    """Help layout with an Indonesian usage prefix."""

    def add_usage(self, usage: str | None, actions: Any, groups: Any,
                  prefix: str | None = None) -> None:
        """The usage line, prefixed "Penggunaan: "."""
        super().add_usage(usage, actions, groups,
                          "Penggunaan: " if prefix is None else prefix)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose own texts are Indonesian and whose errors are one line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["add_help"] = False
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)
        # "--koordinat -7.8166,112.0119": a value starting with '-' is taken for an option
        # unless it looks like a negative number; Python 3.11 and 3.12 count only "-7.8"
        # as one, not a latitude,longitude pair (3.13 matches any "-<digit>" prefix).
        self._negative_number_matcher = re.compile(
            r"^-\d+$|^-\d*\.\d+$|^-\d*\.?\d+,\s*[+-]?\d*\.?\d+$")
        self._positionals.title = "argumen"
        self._optionals.title = "opsi"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="tampilkan bantuan ini lalu keluar")

    def error(self, message: str) -> NoReturn:
        """Print one line ``PROG: message; lihat 'PROG --help'`` on stderr and exit 2."""
        sys.stderr.write(f"{self.prog}: {translate(message)}; lihat '{self.prog} --help'\n")
        sys.exit(2)


def _command(parent: Any, name: str, handler: Handler, help_text: str,
             dir_option: bool = True) -> Parser:
    """A sub-command with Indonesian help, ``--dir`` and ``--debug``."""
    p: Parser = parent.add_parser(name, help=help_text, description=help_text)
    if dir_option:
        p.add_argument("--dir", metavar="DIR",
                       help="folder deployment (bawaan: $KALENDER_DIR atau folder ini)")
    _debug_option(p, argparse.SUPPRESS)
    p.set_defaults(handler=handler)
    return p


def _debug_option(p: argparse.ArgumentParser, default: Any) -> None:
    """``--debug``: show the traceback of an unexpected error (for developers)."""
    p.add_argument("--debug", action="store_true", default=default,
                   help="tampilkan traceback bila terjadi kesalahan (untuk pengembang)")


def _group(sub: Any, name: str, help_text: str) -> Any:
    """A command with sub-commands (``kalender opd add`` ...)."""
    return sub.add_parser(name, help=help_text, description=help_text).add_subparsers(
        dest="sub", required=True, metavar="AKSI", title="aksi")


def _server_options(p: Parser) -> None:
    """--host and --port of init and serve."""
    p.add_argument("--host", default="127.0.0.1",
                   help="alamat yang didengarkan server (bawaan: 127.0.0.1)")
    p.add_argument("--port", type=int, default=5232, help="port server (bawaan: 5232)")


def _accounts(sub: Any) -> None:
    """``kalender opd ...`` and ``kalender user ...``."""
    opd = _group(sub, "opd", "kelola daftar OPD dan kalendernya")
    p = _command(opd, "add", cmd_accounts.cmd_opd_add, "daftarkan OPD dan buat kalendernya")
    p.add_argument("id", metavar="ID", help="id OPD: huruf kecil, angka dan '-' (mis. dinas-baru)")
    p.add_argument("name", metavar="NAMA", help="nama resmi OPD")
    p.add_argument("--short", metavar="SINGKATAN", help="nama singkat (mis. Dinkes)")
    p.add_argument("--kind", metavar="JENIS", help="jenis OPD (mis. dinas, badan, kecamatan)")
    p.add_argument("--color", metavar="#RRGGBB", default="#1f6feb",
                   help="warna kalender (bawaan: #1f6feb)")
    _command(opd, "list", cmd_accounts.cmd_opd_list, "tampilkan daftar OPD")
    _command(opd, "remove", cmd_accounts.cmd_opd_remove,
             "hapus OPD (yang kalendernya berisi kegiatan diarsipkan)").add_argument(
        "id", metavar="ID", help="id OPD")

    user = _group(sub, "user", "kelola akun")
    login_help = ("nama login: huruf kecil, angka, '.', '_', '-' atau '@' (maks. 64), diawali "
                  "huruf atau angka, tanpa '..', tidak diakhiri '.'")
    p = _command(user, "add", cmd_accounts.cmd_user_add, "buat akun dengan satu peran")
    p.add_argument("login", metavar="LOGIN", help=login_help)
    p.add_argument("--role", required=True, choices=ROLES, metavar="PERAN",
                   help="peran akun: " + ", ".join(ROLES))
    p.add_argument("--opd", action="append", metavar="ID",
                   help="OPD yang dilayani PIC (boleh berulang)")
    p.add_argument("--email", metavar="ALAMAT",
                   help="alamat e-mail untuk pemberitahuan penolakan (mis. "
                        "nama@kedirikota.go.id)")
    p.add_argument("--password-stdin", action="store_true",
                   help="baca kata sandi dari satu baris stdin")
    p = _command(user, "passwd", cmd_accounts.cmd_user_passwd, "ganti kata sandi akun")
    p.add_argument("login", metavar="LOGIN", help="login akun")
    p.add_argument("--password-stdin", action="store_true",
                   help="baca kata sandi dari satu baris stdin")
    _command(user, "remove", cmd_accounts.cmd_user_remove,
             "hapus akun (perubahannya tetap ada di jejak audit)").add_argument(
        "login", metavar="LOGIN", help="login akun")
    p = _command(user, "email", cmd_accounts.cmd_user_email,
                 "atur atau hapus alamat e-mail akun (langsung berlaku)")
    p.add_argument("login", metavar="LOGIN", help="login akun")
    p.add_argument("address", nargs="?", metavar="ALAMAT",
                   help="alamat e-mail baru (mis. nama@kedirikota.go.id)")
    p.add_argument("--hapus", action="store_true", help="hapus alamat e-mail akun")
    _command(user, "list", cmd_accounts.cmd_user_list, "tampilkan daftar akun dan e-mailnya")
    p = _command(user, "digest", cmd_accounts.cmd_user_digest,
                 "langganan ringkasan harian agenda pimpinan lewat e-mail (peran pimpinan, "
                 "protokol, admin; akun perlu alamat e-mail)")
    p.add_argument("login", metavar="LOGIN", help="login akun")
    p.add_argument("state", choices=("on", "off"), metavar="on|off",
                   help="on: kirim ringkasan setiap hari; off: hentikan")
    p = _command(user, "feed", cmd_accounts.cmd_user_feed,
                 "tampilkan tautan langganan pribadi akun (satu per kalender yang boleh "
                 "dibacanya), untuk aplikasi yang tidak dapat login CalDAV")
    p.add_argument("login", metavar="LOGIN", help="login akun")
    p.add_argument("--rotate", action="store_true",
                   help="cabut semua tautan lama akun ini dan buat tautan baru")
    p.add_argument("--url", metavar="ALAMAT",
                   help="alamat server yang dipakai dalam tautan, mis. "
                        "https://agenda.kedirikota.go.id (bawaan: dari [server] hosts di config)")


def _email(sub: Any) -> None:
    """``kalender email ...``: the SMTP server for refusal notices."""
    email = _group(sub, "email", "atur pengiriman e-mail pemberitahuan ke PIC")
    p = _command(email, "setup", cmd_email.cmd_email_setup,
                 "simpan pengaturan server SMTP (langsung berlaku, tanpa restart)")
    p.add_argument("--smtp-host", required=True, metavar="HOST",
                   help="nama host atau alamat IP server SMTP")
    p.add_argument("--smtp-port", type=int, metavar="PORT",
                   help="port server SMTP (bawaan: 25; 587 dengan --starttls; 465 dengan --ssl)")
    p.add_argument("--from", dest="sender", required=True, metavar="ALAMAT",
                   help="alamat pengirim (mis. kalender@kedirikota.go.id)")
    security = p.add_mutually_exclusive_group()
    security.add_argument("--starttls", action="store_true",
                          help="naikkan sambungan ke TLS dengan STARTTLS (RFC 3207)")
    security.add_argument("--ssl", action="store_true",
                          help="sambungan TLS sejak awal (RFC 8314)")
    p.add_argument("--login", metavar="NAMA", help="nama login SMTP (bila server memintanya)")
    p.add_argument("--password-stdin", action="store_true",
                   help="baca kata sandi SMTP dari satu baris stdin (bersama --login)")
    _command(email, "show", cmd_email.cmd_email_show,
             "tampilkan pengaturan e-mail (tanpa kata sandi)")
    _command(email, "test", cmd_email.cmd_email_test,
             "kirim satu e-mail uji sekarang juga dan laporkan hasilnya").add_argument(
        "address", metavar="ALAMAT", help="alamat tujuan e-mail uji")


def _digest(sub: Any) -> None:
    """``kalender digest DATE``: the leaders' agenda of one day, printed or mailed."""
    p = _command(sub, "digest", cmd_digest.cmd_digest,
                 "ringkasan agenda pimpinan satu hari (jam WIB, kegiatan, tempat, "
                 "penyelenggara, pejabat dan wakilnya, pakaian, status): cetak atau kirim "
                 "lewat e-mail")
    p.add_argument("date", metavar="TANGGAL",
                   help="YYYY-MM-DD (mis. 2026-12-01), hari-ini atau besok (WIB)")
    p.add_argument("--print", action="store_true",
                   help="cetak ringkasan ke layar (bawaan bila tanpa --to)")
    p.add_argument("--to", action="append", metavar="ALAMAT",
                   help="kirim sekarang ke alamat ini lewat pengaturan 'kalender email' "
                        "(boleh berulang)")


def _places(sub: Any) -> None:
    """``kalender venue ...`` and ``kalender person ...``."""
    venue = _group(sub, "venue", "kelola daftar tempat (aturan bentrok)")
    p = _command(venue, "add", cmd_places.cmd_venue_add, "daftarkan tempat (langsung berlaku)")
    p.add_argument("id", metavar="ID", help="id tempat: huruf kecil, angka dan '-'")
    p.add_argument("name", metavar="NAMA", help="nama tempat")
    p.add_argument("--building", metavar="GEDUNG", help="gedung tempat ini berada")
    p.add_argument("--alias", action="append", metavar="SEBUTAN",
                   help="ejaan lain (boleh berulang)")
    p.add_argument("--capacity", type=int, default=1, metavar="N",
                   help="kegiatan paralel (bawaan: 1)")
    p.add_argument("--setup", type=int, default=0, metavar="MENIT",
                   help="jeda persiapan, menit (bawaan: 0)")
    p.add_argument("--teardown", type=int, default=0, metavar="MENIT",
                   help="jeda pembongkaran, menit (bawaan: 0)")
    p.add_argument("--parent", metavar="ID", help="tempat induk (mis. aula yang dibagi)")
    koordinat = ("lintang,bujur dalam derajat desimal untuk tautan peta di halaman "
                 "kegiatan, mis. -7.8166,112.0119")
    p.add_argument("--koordinat", metavar="LAT,LON", help=koordinat)
    p = _command(venue, "set", cmd_places.cmd_venue_set, "ubah koordinat tempat terdaftar")
    p.add_argument("id", metavar="ID", help="id tempat")
    p.add_argument("--koordinat", metavar="LAT,LON", required=True,
                   help=koordinat + "; kosong (\"\") menghapusnya")
    _command(venue, "list", cmd_places.cmd_venue_list, "tampilkan daftar tempat")
    _command(venue, "remove", cmd_places.cmd_venue_remove,
             "hapus tempat (kegiatan di sana tidak lagi diperiksa)").add_argument(
        "id", metavar="ID", help="id tempat")
    _command(venue, "unknown", cmd_places.cmd_venue_unknown,
             "lokasi ketikan bebas yang tidak dikenali, terbanyak dulu, dengan tempat yang "
             "mungkin dimaksud")

    person = _group(sub, "person", "kelola daftar orang kunci (aturan bentrok)")
    p = _command(person, "add", cmd_places.cmd_person_add,
                 "daftarkan orang kunci (langsung berlaku)")
    p.add_argument("id", metavar="ID", help="id orang: huruf kecil, angka dan '-'")
    p.add_argument("title", metavar="JABATAN", help="jabatan atau nama")
    p.add_argument("--email", action="append", metavar="ALAMAT",
                   help="alamat e-mail undangan (boleh berulang)")
    p.add_argument("--alias", action="append", metavar="SEBUTAN",
                   help="sebutan lain (boleh berulang)")
    _command(person, "list", cmd_places.cmd_person_list, "tampilkan daftar orang kunci")
    _command(person, "unknown", cmd_places.cmd_person_unknown,
             "nama orang kunci pada baris 'Narasumber: ...' yang tidak dikenali, terbanyak dulu")
    _command(person, "remove", cmd_places.cmd_person_remove, "hapus orang kunci").add_argument(
        "id", metavar="ID", help="id orang")


def _deploy(sub: Any) -> None:
    """init, serve, sync, reindex, verify, log."""
    p = _command(sub, "init", cmd_deploy.cmd_init,
                 "buat folder deployment baru (config, hak akses, daftar, kalender)",
                 dir_option=False)
    p.add_argument("dir", metavar="DIR", help="folder baru atau kosong")
    p.add_argument("--opd-file", metavar="CSV",
                   help="daftar OPD sendiri (kolom id,name,short,kind,color)")
    p.add_argument("--demo", action="store_true", help="tambahkan akun dan kegiatan contoh")
    _server_options(p)

    p = _command(sub, "serve", cmd_deploy.cmd_serve,
                 "jalankan server deployment sampai Ctrl-C atau SIGTERM", dir_option=False)
    p.add_argument("dir", metavar="DIR", help="folder deployment")
    _server_options(p)

    p = _command(sub, "sync", cmd_deploy.cmd_sync,
                 "gabungkan kalender OPD ke agenda publik, pimpinan, tempat dan orang "
                 "(server harus berjalan)")
    p.add_argument("--once", action="store_true", help="satu putaran lalu berhenti")
    p.add_argument("--dry-run", action="store_true", help="tampilkan rencana tanpa menulis")
    p.add_argument("--url", help="alamat server (bawaan: dari [server] hosts di config)")
    p.add_argument("--interval", type=float, default=30.0, metavar="DETIK",
                   help="detik antar putaran (bawaan: 30)")

    _command(sub, "reindex", cmd_deploy.cmd_reindex,
             "bangun ulang indeks bentrok dari kalender yang tersimpan")
    _command(sub, "verify", cmd_deploy.cmd_verify,
             "bandingkan indeks bentrok dengan penyimpanan (kode keluar 1 bila berbeda)")

    p = _command(sub, "log", cmd_deploy.cmd_log,
                 "tampilkan jejak audit: siapa mengubah apa, kapan, di OPD mana")
    p.add_argument("--opd", metavar="ID", help="hanya perubahan di kalender OPD ini")
    p.add_argument("--user", metavar="LOGIN", help="hanya perubahan oleh akun ini")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="hanya sejak tanggal ini (UTC)")
    p.add_argument("--action", choices=ACTIONS, metavar="AKSI",
                   help="hanya jenis perubahan ini: " + ", ".join(ACTIONS))
    p.add_argument("--all", action="store_true",
                   help="sertakan salinan yang ditulis akun sync (agenda, tempat, orang)")
    p.add_argument("--refused", action="store_true",
                   help="tampilkan penulisan yang ditolak (bentrok dan lainnya), dengan jumlahnya")


def _approval(sub: Any) -> None:
    """``kalender approval``, ``approve`` and ``reject``: approval by the protocol office."""
    officer = "nama petugas Prokopim yang dicatat di jejak audit (bawaan: kalender:cli)"
    p = _command(sub, "approval", cmd_approval.cmd_approval,
                 "persetujuan Prokopim: tampilkan status, aktifkan (on), matikan (off), atau "
                 "daftar kegiatan yang menunggu (list)")
    p.add_argument("state", nargs="?", choices=("on", "off", "list"), metavar="on|off|list",
                   help="on: aktifkan; off: matikan; list: kegiatan yang menunggu persetujuan "
                        "atau ditolak; tanpa argumen: tampilkan status")
    p.add_argument("--opd", metavar="ID", help="list: hanya kegiatan OPD ini")
    p.add_argument("--oleh", metavar="NAMA", help=officer)
    p = _command(sub, "approve", cmd_approval.cmd_approve,
                 "setujui kegiatan untuk waktu dan tempatnya sekarang (menjadi definitif)")
    p.add_argument("opd", metavar="OPD", help="id OPD pemilik kegiatan")
    p.add_argument("uid", metavar="UID", help="UID kegiatan (lihat 'kalender approval list')")
    p.add_argument("--oleh", metavar="NAMA", help=officer)
    p = _command(sub, "reject", cmd_approval.cmd_reject,
                 "tolak kegiatan; alasannya dikirim ke PIC OPD (kalender Bentrok dan e-mail)")
    p.add_argument("opd", metavar="OPD", help="id OPD pemilik kegiatan")
    p.add_argument("uid", metavar="UID", help="UID kegiatan (lihat 'kalender approval list')")
    p.add_argument("--reason", required=True, metavar="TEKS",
                   help="alasan penolakan, dibaca PIC OPD (wajib)")
    p.add_argument("--oleh", metavar="NAMA", help=officer)


def _import(sub: Any) -> None:
    """``kalender import OPD FILE.ics``: an exported calendar into an OPD calendar."""
    p = _command(sub, "import", cmd_import.cmd_import,
                 "impor kalender hasil ekspor (Google Calendar, Outlook, Thunderbird) ke "
                 "kalender OPD, diperiksa bentrok seperti penyimpanan dari aplikasi; "
                 "bila terputus, jalankan lagi untuk melanjutkan")
    p.add_argument("opd", metavar="OPD", help="id OPD tujuan (lihat 'kalender opd list')")
    p.add_argument("file", metavar="BERKAS.ics", help="berkas iCalendar hasil ekspor")
    p.add_argument("--dry-run", action="store_true",
                   help="tampilkan rencana (baru, berubah, sudah ada, tidak terbaca) tanpa "
                        "menulis apa pun")
    p.add_argument("--riwayat", action="store_true",
                   help="kegiatan yang sudah selesai diimpor sebagai riwayat: bentrok "
                        "dengan kegiatan lampau lain tidak menolaknya")
    p.add_argument("--as", dest="as_login", metavar="LOGIN",
                   help="catat di jejak audit atas nama akun ini (admin atau PIC OPD itu; "
                        "bawaan: pengguna sistem operasi)")


def build_parser() -> Parser:
    """The argument parser of every command."""
    parser = Parser(prog="kalender", description="Kalender OPD: perintah admin",
                    epilog="Bantuan tiap perintah: kalender PERINTAH --help")
    _debug_option(parser, False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="PERINTAH",
                                title="perintah")
    _deploy(sub)
    _accounts(sub)
    _email(sub)
    _digest(sub)
    _places(sub)
    _approval(sub)
    _import(sub)
    return parser
