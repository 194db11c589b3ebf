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
import shutil
import time
from collections.abc import Callable
from importlib import resources
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


#: Rows of venues.csv as shipped before 0.3 -> the row shipped since. "Balai Kota
#: Kediri" and "Balaikota Kediri" named the courtyard, so a PIC who typed the building
#: booked the courtyard; "GOR Joyobo" was a typo. Only a row still exactly as shipped
#: is replaced: a row the deployment's admin edited (maybe on purpose) stays as it is.
SHIPPED_VENUE_FIXES = {
    "halaman-balai-kota,Halaman Balai Kota Kediri,Balai Kota Kediri,Halaman Balaikota Kediri;"
    "Balai Kota Kediri;Balaikota Kediri,1,60,30,":
    "halaman-balai-kota,Halaman Balai Kota Kediri,Balai Kota Kediri,Halaman Balaikota Kediri,"
    "1,60,30,",
    "gor-joyoboyo,GOR Joyoboyo,Gelanggang Olahraga Jayabaya,GOR Jayabaya;Gelanggang Olahraga "
    "Jayabaya;GOR Jayabaya Kota Kediri;GOR Joyobo,1,60,30,":
    "gor-joyoboyo,GOR Joyoboyo,Gelanggang Olahraga Jayabaya,GOR Jayabaya;Gelanggang Olahraga "
    "Jayabaya;GOR Jayabaya Kota Kediri,1,60,30,",
}


def _shipped_venues(dep: Deployment) -> str | None:
    """venues.csv: the building and a typo no longer name a venue (0.3)."""
    path = dep.venues_csv
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # missing or unreadable: the registry reader says so
    lines = text.splitlines(keepends=True)
    changed: list[str] = []
    for i, line in enumerate(lines):
        row = line.rstrip("\r\n")
        if row in SHIPPED_VENUE_FIXES:
            lines[i] = SHIPPED_VENUE_FIXES[row] + line[len(row):]
            changed.append(row.split(",", 1)[0])
    if not changed:
        return None
    replace_file(path, "".join(lines))
    return ("venues.csv: alias yang menyesatkan dihapus dari " + ", ".join(changed)
            + " ('Balai Kota Kediri' adalah gedungnya, 'GOR Joyobo' salah ketik)")


#: The [logging] section as generated before 0.3: Radicale's info lines on.
_OLD_LOGGING = "[logging]\nlevel = info\nmask_passwords = True\n"


def _quiet_logging(dep: Deployment) -> str | None:
    """config: Radicale's detailed log off by default (0.3), with the template's comment.

    Only the section exactly as generated is replaced; after that the comment is
    part of it, so a level the admin sets later is kept.
    """
    text = dep.config.read_text("utf-8")
    if _OLD_LOGGING not in text:
        return None
    template = resources.files("kalender_config").joinpath("config.template").read_text("utf-8")
    section = re.search(r"^\[logging\]\n.*?(?=^\[)", template, re.M | re.S)
    if section is None:  # pragma: no cover - the shipped template has the section
        return None
    replace_file(dep.config, text.replace(_OLD_LOGGING, section.group(0).rstrip("\n") + "\n"))
    return "config: log rinci Radicale dimatikan ([logging] level = warning)"


def _visibility_rule(dep: Deployment) -> str | None:
    """kalender.db: the clash index's private flags follow kalender.visibility (0.3)."""
    if not dep.database.is_file():
        return None
    from kalender.clash.repair import recheck_private  # here: the engine imports deployment

    changed = recheck_private(dep)
    return f"indeks: {changed} jadwal kini dirahasiakan dalam jawaban bentrok" if changed else None


def _venue_coordinates(dep: Deployment) -> str | None:
    """venues.csv: the empty ``coordinates`` column for the web's map links (0.4).

    Only the header line changes: CSV rows shorter than the header read as empty
    cells (RFC 4180 leaves that to the reader; ``csv.DictReader`` fills them in), so
    every row, edited or as shipped, stays byte for byte as the admin left it.
    """
    path = dep.venues_csv
    try:
        text = path.read_bytes().decode("utf-8")  # not read_text: it would turn CRLF into LF
    except (OSError, UnicodeDecodeError):
        return None  # missing or unreadable: the registry reader says so
    header = text.split("\n", 1)[0]
    names = [n.strip() for n in header.rstrip("\r").split(",")]
    if names[0] != "id" or "coordinates" in names:
        return None  # not a registry header (the reader says so) or already upgraded
    end = len(header.rstrip("\r"))
    replace_file(path, text[:end] + ",coordinates" + text[end:])
    return ("venues.csv: kolom coordinates (lintang,bujur untuk tautan peta) ditambahkan; "
            "isi dengan 'kalender venue set ID --koordinat LAT,LON'")


def _tentative_holds(dep: Deployment) -> str | None:
    """kalender.db: bookings of STATUS:TENTATIVE items are marked as holds (0.5).

    The ``slots.tentative`` column itself is added by ``kalender.database.connect``
    (every connection, before anything writes); this re-reads the stored items
    indexed before it, so ``[storage] kalender_tentative = warn`` knows them.
    """
    if not dep.database.is_file():
        return None
    from kalender.clash.repair import recheck_tentative  # here: the engine imports deployment

    changed = recheck_tentative(dep)
    return f"indeks: {changed} jadwal kini ditandai tentatif" if changed else None


def _served_outputs(dep: Deployment) -> str | None:
    """Output calendars: served from sync.db, their old item files removed (0.6).

    Until 0.6 the sync wrote every copy into the output calendars' folders by
    CalDAV PUT; ``kalender.dav.outputs`` now serves them from the rows sync.db
    already held. The copies already there get a change-log entry (so they
    have a Last-Modified and appear in a first sync-collection report); the
    files, their item cache and history, derived data only, leave the folders.
    Clients' old sync tokens become invalid: they read the calendar afresh
    (RFC 6578 §3.2). Nothing of an OPD calendar is touched.
    """
    from kalender import database
    from kalender.clash.index import Index
    from kalender.dav import outputs  # here: the plugin imports this module's callers
    from kalender_sync.state import State

    root = dep.collections / "collection-root"
    removed = 0
    for folder in [root / "publik" / "agenda", root / "pimpinan" / "agenda",
                   *(root / "ruang").glob("*"), *(root / "orang").glob("*")]:
        calendar = folder.relative_to(root).as_posix()
        if not folder.is_dir() or not outputs.is_output(calendar):
            continue
        if dep.database.is_file():  # the clash index listed the copies as stored items
            db = database.connect(dep.database)
            if db.execute("SELECT 1 FROM items WHERE collection = ? LIMIT 1",
                          (calendar,)).fetchone():
                db.execute("BEGIN IMMEDIATE")
                Index.remove(db, calendar)
                db.execute("COMMIT")
        for entry in folder.iterdir():
            if entry.is_file() and not entry.name.startswith(".Radicale"):
                entry.unlink()
                removed += 1
            elif entry.is_dir() and entry.name in (".Radicale.cache", ".Radicale.history"):
                shutil.rmtree(entry)
    logged = 0
    if (dep.root / "sync.db").is_file():
        state = State(dep.root / "sync.db")  # creates output_log and the tokens' id
        try:
            logged = state.log_unlogged(int(time.time()))
        finally:
            state.close()
    if not removed and not logged:
        return None
    return (f"kalender gabungan kini dilayani dari sync.db: {logged} salinan tercatat, "
            f"{removed} berkas salinan lama dihapus")


#: Every step, oldest first; each returns a one-line description when it changed something.
STEPS: list[Callable[[Deployment], str | None]] = [_plugin_paths, _shipped_venues,
                                                   _quiet_logging, _visibility_rule,
                                                   _venue_coordinates, _tentative_holds,
                                                   _served_outputs]


def upgrade(dep: Deployment) -> list[str]:
    """Bring ``dep`` up to date; the descriptions of the steps that changed something."""
    if not dep.config.is_file():
        return []
    return [done for step in STEPS if (done := step(dep)) is not None]
