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

-- The clash index (kalender.clash.index): every item of every calendar, and the
-- blocking occurrences of OPD calendars, one row per (occurrence, resource).
CREATE TABLE IF NOT EXISTS items (
    collection TEXT NOT NULL,           -- e.g. opd/dinkes
    href       TEXT NOT NULL,
    uid        TEXT NOT NULL,
    etag       TEXT NOT NULL,
    horizon    INTEGER NOT NULL,        -- occurrences indexed up to here (epoch)
    recurring  INTEGER NOT NULL,        -- has RRULE: re-expanded as the horizon moves
    locations  TEXT NOT NULL DEFAULT '',-- free-text locations that matched no venue
    PRIMARY KEY (collection, href)
);
CREATE INDEX IF NOT EXISTS items_uid ON items (collection, uid);
CREATE INDEX IF NOT EXISTS items_horizon ON items (recurring, horizon);
CREATE TABLE IF NOT EXISTS slots (
    collection TEXT NOT NULL,
    href       TEXT NOT NULL,
    uid        TEXT NOT NULL,
    opd        TEXT NOT NULL,
    kind       TEXT NOT NULL,           -- venue | person
    resource   TEXT NOT NULL,           -- venue id or person id
    start      INTEGER NOT NULL,        -- epoch seconds, half-open [start, end)
    "end"      INTEGER NOT NULL,
    title      TEXT NOT NULL,
    private    INTEGER NOT NULL,
    rid        INTEGER,
    tentative  INTEGER NOT NULL DEFAULT 0 -- STATUS:TENTATIVE (a hold); see _COLUMNS
);
CREATE INDEX IF NOT EXISTS slots_resource ON slots (kind, resource, start);
CREATE INDEX IF NOT EXISTS slots_item ON slots (collection, href);
-- Names given to key persons in labelled DESCRIPTION lines ("Narasumber: ...")
-- that matched no registered person (kalender person unknown). A table of its
-- own, so a database from before it needs no ALTER: its items show after a reindex.
CREATE TABLE IF NOT EXISTS unknown_persons (
    collection TEXT NOT NULL,
    href       TEXT NOT NULL,
    name       TEXT NOT NULL,
    PRIMARY KEY (collection, href, name)
);
-- Longest booking ever indexed (seconds): bounds the index range scans.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
-- Refused writes (kalender.audit.record_refusal): one row per (actor, path, uid,
-- reason), counted, so a client that retries forever or a flood makes few rows.
CREATE TABLE IF NOT EXISTS refusals (
    id       INTEGER PRIMARY KEY,
    first_ts TEXT NOT NULL,             -- UTC, ISO 8601
    last_ts  TEXT NOT NULL,
    count    INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    path     TEXT NOT NULL,             -- collection path, e.g. /opd/dinkes/
    opd      TEXT,
    uid      TEXT NOT NULL,             -- '' when unreadable, '*' for a flood's overflow
    title    TEXT NOT NULL,             -- the refused event's own title ('' if unknown)
    reason   TEXT NOT NULL,             -- the answer's reason phrase, e.g. Jadwal Bentrok
    message  TEXT NOT NULL,             -- the sentence the client was given
    UNIQUE (actor, path, uid, reason)
);
CREATE INDEX IF NOT EXISTS refusals_ts ON refusals (last_ts);
-- The notice board (kalender.notify.board): the Bentrok calendar entries that
-- should exist, one per (OPD, UID); the notifier makes the calendars match.
CREATE TABLE IF NOT EXISTS notices (
    opd      TEXT NOT NULL,
    uid      TEXT NOT NULL,
    kind     TEXT NOT NULL,             -- ditolak | periksa-lokasi
    opd_name TEXT NOT NULL,
    title    TEXT NOT NULL,
    start    INTEGER,                   -- the event's (first clashing) occurrence, epoch
    "end"    INTEGER,
    location TEXT NOT NULL,
    reason   TEXT NOT NULL,
    message  TEXT NOT NULL,
    actor    TEXT NOT NULL,
    at       INTEGER NOT NULL,          -- when it was tried or stored
    state    TEXT NOT NULL,             -- write | shown | remove | gone (a tombstone)
    version  INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0, -- when an accepted write settled the UID
    PRIMARY KEY (opd, uid)
);
-- The mail queue (kalender.notify.outbox).
CREATE TABLE IF NOT EXISTS outbox (
    id       INTEGER PRIMARY KEY,
    key      TEXT NOT NULL,             -- one message per key and address per 24 hours
    address  TEXT NOT NULL,
    subject  TEXT NOT NULL,
    body     TEXT NOT NULL,             -- plain text; the HTML part is made when sending
    created  INTEGER NOT NULL,          -- epoch
    attempts INTEGER NOT NULL,
    next_try INTEGER NOT NULL,
    sent     INTEGER,
    error    TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sent, next_try);
CREATE INDEX IF NOT EXISTS outbox_key ON outbox (key, address, created);
-- Writes in flight: a row is committed before the file is written and removed
-- with the index update, so a crash in between is repaired from storage.
CREATE TABLE IF NOT EXISTS pending (
    collection TEXT NOT NULL,
    href       TEXT NOT NULL,
    PRIMARY KEY (collection, href)
);
-- Calendar properties one user set for themselves (kalender.dav.props): name,
-- description, colour, order, default alarms; others keep the shared values.
CREATE TABLE IF NOT EXISTS user_props (
    login      TEXT NOT NULL,
    collection TEXT NOT NULL,           -- e.g. opd/dinkes, or the user's home
    name       TEXT NOT NULL,           -- Radicale's short name, e.g. ICAL:calendar-color
    value      TEXT,                    -- NULL: removed for this user
    PRIMARY KEY (login, collection, name)
);
-- Private subscription links (kalender.feedtokens): one per (login, calendar). Only
-- the token's SHA-256 is kept, and the nonce it is derived from under DIR/langganan.key.
CREATE TABLE IF NOT EXISTS feed_tokens (
    digest   TEXT PRIMARY KEY,          -- sha256 hex of the token
    login    TEXT NOT NULL,
    calendar TEXT NOT NULL,             -- e.g. pimpinan/agenda, ruang/ruang-joyoboyo, opd/dinkes
    nonce    TEXT NOT NULL,             -- random, hex
    created  TEXT NOT NULL,             -- UTC, ISO 8601
    UNIQUE (login, calendar)
);
-- Browser sessions of the web workspace (kalender.web.workspace.session). Only the
-- SHA-256 of the cookie's token is kept: a copy of this file signs nobody in.
CREATE TABLE IF NOT EXISTS web_sessions (
    digest   TEXT PRIMARY KEY,          -- sha256 hex of the cookie's token
    login    TEXT NOT NULL,
    created  INTEGER NOT NULL,          -- epoch seconds: the absolute expiry counts from here
    seen     INTEGER NOT NULL,          -- last request (within a minute): the idle expiry
    password TEXT NOT NULL              -- fingerprint of the password hash at sign-in
);
CREATE INDEX IF NOT EXISTS web_sessions_login ON web_sessions (login);
-- Approval by the protocol office (kalender.pemda.approvals): kept beside the PIC's
-- data, never written into it. One row per (OPD, UID): the last decision, for the
-- fingerprint of time and place it was made on; every decision in the history.
CREATE TABLE IF NOT EXISTS approval_settings (
    key   TEXT PRIMARY KEY,             -- enabled | version | switched
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS approvals (
    opd         TEXT NOT NULL,
    uid         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,          -- kalender.pemda.approval.fingerprint when decided
    decision    TEXT NOT NULL,          -- definitif | ditolak
    reason      TEXT NOT NULL,          -- of a rejection ('' for an approval)
    actor       TEXT NOT NULL,
    at          INTEGER NOT NULL,       -- epoch
    version     INTEGER NOT NULL,       -- approval_settings.version after it (the sync)
    asked       TEXT NOT NULL DEFAULT '', -- fingerprint whose "asks again" was recorded
    PRIMARY KEY (opd, uid)
);
CREATE INDEX IF NOT EXISTS approvals_version ON approvals (version);
CREATE TABLE IF NOT EXISTS approval_history (
    id          INTEGER PRIMARY KEY,
    opd         TEXT NOT NULL,
    uid         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    decision    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS approval_history_item ON approval_history (opd, uid);
-- The daily digest of the leaders' agenda (kalender.notify.schedule): the accounts
-- subscribed (kalender user digest LOGIN on), and one row per (day, kind, login)
-- made when a digest fell due: it is sent once, also after a restart, and a
-- failed try is retried with the outbox's pauses.
CREATE TABLE IF NOT EXISTS digest_subscribers (
    login    TEXT PRIMARY KEY,
    since    INTEGER NOT NULL           -- epoch
);
CREATE TABLE IF NOT EXISTS digest_sends (
    day      TEXT NOT NULL,             -- WIB day it fell due, YYYY-MM-DD
    kind     TEXT NOT NULL,             -- hari-ini | besok
    login    TEXT NOT NULL,
    agenda   TEXT NOT NULL,             -- the day whose agenda it carries, YYYY-MM-DD
    created  INTEGER NOT NULL,          -- epoch
    attempts INTEGER NOT NULL,
    next_try INTEGER NOT NULL,
    sent     INTEGER,                   -- epoch; -1: given up
    address  TEXT,                      -- where it went
    error    TEXT,
    PRIMARY KEY (day, kind, login)
);
CREATE INDEX IF NOT EXISTS digest_sends_due ON digest_sends (sent, next_try);
"""

_local = threading.local()
#: Columns added to a table after it first shipped: (table, column, definition).
#: ``CREATE TABLE IF NOT EXISTS`` leaves an older table as it is, so they are added
#: here, once, on the first connection (ALTER TABLE ADD COLUMN keeps every row).
_COLUMNS = (("slots", "tentative", "INTEGER NOT NULL DEFAULT 0"),)


def _add_columns(conn: sqlite3.Connection) -> None:
    """Add the columns an older database lacks (idempotent)."""
    for table, column, definition in _COLUMNS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


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
        _add_columns(conn)
        cache[key] = conn
    return conn
