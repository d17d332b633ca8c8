"""The SQLite connection behind the job store: pragmas, schema upgrade and turn-taking."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import aiosqlite

from storage.errors import (
    DatabaseLockedError,
    SchemaVersionError,
    SQLiteVersionError,
    StorageError,
)
from storage.schema import SCHEMA_VERSION, apply_migration, read_user_version

log = logging.getLogger(__name__)

# SQLite added UPDATE ... RETURNING, which makes a claim one atomic statement, in 3.35.0.
MIN_SQLITE_VERSION = (3, 35, 0)

_WAL_RETRY_INTERVAL_S = 0.01

Params = Sequence[Any] | Mapping[str, Any]


def check_sqlite_version(found: tuple[int, int, int] = sqlite3.sqlite_version_info) -> None:
    """Raise SQLiteVersionError if found is older than MIN_SQLITE_VERSION."""
    if found < MIN_SQLITE_VERSION:
        raise SQLiteVersionError(found, MIN_SQLITE_VERSION)


class Database:
    """One aiosqlite connection in autocommit mode that coroutines use one at a time.

    Coroutines sharing a connection would otherwise run statements inside each other's open
    transactions, so every statement, reads included, runs while holding one asyncio.Lock.
    """

    def __init__(self, conn: aiosqlite.Connection, path: str, busy_timeout_ms: int) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._closed = False
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms

    @classmethod
    async def open(cls, path: str | os.PathLike[str], *, busy_timeout_ms: int) -> Database:
        """Open the file, set its pragmas and upgrade its schema to SCHEMA_VERSION.

        Raises:
            SQLiteVersionError: the SQLite library is older than MIN_SQLITE_VERSION.
            SchemaVersionError: the file has a newer schema, which is left unchanged.
            StorageError: the file cannot be opened, is not a database, or refuses WAL mode.
        """
        check_sqlite_version()
        if busy_timeout_ms < 0:
            raise ValueError(f"busy_timeout_ms must be 0 or more, got {busy_timeout_ms}.")
        db = cls(await _connect(path, busy_timeout_ms), os.fspath(path), busy_timeout_ms)
        try:
            await db._configure()
            await db._migrate()
        except BaseException:
            await db.close()
            raise
        return db

    async def close(self) -> None:
        """Close the connection after the statement in progress; repeat calls do nothing."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await self._conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block in a BEGIN IMMEDIATE transaction that rolls back if the block raises."""
        async with self._lock:
            with self._translate_errors():
                conn = self._require_open()
                try:
                    # IMMEDIATE takes the write lock up front, because a deferred transaction
                    # that read first fails at its first write with SQLITE_BUSY without calling
                    # the busy handler.
                    await conn.execute("BEGIN IMMEDIATE")
                    yield conn
                    await conn.execute("COMMIT")
                except BaseException:
                    # Cancelling an await does not stop aiosqlite's worker thread, which runs
                    # queued calls in order. So this rollback runs after the cancelled statement,
                    # even a cancelled BEGIN. Outside a transaction, rollback() does nothing.
                    await conn.rollback()
                    raise

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block's statements each as its own transaction."""
        async with self._lock:
            with self._translate_errors():
                yield self._require_open()

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one statement and return every row it produced."""
        async with self.autocommit() as conn:
            return await fetch_all(conn, sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Run one statement and return its first row, or None if it produced none."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    def _require_open(self) -> aiosqlite.Connection:
        if self._closed:
            raise StorageError("The job store is closed; open a new one with JobStore.open().")
        return self._conn

    async def _configure(self) -> None:
        async with self.autocommit() as conn:
            await conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms:d}")
            # Checked before journal_mode, which rewrites the header of a non-WAL file.
            self._check_schema_version(await read_user_version(conn))
            journal_mode = await self._enable_wal(conn)
            if journal_mode != "wal":
                raise StorageError(
                    f"The database {self.path} cannot use WAL mode (journal_mode is "
                    f"{journal_mode}); put it in a file on a local disk."
                )
            await conn.execute("PRAGMA synchronous = FULL")
            await conn.execute("PRAGMA foreign_keys = ON")

    async def _enable_wal(self, conn: aiosqlite.Connection) -> str:
        # Switching to WAL needs an exclusive lock. With SQLite 3.40.1 the switch returned
        # SQLITE_BUSY at once, without calling the busy handler, in 15 of 400 trials where three
        # connections opened a new file together, so it is retried until busy_timeout_ms.
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        while True:
            try:
                rows = await fetch_all(conn, "PRAGMA journal_mode = WAL")
                return str(rows[0][0])
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(_WAL_RETRY_INTERVAL_S)

    async def _migrate(self) -> None:
        # The version is read inside each write transaction, so two processes opening the same
        # new file never apply one migration twice.
        while True:
            async with self.transaction() as conn:
                version = await read_user_version(conn)
                self._check_schema_version(version)
                if version == SCHEMA_VERSION:
                    return
                await apply_migration(conn, version)

    def _check_schema_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(self.path, version, SCHEMA_VERSION)

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._storage_error(exc) from exc

    def _storage_error(self, exc: sqlite3.Error) -> StorageError:
        if _is_busy(exc):
            return DatabaseLockedError(self.busy_timeout_ms)
        return StorageError(
            f"The database operation on {self.path} failed ({exc}); check that the file is a "
            "job store database on a writable local disk."
        )


async def fetch_all(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    """Run one statement on conn and return every row, which also ends the statement.

    An UPDATE ... RETURNING whose rows are not all fetched keeps holding the write lock.
    """
    return list(await conn.execute_fetchall(sql, params))


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    # The low byte is the primary result code, and extended codes such as SQLITE_BUSY_SNAPSHOT
    # add detail in the high bytes.
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


def _open_and_close(path: str) -> None:
    sqlite3.connect(path).close()


async def _connect(path: str | os.PathLike[str], busy_timeout_ms: int) -> aiosqlite.Connection:
    try:
        # After a failed connect, aiosqlite 0.22 stops its worker thread without waiting for it,
        # and the thread may then call into a closed event loop. Opening the file once with
        # sqlite3 first raises the usual failures (missing folder, no permission) before that.
        await asyncio.to_thread(_open_and_close, os.fspath(path))
        conn = await aiosqlite.connect(
            os.fspath(path), isolation_level=None, timeout=busy_timeout_ms / 1000
        )
    except sqlite3.Error as exc:
        raise StorageError(
            f"The database {os.fspath(path)} cannot be opened ({exc}); check that its folder "
            "exists and is writable."
        ) from exc
    conn.row_factory = sqlite3.Row
    return conn
