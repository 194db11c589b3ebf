"""``kalender email ...``: the SMTP server that mails refusals to PICs.

``setup`` checks every value before it writes ``DIR/email.json`` (mode 0600,
through :func:`kalender.notify.mail.save`); the running server re-reads the
file before each delivery pass, so a change needs no restart. ``show`` prints
the settings without the password. ``test`` sends one message at once, not
through the queue, so the admin sees the SMTP server's answer right away.
"""

from __future__ import annotations

import argparse
import getpass
import re
import smtplib
import socket
import ssl
import sys

from kalender import registry
from kalender.deployment import Deployment
from kalender.errors import CliError
from kalender.notify import mail

#: A host name or an IPv4/IPv6 address as smtplib takes it (no scheme, no port).
HOST_RE = re.compile(r"^[A-Za-z0-9._:-]{1,253}$")
#: The usual port of each kind of connection (RFC 5321 §4.5.4, RFC 8314 §3.3).
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
TEST_SUBJECT = "[Kalender OPD] Uji coba e-mail"
TEST_TEXT = ("Ini pesan uji dari Kalender OPD Pemerintah Kota Kediri.\n\n"
             "Bila pesan ini sampai, pengaturan e-mail sudah benar: PIC akan menerima "
             "pemberitahuan bila kegiatan yang mereka simpan ditolak (misalnya karena "
             "bentrok).\n\n-- \nKalender OPD (pesan otomatis)")


def _security(args: argparse.Namespace) -> str:
    """none, starttls or ssl from the mutually exclusive flags."""
    return "ssl" if args.ssl else "starttls" if args.starttls else "none"


def _password(args: argparse.Namespace) -> str:
    """The SMTP password from one stdin line (--password-stdin) or a prompt."""
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CliError("stdin kosong: --password-stdin membaca kata sandi SMTP dari satu "
                           "baris stdin")
        return password
    if not sys.stdin.isatty():
        raise CliError("--login membutuhkan kata sandi: kirim lewat stdin dengan "
                       "--password-stdin")
    try:
        password = getpass.getpass("Kata sandi SMTP: ")
    except EOFError:
        raise CliError("kata sandi tidak terbaca (input berakhir)") from None
    if not password:
        raise CliError("kata sandi SMTP kosong")
    return password


def settings_from(args: argparse.Namespace) -> mail.Settings:
    """Checked settings from the options of ``email setup`` (reads the password last)."""
    host = args.smtp_host.strip()
    if not HOST_RE.match(host):
        raise CliError(f"--smtp-host {args.smtp_host!r} tidak valid: tulis nama host atau "
                       "alamat IP saja, misalnya smtp.kedirikota.go.id")
    security = _security(args)
    port = DEFAULT_PORTS[security] if args.smtp_port is None else args.smtp_port
    if not 1 <= port <= 65535:
        raise CliError(f"--smtp-port {port} tidak valid: pilih 1 sampai 65535")
    try:
        sender = registry.check_email(args.sender.strip())
    except registry.RegistryError as e:
        raise CliError(f"--from: {e}") from None
    login = (args.login or "").strip()
    if args.login is not None and (not login or any(c in login for c in "\r\n")):
        raise CliError("--login tidak boleh kosong atau memuat baris baru")
    if args.password_stdin and not login:
        raise CliError("--password-stdin hanya bersama --login")
    password = _password(args) if login else ""
    return mail.Settings(host, port, sender, security, login, password)


def cmd_email_setup(args: argparse.Namespace) -> int:
    """Check and store the SMTP settings (effective without a restart)."""
    dep = Deployment.locate(args.dir)
    settings = settings_from(args)
    mail.save(dep.root, settings)
    print(f"Pengaturan e-mail disimpan di {mail.settings_path(dep.root)}: {_summary(settings)}.")
    if settings.login and settings.security == "none":
        print("Peringatan: kata sandi SMTP dikirim tanpa enkripsi; pertimbangkan --starttls "
              "atau --ssl.", file=sys.stderr)
    print(f"Coba kirim: kalender email test ALAMAT --dir {dep.root}")
    return 0


def _summary(settings: mail.Settings) -> str:
    """'smtp.x:587 (starttls), pengirim a@b, login u' without the password."""
    text = (f"{settings.host}:{settings.port} ({settings.security}), pengirim "
            f"{settings.sender}")
    return text + (f", login {settings.login}" if settings.login else ", tanpa login")


def _loaded(dep: Deployment) -> mail.Settings:
    """The stored settings or a CliError saying how to make them."""
    settings = mail.load(dep.root)
    if settings is None:
        path = mail.settings_path(dep.root)
        what = "tidak terbaca" if path.exists() else "belum diatur"
        raise CliError(f"pengaturan e-mail {what}; jalankan 'kalender email setup --smtp-host "
                       "HOST --from ALAMAT'")
    return settings


def cmd_email_show(args: argparse.Namespace) -> int:
    """Print the SMTP settings (never the password)."""
    settings = _loaded(Deployment.locate(args.dir))
    print(f"server     {settings.host}:{settings.port}")
    print(f"keamanan   {settings.security}")
    print(f"pengirim   {settings.sender}")
    print(f"login      {settings.login or '-'}")
    print(f"kata sandi {'(tersimpan)' if settings.password else '-'}")
    return 0


def why(error: mail.MailError, settings: mail.Settings) -> str:
    """Why sending failed, in Bahasa Indonesia, with the technical text in brackets."""
    cause = error.__context__  # mail.send raises "from None": the original is the context
    server = f"{settings.host}:{settings.port}"
    if isinstance(cause, smtplib.SMTPAuthenticationError):
        text = "login SMTP ditolak; periksa --login dan kata sandinya"
    elif isinstance(cause, smtplib.SMTPRecipientsRefused):
        text = "server SMTP menolak alamat tujuan"
    elif isinstance(cause, smtplib.SMTPSenderRefused):
        text = "server SMTP menolak alamat pengirim (--from)"
    elif isinstance(cause, smtplib.SMTPNotSupportedError):
        text = "server SMTP tidak mendukung STARTTLS atau login; periksa --starttls/--ssl"
    elif isinstance(cause, smtplib.SMTPServerDisconnected):
        text = f"server SMTP {server} memutus sambungan"
    elif isinstance(cause, smtplib.SMTPException):  # before OSError: it is one
        text = "server SMTP menolak pesan"
    elif isinstance(cause, ssl.SSLCertVerificationError):
        text = f"sertifikat TLS server {server} tidak dipercaya"
    elif isinstance(cause, ssl.SSLError):
        text = f"sambungan TLS ke {server} gagal; periksa --starttls/--ssl dan portnya"
    elif isinstance(cause, socket.gaierror):
        text = f"nama host {settings.host!r} tidak dikenal"
    elif isinstance(cause, ConnectionRefusedError):
        text = f"server SMTP {server} menolak sambungan (tidak berjalan atau port salah)"
    elif isinstance(cause, TimeoutError):
        text = f"server SMTP {server} tidak menjawab dalam {mail.SMTP_TIMEOUT} detik"
    elif isinstance(cause, OSError):
        text = f"server SMTP {server} tidak dapat dihubungi"
    else:
        text = "pengiriman gagal"
    return f"{text} ({error})"


def cmd_email_test(args: argparse.Namespace) -> int:
    """Send one test message now; exit 1 with the SMTP error on failure."""
    dep = Deployment.locate(args.dir)
    to = registry.check_email(args.address.strip())
    settings = _loaded(dep)
    try:
        mail.send(settings, mail.compose(settings, to, TEST_SUBJECT, TEST_TEXT))
    except mail.MailError as e:
        raise CliError(f"e-mail uji ke {to} gagal: {why(e, settings)}") from None
    print(f"E-mail uji terkirim ke {to} lewat {settings.host}:{settings.port}.")
    return 0
