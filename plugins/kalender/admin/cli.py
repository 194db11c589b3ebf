"""The ``kalender`` admin CLI (messages for people in Bahasa Indonesia).

Every command has ``--help`` (``kalender.admin.parser``); on error it prints
one line ``kalender: ...`` on stderr and exits non-zero, never a traceback
(``--debug`` adds one, for developers). Commands other than ``init`` and
``serve`` act on the deployment named by ``--dir``, else ``$KALENDER_DIR``,
else the current folder.
"""

from __future__ import annotations

import errno
import logging
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from kalender.admin.parser import build_parser
from kalender.errors import CliError, KalenderError
from kalender.registry import RegistryError

#: Why a file operation failed, for people (the OS's own text is English).
_OS_ERRORS = {
    errno.ENOENT: "berkas atau folder tidak ada",
    errno.EACCES: "tidak ada izin",
    errno.EPERM: "tidak ada izin",
    errno.ENOSPC: "disk penuh",
    errno.EROFS: "sistem berkas hanya baca",
    errno.EISDIR: "berupa folder, bukan berkas",
    errno.ENOTDIR: "bukan folder",
    errno.EEXIST: "sudah ada",
    errno.EADDRINUSE: "alamat/port sudah dipakai program lain",
    errno.EADDRNOTAVAIL: "alamat tidak tersedia di mesin ini",
}


def describe(error: BaseException) -> str:
    """One line in Bahasa Indonesia saying what went wrong."""
    if isinstance(error, (CliError, RegistryError, KalenderError)):
        text = str(error)
    elif isinstance(error, OSError) and error.errno is not None:
        why = _OS_ERRORS.get(error.errno, f"galat sistem {error.errno}")
        where = error.filename if error.filename is not None else ""
        text = f"{where}: {why}" if where else why
    else:
        text = (f"kesalahan tak terduga ({type(error).__name__}: {error}); jalankan lagi "
                "dengan --debug untuk rinciannya")
    return " ".join(text.split())


@contextmanager
def _quiet_radicale(debug: bool) -> Iterator[None]:
    """Hide Radicale's English notices ("creating now") from CLI commands."""
    radicale = logging.getLogger("radicale")
    level = radicale.level
    if not debug:
        radicale.setLevel(logging.ERROR)
    try:
        yield
    finally:
        radicale.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kalender`` command."""
    args = build_parser().parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    try:
        with _quiet_radicale(debug or args.command == "serve"):
            return int(args.handler(args))
    except KeyboardInterrupt:
        print("kalender: dihentikan.", file=sys.stderr)
        return 130
    except Exception as e:
        if debug:
            traceback.print_exc()
        print(f"kalender: {describe(e)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
