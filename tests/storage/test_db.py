"""Tests for storage.db: connection pragmas, schema upgrade and error translation."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import (
    DatabaseLockedError,
    JobStatus,
    JobStore,
    NewJob,
    SchemaVersionError,
    SQLiteVersionError,
    StorageError,
)
from storage.db import MIN_SQLITE_VERSION, Database, check_sqlite_version
from storage.schema import MIGRATIONS, SCHEMA_VERSION
from tests.storage.conftest import FakeClock


@pytest.fixture
async def database(db_path: Path) -> AsyncIterator[Database]:
    db = await Database.open(db_path, busy_timeout_ms=1234)
    yield db
    await db.close()


async def pragma(db: Database, name: str) -> object:
    row = await db.fetch_one(f"PRAGMA {name}")
    assert row is not None
    return row[0]


def table_columns(path: Path, table: str) -> dict[str, tuple[str, int, object]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"PRAGMA table_info({table})").fetchall()
    conn.close()
    return {row[1]: (row[2], row[3], row[4]) for row in rows}


async def test_open_sets_pragmas(database: Database) -> None:
    assert await pragma(database, "journal_mode") == "wal"
    assert await pragma(database, "synchronous") == 2
    assert await pragma(database, "busy_timeout") == 1234
    assert await pragma(database, "foreign_keys") == 1


async def test_open_sets_schema_version(database: Database) -> None:
    assert await pragma(database, "user_version") == SCHEMA_VERSION


def read_schema(path: Path) -> tuple[int, set[str]]:
    with sqlite3.connect(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    return version, names


def write_file(path: Path, content: bytes) -> bytes:
    path.write_bytes(content)
    return content


def write_newer_schema(path: Path) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY)")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    return path.read_bytes()


def read_files(path: Path) -> tuple[bytes, bool]:
    return path.read_bytes(), Path(f"{path}-wal").exists()


async def test_open_migrates_empty_file(db_path: Path) -> None:
    write_file(db_path, b"")

    db = await Database.open(db_path, busy_timeout_ms=1000)
    await db.close()

    version, tables = read_schema(db_path)
    assert version == SCHEMA_VERSION
    assert {"jobs", "users", "jobs_queued", "jobs_running", "jobs_undelivered"} <= tables


async def test_open_creates_users_table(database: Database, db_path: Path) -> None:
    columns = table_columns(db_path, "users")

    assert columns == {
        "user_id": ("INTEGER", 0, None),
        "dm_opt_in": ("INTEGER", 1, "0"),
        "dm_blocked_at": ("REAL", 0, None),
    }


async def test_open_reopens_current_schema(db_path: Path) -> None:
    first = await Database.open(db_path, busy_timeout_ms=1000)
    await first.close()

    second = await Database.open(db_path, busy_timeout_ms=1000)

    assert await pragma(second, "user_version") == SCHEMA_VERSION
    await second.close()


async def test_open_concurrent_on_new_file(tmp_path: Path) -> None:
    # The race between connections switching a new file to WAL is timing-dependent, so several
    # fresh files are opened to make it likely to occur.
    for round_number in range(10):
        path = tmp_path / f"new-{round_number}.db"

        opened = await asyncio.gather(
            *(Database.open(path, busy_timeout_ms=5000) for _ in range(4))
        )

        for db in opened:
            assert await pragma(db, "journal_mode") == "wal"
            assert await pragma(db, "user_version") == SCHEMA_VERSION
            await db.close()


async def test_open_rejects_newer_schema(db_path: Path) -> None:
    before = write_newer_schema(db_path)

    with pytest.raises(SchemaVersionError) as raised:
        await JobStore.open(db_path)

    assert raised.value.found == SCHEMA_VERSION + 1
    assert raised.value.supported == SCHEMA_VERSION
    assert "newer version" in str(raised.value)
    after, wal_exists = read_files(db_path)
    assert after == before
    assert not wal_exists


async def test_open_rejects_non_database_file(db_path: Path) -> None:
    write_file(db_path, b"this is not an SQLite database, just text padded out " * 20)

    with pytest.raises(StorageError, match="failed"):
        await Database.open(db_path, busy_timeout_ms=1000)


async def test_open_rejects_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="cannot be opened"):
        await Database.open(tmp_path / "missing" / "jobs.db", busy_timeout_ms=1000)


async def test_open_rejects_memory_database() -> None:
    with pytest.raises(StorageError, match="WAL"):
        await Database.open(":memory:", busy_timeout_ms=1000)


async def test_open_rejects_negative_busy_timeout(db_path: Path) -> None:
    with pytest.raises(ValueError, match="busy_timeout_ms"):
        await Database.open(db_path, busy_timeout_ms=-1)


def test_check_sqlite_version_rejects_old() -> None:
    with pytest.raises(SQLiteVersionError) as raised:
        check_sqlite_version((3, 34, 1))

    assert raised.value.found == (3, 34, 1)
    assert "3.34.1" in str(raised.value)
    assert "3.35.0" in str(raised.value)


def test_check_sqlite_version_accepts_minimum() -> None:
    check_sqlite_version(MIN_SQLITE_VERSION)
    check_sqlite_version(sqlite3.sqlite_version_info)


async def test_transaction_rolls_back_on_error(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO users (user_id) VALUES (1)")
            raise RuntimeError("abort the transaction")

    assert await database.fetch_all("SELECT * FROM users") == []


async def test_transaction_commits(database: Database) -> None:
    async with database.transaction() as conn:
        await conn.execute("INSERT INTO users (user_id) VALUES (7)")

    row = await database.fetch_one("SELECT user_id, dm_opt_in, dm_blocked_at FROM users")
    assert row is not None
    assert tuple(row) == (7, 0, None)


async def test_transaction_locked_by_other_connection(db_path: Path) -> None:
    db = await Database.open(db_path, busy_timeout_ms=50)
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseLockedError) as raised:
            async with db.transaction():
                pass
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert raised.value.busy_timeout_ms == 50
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO users (user_id) VALUES (1)")
    await db.close()


async def test_fetch_after_close_raises(database: Database) -> None:
    await database.close()
    await database.close()

    with pytest.raises(StorageError, match="closed"):
        await database.fetch_all("SELECT 1")


def write_version_2_file(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        for statement in MIGRATIONS[0] + MIGRATIONS[1]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 2")
        for status in ("succeeded", "queued", "running", "queued"):
            conn.execute(
                "INSERT INTO jobs (status, user_id, channel_id, params, enqueued_at)"
                " VALUES (?, 5, 6, '{}', 1.0)",
                (status,),
            )
    conn.close()


async def test_open_migrates_version_2_file(db_path: Path) -> None:
    write_version_2_file(db_path)

    async with await JobStore.open(db_path, policy="fair") as store:
        positions = await store.positions()
        job, ahead = await store.enqueue(NewJob(7, 6, None, {"prompt": "after the upgrade"}))
        old = await store.get(1)

    version, names = read_schema(db_path)
    assert version == SCHEMA_VERSION
    assert {"queue_state", "jobs_queued_fair", "jobs_user", "jobs_user_results"} <= names
    columns = table_columns(db_path, "jobs")
    assert columns["sort_key"] == ("INTEGER", 1, "0")
    assert columns["delivery_note"] == ("TEXT", 0, None)
    with sqlite3.connect(db_path) as conn:
        sort_keys = conn.execute("SELECT id, sort_key FROM jobs ORDER BY id").fetchall()
        queue_state = conn.execute("SELECT id, virtual_time FROM queue_state").fetchall()
    conn.close()
    assert sort_keys == [(1, 0), (2, 0), (3, 0), (4, 0), (job.id, 1)]
    assert queue_state == [(1, 0)]
    assert positions == {2: 1, 4: 2}
    assert ahead == 3
    assert old is not None
    assert old.delivery_note is None


async def test_queue_state_holds_one_row(database: Database) -> None:
    with pytest.raises(StorageError, match="failed"):
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO queue_state (id) VALUES (2)")

    rows = await database.fetch_all("SELECT id FROM queue_state")
    assert [tuple(row) for row in rows] == [(1,)]


def write_version_3_file(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        for statement in MIGRATIONS[0] + MIGRATIONS[1] + MIGRATIONS[2]:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 3")
        for status in ("succeeded", "queued", "running", "queued"):
            conn.execute(
                "INSERT INTO jobs (status, user_id, channel_id, params, enqueued_at)"
                ' VALUES (?, 5, 6, \'{"prompt": "before"}\', 1.0)',
                (status,),
            )
    conn.close()


async def test_open_migrates_version_3_file(db_path: Path) -> None:
    write_version_3_file(db_path)

    async with await JobStore.open(db_path) as store:
        kept = [await store.get(job_id) for job_id in range(1, 5)]
        added, ahead = await store.enqueue(
            NewJob(7, 6, None, {"prompt": "after"}, model="sd_xl_base_1.0.safetensors")
        )
        first = await store.claim("gpu-xl", models=frozenset({"sd_xl_base_1.0.safetensors"}))
        second = await store.claim("gpu-xl", models=frozenset({"sd_xl_base_1.0.safetensors"}))
        third = await store.claim("gpu-xl", models=frozenset({"sd_xl_base_1.0.safetensors"}))

    version, names = read_schema(db_path)
    assert version == SCHEMA_VERSION == 5
    assert {"jobs_queued_model", "jobs_queued_model_fair"} <= names
    assert table_columns(db_path, "jobs")["model"] == ("TEXT", 0, None)
    assert [job.status for job in kept if job is not None] == [
        JobStatus.SUCCEEDED,
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.QUEUED,
    ]
    assert all(job is not None and job.model is None for job in kept)
    assert all(job is not None and job.params == {"prompt": "before"} for job in kept)
    assert ahead == 3
    assert [job.id if job else None for job in (first, second, third)] == [2, 4, added.id]


async def test_pause_kept_across_reopen(db_path: Path, clock: FakeClock) -> None:
    async with await JobStore.open(db_path, clock=clock) as store:
        await store.set_paused(True)
        paused_when = clock.now
        clock.now += 60
        await store.set_paused(True)

    async with await JobStore.open(db_path, clock=clock) as store:
        paused_at = await store.paused_at()
        await store.set_paused(False)
        resumed = await store.paused_at()

    assert paused_at == paused_when
    assert resumed is None
