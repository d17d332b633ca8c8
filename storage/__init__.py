"""Persistent FIFO job queue for the bot, kept in one SQLite file through aiosqlite."""

from __future__ import annotations

from storage.errors import (
    DatabaseLockedError,
    InvalidJobError,
    InvalidTransitionError,
    JobNotFoundError,
    SchemaVersionError,
    SQLiteVersionError,
    StorageError,
)
from storage.models import Job, JobStatus, NewJob, RecoveryReport
from storage.store import JobStore

__all__ = [
    "DatabaseLockedError",
    "InvalidJobError",
    "InvalidTransitionError",
    "Job",
    "JobNotFoundError",
    "JobStatus",
    "JobStore",
    "NewJob",
    "RecoveryReport",
    "SQLiteVersionError",
    "SchemaVersionError",
    "StorageError",
]
