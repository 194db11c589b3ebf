"""Upgrading a deployment folder in place, run at every start.

A deployment made by an older version keeps working: ``kalender serve`` and
every CLI command call :func:`upgrade` before reading anything. Each step is
idempotent (it looks at the files, not at a version number), so running it
twice, or on a new deployment, changes nothing. A step rewrites a file by
temporary file and rename, so an interrupted upgrade leaves either the old or
the new file, never half of one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from kalender.deployment import Deployment

#: Plugin modules by their pre-0.2 paths (before the package was grouped by concept).
PLUGIN_MODULES = {"kalender.auth": "kalender.dav.auth", "kalender.rights": "kalender.dav.rights",
                  "kalender.storage": "kalender.dav.storage"}
_PLUGIN_TYPE = re.compile(r"^(\s*type\s*=\s*)(kalender\.(?:auth|rights|storage))\s*$", re.M)


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (same permissions as before)."""
    tmp = path.with_name(f".{path.name}.upgrade")
    tmp.write_text(text, encoding="utf-8")
    if path.exists():
        os.chmod(tmp, path.stat().st_mode & 0o777)
    os.replace(tmp, path)


def _plugin_paths(dep: Deployment) -> str | None:
    """config: the plugins moved to ``kalender.dav`` (0.2)."""
    text = dep.config.read_text("utf-8")
    new = _PLUGIN_TYPE.sub(lambda m: m.group(1) + PLUGIN_MODULES[m.group(2)], text)
    if new == text:
        return None
    replace_file(dep.config, new)
    return "config: modul plugin dipindah ke kalender.dav"


#: Every step, oldest first; each returns a one-line description when it changed something.
STEPS: list[Callable[[Deployment], str | None]] = [_plugin_paths]


def upgrade(dep: Deployment) -> list[str]:
    """Bring ``dep`` up to date; the descriptions of the steps that changed something."""
    if not dep.config.is_file():
        return []
    return [done for step in STEPS if (done := step(dep)) is not None]
