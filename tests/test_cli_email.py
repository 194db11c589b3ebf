"""E-mail on the command line: SMTP settings against a real SMTP server, account addresses.

The SMTP server is aiosmtpd on 127.0.0.1 (a real server speaking SMTP over
TCP); smtplib is never replaced.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from kalender import registry
from kalender.admin import cli
from kalender.deployment import CachedRegistry, Deployment
from kalender.notify import mail
from tests.conftest import PASSWORD, free_port, make_deployment
from tests.test_upgrade import unpack

SMTP_LOGIN, SMTP_PASSWORD = "kalender", "sandi-smtp-rahasia"


@dataclass
class Inbox:
    """What the SMTP server received: (envelope recipients, message, authenticated login)."""

    messages: list[tuple[list[str], EmailMessage, str | None]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message (aiosmtpd's handler hook)."""
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data.login.decode() if session.authenticated else None
        self.messages.append((list(envelope.rcpt_tos), parsed, login))
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
    """Accept SMTP_LOGIN / SMTP_PASSWORD only."""
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_LOGIN.encode()
          and auth_data.password == SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@dataclass
class Smtp:
    """A running SMTP server and its inbox."""

    port: int
    inbox: Inbox


def _serve_smtp(**options: Any) -> Iterator[Smtp]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield Smtp(port, inbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    """An SMTP server without authentication."""
    yield from _serve_smtp()


@pytest.fixture
def smtp_auth() -> Iterator[Smtp]:
    """An SMTP server offering AUTH without TLS, as a local relay may (each login recorded)."""
    yield from _serve_smtp(authenticator=_authenticate, auth_require_tls=False)


@pytest.fixture
def dep(tmp_path: Path) -> Deployment:
    """A fresh deployment with one PIC."""
    return make_deployment(tmp_path / "kediri", {"pic-x": ("pic", ("dinkes",))})


def kalender(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str,
             stdin: str = "") -> tuple[int, str, str]:
    """Run the kalender command in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    try:
        code = cli.main(list(args))
    except SystemExit as e:  # usage errors exit through argparse
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_setup_then_test_delivers_one_message(dep: Deployment, smtp: Smtp,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """setup writes email.json (0600); test sends one Indonesian message at once."""
    d = str(dep.root)
    code, out, err = kalender(capsys, monkeypatch, "email", "setup", "--smtp-host", "127.0.0.1",
                              "--smtp-port", str(smtp.port), "--from",
                              "kalender@kedirikota.go.id", "--dir", d)
    assert (code, err) == (0, ""), err
    path = mail.settings_path(dep.root)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert mail.load(dep.root) == mail.Settings("127.0.0.1", smtp.port,
                                                "kalender@kedirikota.go.id", "none")
    code, out, _ = kalender(capsys, monkeypatch, "email", "show", "--dir", d)
    assert code == 0 and f"127.0.0.1:{smtp.port}" in out and "tanpa" not in out
    assert "kalender@kedirikota.go.id" in out

    code, out, err = kalender(capsys, monkeypatch, "email", "test", "budi@kedirikota.go.id",
                              "--dir", d)
    assert (code, err) == (0, ""), err
    assert "terkirim" in out and out.count("\n") == 1
    assert len(smtp.inbox.messages) == 1
    rcpts, message, login = smtp.inbox.messages[0]
    assert rcpts == ["budi@kedirikota.go.id"] and login is None
    assert message["Subject"] == "[Kalender OPD] Uji coba e-mail"
    assert message["From"] == "kalender@kedirikota.go.id"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and "pesan uji" in plain.get_content()
    assert html is not None and "<html lang=\"id\">" in html.get_content()


def test_login_with_password_from_stdin(dep: Deployment, smtp_auth: Smtp,
                                        capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """--login/--password-stdin authenticate; show never prints the password; a wrong one fails."""
    d = str(dep.root)
    setup = ("email", "setup", "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_auth.port),
             "--from", "kalender@kedirikota.go.id", "--login", SMTP_LOGIN, "--password-stdin",
             "--dir", d)
    code, _, err = kalender(capsys, monkeypatch, *setup, stdin=SMTP_PASSWORD + "\n")
    assert code == 0 and "tanpa enkripsi" in err  # a warning, not an error
    assert json.loads(mail.settings_path(dep.root).read_text("utf-8"))["password"] == (
        SMTP_PASSWORD)
    code, out, _ = kalender(capsys, monkeypatch, "email", "show", "--dir", d)
    assert code == 0 and SMTP_LOGIN in out and "(tersimpan)" in out
    assert SMTP_PASSWORD not in out

    code, _, err = kalender(capsys, monkeypatch, "email", "test", "pic@kedirikota.go.id",
                            "--dir", d)
    assert code == 0, err
    assert [(r, login) for r, _, login in smtp_auth.inbox.messages] == [
        (["pic@kedirikota.go.id"], SMTP_LOGIN)]

    code, _, _ = kalender(capsys, monkeypatch, *setup, stdin="salah-sandi\n")
    assert code == 0
    code, out, err = kalender(capsys, monkeypatch, "email", "test", "pic@kedirikota.go.id",
                              "--dir", d)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("kalender: e-mail uji ke pic@kedirikota.go.id gagal: login SMTP "
                          "ditolak"), err
    assert len(smtp_auth.inbox.messages) == 1


def test_test_with_server_down_is_one_line_and_exit_1(dep: Deployment,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listens on the port: one Indonesian line naming the server, exit 1."""
    d, port = str(dep.root), free_port()
    assert kalender(capsys, monkeypatch, "email", "setup", "--smtp-host", "127.0.0.1",
                    "--smtp-port", str(port), "--from", "kalender@kedirikota.go.id",
                    "--dir", d)[0] == 0
    code, out, err = kalender(capsys, monkeypatch, "email", "test", "budi@kedirikota.go.id",
                              "--dir", d)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"server SMTP 127.0.0.1:{port} menolak sambungan" in err, err


@pytest.mark.parametrize(("args", "stdin", "code", "expected"), [
    (["--smtp-host", "smtp kota", "--from", "a@kedirikota.go.id"], "", 1, "--smtp-host"),
    (["--smtp-host", "smtp.x.id", "--smtp-port", "0", "--from", "a@kedirikota.go.id"], "",
     1, "--smtp-port 0"),
    (["--smtp-host", "smtp.x.id", "--smtp-port", "70000", "--from", "a@kedirikota.go.id"],
     "", 1, "1 sampai 65535"),
    (["--smtp-host", "smtp.x.id", "--from", "kalender"], "", 1, "--from: alamat e-mail"),
    (["--smtp-host", "smtp.x.id", "--from", "a b@kedirikota.go.id"], "", 1, "tidak valid"),
    (["--smtp-host", "smtp.x.id", "--from", "a@x.id", "--starttls", "--ssl"], "", 2,
     "tidak boleh dipakai bersama"),
    (["--smtp-host", "smtp.x.id", "--from", "a@x.id", "--password-stdin"], "rahasia\n", 1,
     "hanya bersama --login"),
    (["--smtp-host", "smtp.x.id", "--from", "a@x.id", "--login", "u", "--password-stdin"],
     "", 1, "stdin kosong"),
    (["--smtp-host", "smtp.x.id", "--from", "a@x.id", "--login", "u"], "", 1,
     "--password-stdin"),
    (["--from", "a@x.id"], "", 2, "argumen wajib belum diisi: --smtp-host"),
])
def test_setup_validates_before_writing(dep: Deployment, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch, args: list[str],
                                        stdin: str, code: int, expected: str) -> None:
    """A bad value: one line naming it, and no email.json written."""
    got, out, err = kalender(capsys, monkeypatch, "email", "setup", *args, "--dir",
                             str(dep.root), stdin=stdin)
    assert got == code and out == "" and err.count("\n") == 1, err
    assert expected in err, err
    assert not mail.settings_path(dep.root).exists()


def test_setup_defaults_and_test_before_setup(dep: Deployment,
                                              capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Without setup show/test say how to set up; ports default by security."""
    d = str(dep.root)
    for cmd in (("show",), ("test", "budi@kedirikota.go.id")):
        code, _, err = kalender(capsys, monkeypatch, "email", *cmd, "--dir", d)
        assert code == 1 and "belum diatur" in err and "kalender email setup" in err
    for flag, port in (("--starttls", 587), ("--ssl", 465)):
        assert kalender(capsys, monkeypatch, "email", "setup", "--smtp-host", "smtp.x.id",
                        "--from", "a@x.id", flag, "--dir", d)[0] == 0
        settings = mail.load(dep.root)
        assert settings is not None and (settings.port, settings.security) == (
            port, flag.strip("-"))
    code, _, err = kalender(capsys, monkeypatch, "email", "test", "bukan alamat", "--dir", d)
    assert code == 1 and "tidak valid" in err and err.count("\n") == 1


def test_user_email_add_set_clear_list(dep: Deployment, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """user add --email, user email, --hapus, user list; the server's registry follows at once."""
    d = str(dep.root)
    cached = CachedRegistry(dep)  # as the running server holds it
    pic = cached.user("pic-x")
    assert pic is not None and pic.email == ""

    code, out, err = kalender(capsys, monkeypatch, "user", "add", "pic-baru", "--role", "pic",
                              "--opd", "dinkes", "--email", "bukan-alamat", "--dir", d,
                              "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 1 and err.count("\n") == 1 and "bukan-alamat" in err
    assert cached.user("pic-baru") is None
    code, out, err = kalender(capsys, monkeypatch, "user", "add", "pic-baru", "--role", "pic",
                              "--opd", "dinkes", "--email", "Budi.S@KedirIkota.go.id", "--dir",
                              d, "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0, err
    new = cached.user("pic-baru")
    assert new is not None and new.email == "Budi.S@KedirIkota.go.id"

    code, out, err = kalender(capsys, monkeypatch, "user", "email", "pic-x",
                              "sari@kedirikota.go.id", "--dir", d)
    assert code == 0 and "sari@kedirikota.go.id" in out, err
    pic = cached.user("pic-x")
    assert pic is not None and pic.email == "sari@kedirikota.go.id" and pic.opds == ("dinkes",)
    lines = kalender(capsys, monkeypatch, "user", "list", "--dir", d)[1].splitlines()
    assert any(line.startswith("pic-x") and line.endswith("<sari@kedirikota.go.id>")
               for line in lines), lines
    assert any(line.startswith("pic-baru") and "<Budi.S@KedirIkota.go.id>" in line
               for line in lines), lines

    code, out, _ = kalender(capsys, monkeypatch, "user", "email", "pic-x", "--hapus", "--dir", d)
    assert code == 0 and "dihapus" in out
    pic = cached.user("pic-x")
    assert pic is not None and pic.email == ""
    assert "<" not in next(x for x in kalender(capsys, monkeypatch, "user", "list", "--dir",
                                               d)[1].splitlines() if x.startswith("pic-x"))

    for args, expected in ((["pic-x"], "--hapus"), (["pic-x", "a@x.id", "--hapus"], "--hapus"),
                           (["pic-x", ""], "--hapus"), (["pic-x", "a@@x.id"], "tidak valid"),
                           (["tidak-ada", "a@x.id"], "tidak ada")):
        code, _, err = kalender(capsys, monkeypatch, "user", "email", *args, "--dir", d)
        assert code == 1 and err.count("\n") == 1 and expected in err, (args, err)
    assert registry.read_users(dep.users_csv)[-1].email == "Budi.S@KedirIkota.go.id"


def test_opd_remove_keeps_the_email_of_remaining_pics(dep: Deployment,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Removing one of a PIC's two OPDs rewrites users.csv without losing the address."""
    d = str(dep.root)
    assert kalender(capsys, monkeypatch, "opd", "add", "dinas-baru", "Dinas Baru",
                    "--dir", d)[0] == 0
    assert kalender(capsys, monkeypatch, "user", "add", "pic-dua", "--role", "pic", "--opd",
                    "dinkes", "--opd", "dinas-baru", "--email", "dua@kedirikota.go.id",
                    "--password-stdin", "--dir", d, stdin=PASSWORD + "\n")[0] == 0
    assert kalender(capsys, monkeypatch, "opd", "remove", "dinas-baru", "--dir", d)[0] == 0
    user = next(u for u in dep.users() if u.login == "pic-dua")
    assert (user.opds, user.email) == (("dinkes",), "dua@kedirikota.go.id")


def test_users_csv_without_email_column_keeps_working(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment from before e-mail: read as no addresses; the next write adds the column."""
    old = unpack("main-24ffd88.tar.gz", tmp_path)
    before = old.users_csv.read_text("utf-8")
    assert before.splitlines()[0] == "login,role,opd"
    users = old.users()
    assert users and all(u.email == "" for u in users)
    code, out, _ = kalender(capsys, monkeypatch, "user", "list", "--dir", str(old.root))
    assert code == 0 and "pic-demo" in out and "<" not in out
    code, _, err = kalender(capsys, monkeypatch, "user", "email", "pic-demo",
                            "demo@kedirikota.go.id", "--dir", str(old.root))
    assert code == 0, err
    text = old.users_csv.read_text("utf-8")
    assert text.splitlines()[0] == "login,role,opd,email"
    after = old.users()
    assert [(u.login, u.role, u.opds) for u in after] == [(u.login, u.role, u.opds)
                                                          for u in users]
    assert [u.email for u in after if u.email] == ["demo@kedirikota.go.id"]
    old.validate()  # what kalender serve checks at start-up


def test_hand_edited_bad_address_names_the_line(tmp_path: Path) -> None:
    """An address typed into users.csv by hand that is not one stops with file and line."""
    path = tmp_path / "users.csv"
    path.write_text("login,role,opd,email\nbudi,admin,,budi@kedirikota.go.id\n"
                    "sari,admin,,sari at kedirikota\n", "utf-8")
    with pytest.raises(registry.RegistryError) as exc:
        registry.read_users(path)
    assert f"{path}:3:" in str(exc.value) and "sari at kedirikota" in str(exc.value)


def test_new_commands_have_indonesian_help(capsys: pytest.CaptureFixture[str]) -> None:
    """--help of every new command exits 0 with the Indonesian usage prefix."""
    for args in (["email", "--help"], ["email", "setup", "--help"], ["email", "show", "--help"],
                 ["email", "test", "--help"], ["user", "email", "--help"],
                 ["person", "unknown", "--help"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(args)
        assert exc.value.code == 0, args
        assert capsys.readouterr().out.startswith("Penggunaan: kalender"), args
