"""The deployment's SQLite database (``kalender.db``): schema and connections.

One file holds the audit trail and the clash index. WAL journal mode lets
readers (``kalender log``, ``verify``) run while the server writes; a process
killed with SIGKILL loses no committed transaction (SQLite's WAL guarantees
this with ``synchronous = NORMAL`` for application crashes).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id      INTEGER PRIMARY KEY,
    ts      TEXT NOT NULL,              -- UTC, ISO 8601
    actor   TEXT NOT NULL,              -- the logged-in user who made the change
    action  TEXT NOT NULL,              -- create | update | delete | move | import | props | ...
    path    TEXT NOT NULL,              -- collection path, e.g. /opd/dinkes/
    href    TEXT,                       -- item name inside the collection
    opd     TEXT,                       -- OPD id when path is an OPD calendar
    before  TEXT,                       -- iCalendar (or props JSON) before the change
    after   TEXT,                       -- ... and after
    note    TEXT                        -- e.g. the reason of an admin override
);
CREATE INDEX IF NOT EXISTS audit_opd_ts ON audit (opd, ts);
"""

_local = threading.local()


def connect(path: Path) -> sqlite3.Connection:
    """A connection for this thread to the database at ``path`` (schema ensured)."""
    cache: dict[str, sqlite3.Connection] = getattr(_local, "connections", {})
    _local.connections = cache
    key = str(path)
    conn = cache.get(key)
    if conn is None:
        conn = sqlite3.connect(key, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.executescript(SCHEMA)
        cache[key] = conn
    return conn
