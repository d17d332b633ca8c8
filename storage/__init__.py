"""Persistent job queue for the bot, FIFO or fair across members, kept in one SQLite file."""

from __future__ import annotations

from storage.errors import (
    CooldownError,
    DatabaseLockedError,
    InvalidJobError,
    InvalidTransitionError,
    JobNotFoundError,
    QueueLimitError,
    SchemaVersionError,
    SQLiteVersionError,
    StorageError,
)
from storage.models import Job, JobStatus, NewJob, RecoveryReport, UserPrefs
from storage.scheduling import SchedulingPolicy
from storage.store import JobStore

__all__ = [
    "CooldownError",
    "DatabaseLockedError",
    "InvalidJobError",
    "InvalidTransitionError",
    "Job",
    "JobNotFoundError",
    "JobStatus",
    "JobStore",
    "NewJob",
    "QueueLimitError",
    "RecoveryReport",
    "SQLiteVersionError",
    "SchedulingPolicy",
    "SchemaVersionError",
    "StorageError",
    "UserPrefs",
]
