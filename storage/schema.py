"""Database schema as an ordered list of migrations, tracked with PRAGMA user_version.

Migration N (counting from 1) upgrades a file from user_version N - 1 to N. Each migration runs
in one BEGIN IMMEDIATE transaction together with the user_version update, so a crash leaves the
file at the old version or the new one, never in between.

NOTE: SQLite's ALTER TABLE cannot change a column's type, CHECK constraint or default, and cannot
add AUTOINCREMENT or a PRIMARY KEY. A migration that needs one of these must create a new table,
copy the rows, drop the old table and rename the new one, inside its own transaction.
NOTE: there are no down-migrations. A file upgraded by a newer version of the bot is rejected by
an older one with SchemaVersionError, so keep a backup (VACUUM INTO) before upgrading.
"""

from __future__ import annotations

import logging

import aiosqlite

log = logging.getLogger(__name__)

_JOBS_V1 = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    user_id INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    guild_id INTEGER,
    params TEXT NOT NULL,
    requester_name TEXT NOT NULL DEFAULT '',
    application_id INTEGER,
    interaction_token TEXT,
    interaction_created_at REAL,
    attachment_size_limit INTEGER,
    app_permissions INTEGER,
    backend TEXT,
    status_channel_id INTEGER,
    status_message_id INTEGER,
    result_message_id INTEGER,
    result TEXT,
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    enqueued_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    delivered_at REAL,
    error TEXT
)
"""

_USERS_V1 = """
CREATE TABLE users (
    user_id INTEGER PRIMARY KEY,
    dm_opt_in INTEGER NOT NULL DEFAULT 0,
    dm_blocked_at REAL
)
"""

# The fair policy's virtual time: the largest sort_key of any job claimed so far. The CHECK keeps
# the table at one row.
_QUEUE_STATE_V3 = """
CREATE TABLE queue_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    virtual_time INTEGER NOT NULL DEFAULT 0
)
"""

# AUTOINCREMENT keeps ids increasing even after the newest row is deleted, because the id is the
# FIFO order. The partial indexes stay as small as the queue while the history grows, and the
# queries that should use them repeat their WHERE terms exactly.
MIGRATIONS: list[list[str]] = [
    [
        _JOBS_V1,
        "CREATE INDEX jobs_queued ON jobs (id) WHERE status = 'queued'",
        "CREATE INDEX jobs_running ON jobs (id) WHERE status = 'running'",
        "CREATE INDEX jobs_undelivered ON jobs (id)"
        " WHERE delivered_at IS NULL AND status IN ('succeeded', 'failed', 'cancelled')",
        _USERS_V1,
    ],
    [
        # A member's own waiting jobs, for "Where am I?" and /queue mine.
        "CREATE INDEX jobs_user_active ON jobs (user_id, id) WHERE status IN ('queued', 'running')",
    ],
    [
        # ADD COLUMN gives every existing row sort_key 0, so jobs queued before the upgrade keep
        # their id order and run before any job that the fair policy enqueues afterwards.
        "ALTER TABLE jobs ADD COLUMN sort_key INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE jobs ADD COLUMN delivery_note TEXT",
        "CREATE INDEX jobs_queued_fair ON jobs (sort_key, id) WHERE status = 'queued'",
        # The newest enqueue of a member for the cooldown, and their rows for forget_user().
        "CREATE INDEX jobs_user ON jobs (user_id, enqueued_at)",
        # A member's results, newest first, for latest_results_of().
        "CREATE INDEX jobs_user_results ON jobs (user_id, finished_at) WHERE status = 'succeeded'",
        _QUEUE_STATE_V3,
        "INSERT INTO queue_state (id) VALUES (1)",
    ],
    [
        # The checkpoint a job must run with, or NULL for any backend's loaded model. ADD COLUMN
        # leaves every existing job NULL, so the queue runs exactly as before the upgrade.
        "ALTER TABLE jobs ADD COLUMN model TEXT",
        # A claim limited to a backend's models reads the head of each model's queue from these,
        # one per scheduling policy, instead of walking past other models' jobs.
        "CREATE INDEX jobs_queued_model ON jobs (model, id) WHERE status = 'queued'",
        "CREATE INDEX jobs_queued_model_fair ON jobs (model, sort_key, id) WHERE status = 'queued'",
    ],
    [
        # When an admin paused the queue, or NULL while it runs, so a pause survives a restart.
        "ALTER TABLE queue_state ADD COLUMN paused_at REAL",
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)


async def read_user_version(conn: aiosqlite.Connection) -> int:
    """Return the schema version stored in the database file header."""
    rows = list(await conn.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


async def apply_migration(conn: aiosqlite.Connection, version: int) -> None:
    """Run the migration that upgrades the schema from version to version + 1.

    The caller must have started a BEGIN IMMEDIATE transaction, so the statements and the new
    user_version commit together.
    """
    for statement in MIGRATIONS[version]:
        await conn.execute(statement)
    # PRAGMA statements take no bound parameters, so the int is formatted into the text.
    await conn.execute(f"PRAGMA user_version = {version + 1:d}")
    log.info("migrated database schema from version %d to %d", version, version + 1)
