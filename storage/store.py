"""JobStore: the persistent FIFO queue of image jobs, kept in one SQLite file."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

import aiosqlite

from storage.db import Database, fetch_all
from storage.errors import InvalidTransitionError, JobNotFoundError
from storage.models import TERMINAL_STATUSES, Job, JobStatus, NewJob, RecoveryReport
from storage.queries import (
    CLAIM_SQL,
    POSITIONS_SQL,
    QUEUED_COUNT_SQL,
    RUNNING_SQL,
    TASKS_AHEAD_SQL,
    UNDELIVERED_SQL,
)
from storage.rows import INSERT_JOB_SQL, encode_json, job_from_row, new_job_values, update_job_sql

log = logging.getLogger(__name__)

Changes = Callable[[Job], Mapping[str, Any]]

_RESTART_REASON = "The bot stopped while making this image."

_QUEUED_OR_RUNNING = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})
_RUNNING = frozenset({JobStatus.RUNNING})


class JobStore:
    """Persistent FIFO of image jobs in one SQLite file, ordered by job id.

    Create one with JobStore.open(). A job moves queued -> running -> succeeded, failed or
    cancelled. max_attempts is the maximum number of times a job is started, so the run that is
    interrupted for the max_attempts-th time fails the job instead of requeueing it.
    """

    def __init__(self, db: Database, *, max_attempts: int, clock: Callable[[], float]) -> None:
        self._db = db
        self._max_attempts = max_attempts
        self._clock = clock

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        busy_timeout_ms: int = 5000,
        max_attempts: int = 3,
        clock: Callable[[], float] = time.time,
    ) -> JobStore:
        """Open or create the job store at path and upgrade its schema.

        Raises:
            SQLiteVersionError: the SQLite library cannot run UPDATE ... RETURNING.
            SchemaVersionError: the file was written by a newer version and is left unchanged.
            StorageError: the file cannot be opened as a WAL-mode SQLite database.
        """
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be 1 or more, got {max_attempts}.")
        db = await Database.open(path, busy_timeout_ms=busy_timeout_ms)
        log.info("opened job store %s", db.path)
        return cls(db, max_attempts=max_attempts, clock=clock)

    async def close(self) -> None:
        """Close the database connection, after which calls on this store raise StorageError."""
        await self._db.close()

    async def __aenter__(self) -> JobStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def enqueue(self, job: NewJob) -> tuple[Job, int]:
        """Add job at the tail of the queue and return it with the number of tasks ahead of it.

        Raises:
            InvalidJobError: job.params cannot be stored as JSON.
        """
        values = new_job_values(job, enqueued_at=self._clock())
        async with self._db.transaction() as conn:
            rows = await fetch_all(conn, INSERT_JOB_SQL, values)
            ahead = await _tasks_ahead(conn, rows[0]["id"])
        # The row was inserted as queued in this transaction, so its count exists.
        assert ahead is not None
        stored = job_from_row(rows[0])
        log.debug("enqueued job %d for user %d, %d tasks ahead", stored.id, stored.user_id, ahead)
        return stored, ahead

    async def claim(self, backend: str) -> Job | None:
        """Mark the oldest queued job as running on backend and return it, or None if none wait.

        NOTE: cancelling the caller does not stop the UPDATE, which runs in aiosqlite's thread.
        A claim cancelled mid-flight can leave a running job that no worker runs until
        recover() requeues it at the next start.
        """
        row = await self._db.fetch_one(CLAIM_SQL, {"backend": backend, "now": self._clock()})
        if row is None:
            return None
        log.debug("job %d claimed by backend %s", row["id"], backend)
        return job_from_row(row)

    async def release(self, job_id: int) -> Job:
        """Put a running job back at its place in the queue without counting an attempt.

        Use it when the backend could not be reached, so the job never ran.
        """
        changes = {"status": JobStatus.QUEUED, "backend": None, "started_at": None}
        return await self._transition(job_id, "released", _RUNNING, lambda job: changes)

    async def requeue_interrupted(self, job_id: int, reason: str) -> Job:
        """Put an interrupted running job back at its place in the queue, counting one attempt.

        reason is a sentence or clause a user can read. It is stored as the job's error, and if
        this was the last allowed attempt the job becomes failed with an error that includes it.
        """
        job = await self._transition(
            job_id, "requeued", _RUNNING, lambda job: self._interruption_changes(job, reason)
        )
        _log_if_given_up(job)
        return job

    async def succeed(self, job_id: int, result: Mapping[str, Any]) -> Job:
        """Mark a running job as succeeded and store result as JSON.

        Raises:
            InvalidTransitionError: the job is not running, e.g. it was cancelled meanwhile.
            InvalidJobError: result cannot be stored as JSON.
        """
        encoded = encode_json(result, "result")
        return await self._transition(
            job_id,
            "marked succeeded",
            _RUNNING,
            lambda job: {
                "status": JobStatus.SUCCEEDED,
                "result": encoded,
                "finished_at": self._clock(),
                "error": None,
            },
        )

    async def fail(self, job_id: int, error: str) -> Job:
        """Mark a queued or running job as failed with error, a sentence a user can read."""
        return await self._transition(
            job_id,
            "marked failed",
            _QUEUED_OR_RUNNING,
            lambda job: {"status": JobStatus.FAILED, "error": error, "finished_at": self._clock()},
        )

    async def cancel(self, job_id: int) -> Job | None:
        """Mark a queued or running job as cancelled, or return None if it had already finished.

        A worker running the job learns of the cancellation when succeed() raises
        InvalidTransitionError.
        """
        async with self._db.transaction() as conn:
            job = await _load(conn, job_id)
            if job.status.is_terminal:
                return None
            changes = {"status": JobStatus.CANCELLED, "finished_at": self._clock()}
            cancelled = await _update(conn, job_id, changes)
        log.debug("job %d cancelled while %s", job_id, job.status)
        return cancelled

    async def mark_delivered(self, job_id: int, result_message_id: int | None = None) -> Job:
        """Record that the outcome of a finished job was delivered to the requester.

        Repeat calls keep the first delivered_at, so a retried delivery does not move it.
        """

        def changes(job: Job) -> dict[str, Any]:
            delivered_at = self._clock() if job.delivered_at is None else job.delivered_at
            message_id = job.result_message_id if result_message_id is None else result_message_id
            return {"delivered_at": delivered_at, "result_message_id": message_id}

        return await self._transition(job_id, "marked delivered", TERMINAL_STATUSES, changes)

    async def set_status_message(self, job_id: int, channel_id: int, message_id: int) -> None:
        """Store the message that shows the job's progress, so it can be edited after a restart."""
        row = await self._db.fetch_one(
            "UPDATE jobs SET status_channel_id = ?, status_message_id = ?"
            " WHERE id = ? RETURNING id",
            (channel_id, message_id, job_id),
        )
        if row is None:
            raise JobNotFoundError(job_id)

    async def get(self, job_id: int) -> Job | None:
        """Return the job with job_id, or None if there is none."""
        row = await self._db.fetch_one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return None if row is None else job_from_row(row)

    async def tasks_ahead(self, job_id: int) -> int | None:
        """Return the jobs running or queued before a queued job, 0 if it runs, else None."""
        async with self._db.autocommit() as conn:
            return await _tasks_ahead(conn, job_id)

    async def positions(self) -> dict[int, int]:
        """Return the tasks ahead of every queued job, keyed by job id, from one query."""
        rows = await self._db.fetch_all(POSITIONS_SQL)
        return {row["id"]: row["ahead"] for row in rows}

    async def running(self) -> list[Job]:
        """Return the running jobs, oldest first."""
        return await self._fetch_jobs(RUNNING_SQL)

    async def queued_count(self) -> int:
        """Return the number of queued jobs."""
        rows = await self._db.fetch_all(QUEUED_COUNT_SQL)
        return int(rows[0][0])

    async def undelivered(self) -> list[Job]:
        """Return finished jobs whose outcome was not delivered to the requester, oldest first."""
        return await self._fetch_jobs(UNDELIVERED_SQL)

    async def recover(self) -> RecoveryReport:
        """Requeue at the head, or fail past max_attempts, every job a previous run left running.

        Call it once at start-up before any worker claims a job, because it treats every running
        job as interrupted, including jobs that another process on the same file is running.
        """
        async with self._db.transaction() as conn:
            rows = await fetch_all(conn, RUNNING_SQL)
            updated = []
            for row in rows:
                changes = self._interruption_changes(job_from_row(row), _RESTART_REASON)
                updated.append(await _update(conn, row["id"], changes))
        report = RecoveryReport(
            requeued=[job.id for job in updated if job.status is JobStatus.QUEUED],
            failed=[job for job in updated if job.status is JobStatus.FAILED],
        )
        for job in report.failed:
            _log_if_given_up(job)
        if updated:
            log.debug(
                "recovered interrupted jobs: requeued %s, failed %s",
                report.requeued,
                [job.id for job in report.failed],
            )
        return report

    async def list_jobs(
        self, statuses: Iterable[JobStatus] | None = None, *, limit: int = 50, offset: int = 0
    ) -> list[Job]:
        """Return a page of jobs with the given statuses, running jobs first, then by id."""
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must be 0 or more, got {limit} and {offset}.")
        where, params = "", []
        if statuses is not None:
            params = sorted({JobStatus(status).value for status in statuses})
            if not params:
                return []
            where = f"WHERE status IN ({', '.join('?' * len(params))})"
        sql = f"SELECT * FROM jobs {where} ORDER BY status <> 'running', id LIMIT ? OFFSET ?"
        return await self._fetch_jobs(sql, (*params, limit, offset))

    async def active_jobs_of(self, user_id: int, *, limit: int = 50) -> list[Job]:
        """Return a member's queued and running jobs, running first, then by id."""
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}.")
        sql = (
            "SELECT * FROM jobs WHERE user_id = ? AND status IN ('queued', 'running')"
            " ORDER BY status <> 'running', id LIMIT ?"
        )
        return await self._fetch_jobs(sql, (user_id, limit))

    async def counts(self) -> dict[JobStatus, int]:
        """Return the number of jobs in each status, including statuses with none."""
        rows = await self._db.fetch_all("SELECT status, COUNT(*) FROM jobs GROUP BY status")
        counts = dict.fromkeys(JobStatus, 0)
        counts.update({JobStatus(row[0]): row[1] for row in rows})
        return counts

    async def _fetch_jobs(self, sql: str, params: tuple[Any, ...] = ()) -> list[Job]:
        return [job_from_row(row) for row in await self._db.fetch_all(sql, params)]

    async def _transition(
        self, job_id: int, change: str, allowed: frozenset[JobStatus], changes: Changes
    ) -> Job:
        async with self._db.transaction() as conn:
            job = await _load(conn, job_id)
            if job.status not in allowed:
                raise InvalidTransitionError(job_id, job.status, change, allowed)
            updated = await _update(conn, job_id, changes(job))
        log.debug("job %d %s: %s -> %s", job_id, change, job.status, updated.status)
        return updated

    def _interruption_changes(self, job: Job, reason: str) -> dict[str, Any]:
        attempts = job.attempts + 1
        if attempts < self._max_attempts:
            return {
                "status": JobStatus.QUEUED,
                "attempts": attempts,
                "backend": None,
                "started_at": None,
                "error": reason,
            }
        changes = {
            "attempts": attempts,
            "finished_at": self._clock(),
            "error": _given_up_error(attempts, reason),
        }
        return {"status": JobStatus.FAILED, **changes}


def _given_up_error(attempts: int, reason: str) -> str:
    # Callers pass either a sentence or a clause, so the reason is made into a sentence here.
    sentence = reason.strip().rstrip(".")
    sentence = sentence[:1].upper() + sentence[1:]
    return (
        f"This image was given up after {attempts} interrupted attempts. "
        f"Last interruption: {sentence}."
    )


def _log_if_given_up(job: Job) -> None:
    if job.status is JobStatus.FAILED:
        log.debug("job %d failed after %d interrupted attempts", job.id, job.attempts)


async def _load(conn: aiosqlite.Connection, job_id: int) -> Job:
    rows = await fetch_all(conn, "SELECT * FROM jobs WHERE id = ?", (job_id,))
    if not rows:
        raise JobNotFoundError(job_id)
    return job_from_row(rows[0])


async def _update(conn: aiosqlite.Connection, job_id: int, changes: Mapping[str, Any]) -> Job:
    rows = await fetch_all(conn, update_job_sql(changes), {**changes, "id": job_id})
    return job_from_row(rows[0])


async def _tasks_ahead(conn: aiosqlite.Connection, job_id: int) -> int | None:
    rows = await fetch_all(conn, TASKS_AHEAD_SQL, {"id": job_id})
    if not rows:
        return None
    status = rows[0]["status"]
    if status == JobStatus.RUNNING:
        return 0
    if status != JobStatus.QUEUED:
        return None
    return int(rows[0]["running"] + rows[0]["queued_before"])
