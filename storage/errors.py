"""Errors raised by the storage package.

StorageError
├── CooldownError             the member enqueued a job less than the cooldown ago
├── DatabaseLockedError       another connection held the write lock past busy_timeout
├── InvalidJobError           a job's params or result cannot be stored as JSON
├── InvalidTransitionError    the job's current status does not allow the requested change
├── JobNotFoundError          no job has the given id
├── QueueLimitError           the member already has the maximum number of queued or running jobs
├── SchemaVersionError        the file was written by a newer version of this code
└── SQLiteVersionError        the SQLite library is too old for UPDATE ... RETURNING
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from storage.models import JobStatus


class StorageError(Exception):
    """Base class for every error raised by the storage package."""


class JobNotFoundError(StorageError, LookupError):
    """No job with the given id exists in the job store."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(f"Job {job_id} was not found in the job store; check the job id.")


class InvalidTransitionError(StorageError):
    """The job's current status does not allow the requested change."""

    def __init__(
        self, job_id: int, status: JobStatus, change: str, allowed: Iterable[JobStatus]
    ) -> None:
        self.job_id = job_id
        self.status = status
        self.change = change
        self.allowed = frozenset(allowed)
        names = sorted(self.allowed)
        expected = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        super().__init__(
            f"Job {job_id} cannot be {change} because its status is {status}; "
            f"only a job that is {expected} can be {change}."
        )


class QueueLimitError(StorageError):
    """The member already has as many queued or running jobs as the per-user limit allows."""

    def __init__(self, user_id: int, limit: int, active: int) -> None:
        self.user_id = user_id
        self.limit = limit
        self.active = active
        super().__init__(
            f"User {user_id} already has {active} jobs waiting or running; the limit is {limit}."
        )


class CooldownError(StorageError):
    """The member enqueued a job less than the cooldown ago.

    retry_at is the unix time, on the job store's clock, from which the member may enqueue again.
    """

    def __init__(self, user_id: int, retry_at: float) -> None:
        self.user_id = user_id
        self.retry_at = retry_at
        super().__init__(
            f"User {user_id} enqueued a job too recently, so wait until unix time {retry_at:.3f} "
            "before enqueueing another."
        )


class InvalidJobError(StorageError, ValueError):
    """A job field that is stored as JSON contains a value JSON cannot represent."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(
            f"The job's {field} cannot be stored as JSON ({reason}); use only dicts, lists, "
            "strings, finite numbers, booleans and None."
        )


class DatabaseLockedError(StorageError):
    """Another connection held the database write lock for longer than busy_timeout_ms."""

    def __init__(self, busy_timeout_ms: int) -> None:
        self.busy_timeout_ms = busy_timeout_ms
        super().__init__(
            f"The database stayed locked by another connection for more than {busy_timeout_ms} "
            "ms; stop the other process that writes to it or raise busy_timeout_ms."
        )


class SchemaVersionError(StorageError):
    """The database file has a schema version newer than this code supports."""

    def __init__(self, path: str | os.PathLike[str], found: int, supported: int) -> None:
        self.path = os.fspath(path)
        self.found = found
        self.supported = supported
        super().__init__(
            f"The database {self.path} has schema version {found}, but this code supports at most "
            f"version {supported}; run a newer version of the bot or use another database file."
        )


class SQLiteVersionError(StorageError):
    """The SQLite library linked into Python is older than the storage package requires."""

    def __init__(self, found: tuple[int, ...], required: tuple[int, ...]) -> None:
        self.found = found
        self.required = required
        found_text = ".".join(map(str, found))
        required_text = ".".join(map(str, required))
        super().__init__(
            f"SQLite {found_text} is too old because the job store needs UPDATE ... RETURNING "
            f"from SQLite {required_text}; use a Python build linked against a newer SQLite."
        )
