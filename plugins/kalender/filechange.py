"""Changing deployment files safely: one file by rename, several files all or none.

A reader (the server re-reading ``opd.csv``, Radicale re-reading ``rights``)
must never see half a file, and a CLI change that touches several files
(``users.csv`` + ``users.htpasswd`` + ``rights``) must leave either every file
new or every file as it was. :class:`FileChange` first writes every new text
to a temporary file next to its target (where a full disk or a missing
permission shows up), then renames them in the order given; if one rename
fails, the files already replaced get their old text back.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

#: Mode of a file that did not exist before (registries name accounts: owner only).
NEW_FILE_MODE = 0o600


def _stage(path: Path, data: bytes, mode: int | None) -> str:
    """Write ``data`` to a temporary file beside ``path``; its name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is None:
            try:
                mode = path.stat().st_mode & 0o777
            except FileNotFoundError:
                mode = NEW_FILE_MODE
        os.chmod(tmp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Replace ``path`` by ``text`` through a rename (the old mode is kept)."""
    os.replace(_stage(path, text.encode("utf-8"), mode), path)


def _old(path: Path) -> bytes | None:
    """The current content of ``path`` (None when it does not exist)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


class FileChange:
    """New texts for several files, written together by :meth:`commit`."""

    def __init__(self) -> None:
        self._files: list[tuple[Path, bytes, int | None]] = []

    def put(self, path: Path, text: str, mode: int | None = None) -> FileChange:
        """Plan ``path`` to hold ``text`` (files are replaced in the order planned)."""
        self._files.append((path, text.encode("utf-8"), mode))
        return self

    def commit(self) -> None:
        """Replace every planned file, or (on an error) none of them."""
        staged: list[tuple[Path, str]] = []
        try:
            for path, data, mode in self._files:
                staged.append((path, _stage(path, data, mode)))
            backups = [(path, _old(path)) for path, _ in staged]
            done: list[int] = []
            try:
                for i, (path, tmp) in enumerate(staged):
                    os.replace(tmp, path)
                    done.append(i)
            except BaseException:
                for i in reversed(done):
                    path, old = backups[i]
                    if old is None:
                        path.unlink(missing_ok=True)
                    else:
                        os.replace(_stage(path, old, None), path)
                raise
        finally:
            for _, tmp in staged:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
