"""JobStore: the persistent queue of image jobs, kept in one SQLite file."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import aiosqlite

from storage.claims import JobClaimsMixin
from storage.db import Database, fetch_all
from storage.errors import InvalidTransitionError, JobNotFoundError
from storage.limits import UserLimits, check_user_limits
from storage.models import TERMINAL_STATUSES, Job, JobStatus, NewJob, RecoveryReport
from storage.queries import RUNNING_SQL
from storage.reads import JobReadsMixin
from storage.rows import (
    allowed_params,
    encode_json,
    job_from_row,
    new_job_values,
    update_job_sql,
)
from storage.scheduling import (
    QUEUE_ORDERS,
    SchedulingPolicy,
    next_sort_key,
)
from storage.users import UserPrefsMixin

log = logging.getLogger(__name__)

Changes = Callable[[Job], Mapping[str, Any]]

_RESTART_REASON = "The bot stopped while making this image."

# A retried job starts over, so what its failed run left behind is cleared.
_RETRY_CHANGES: dict[str, Any] = {
    "status": JobStatus.QUEUED,
    "attempts": 0,
    "error": None,
    "backend": None,
    "started_at": None,
    "finished_at": None,
    "result": None,
    "result_message_id": None,
    "delivered_at": None,
    "delivery_note": None,
}

_QUEUED_OR_RUNNING = frozenset({JobStatus.QUEUED, JobStatus.RUNNING})
_RUNNING = frozenset({JobStatus.RUNNING})
_FAILED = frozenset({JobStatus.FAILED})


class JobStore(JobClaimsMixin, JobReadsMixin, UserPrefsMixin):
    """Persistent queue of image jobs in one SQLite file, in the order of its scheduling policy.

    Create one with JobStore.open(). A job moves queued -> running -> succeeded, failed or
    cancelled. max_attempts is the maximum number of times a job is started, so the run that is
    interrupted for the max_attempts-th time fails the job instead of requeueing it. The
    read-only methods are in JobReadsMixin, claim() and fail_unservable() in JobClaimsMixin,
    and the members' direct-message preferences are stored through the methods of
    UserPrefsMixin.
    """

    def __init__(
        self,
        db: Database,
        *,
        max_attempts: int,
        clock: Callable[[], float],
        policy: SchedulingPolicy = SchedulingPolicy.FIFO,
    ) -> None:
        self._db = db
        self._max_attempts = max_attempts
        self._clock = clock
        self._policy = policy
        self._order = QUEUE_ORDERS[policy]

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        busy_timeout_ms: int = 5000,
        max_attempts: int = 3,
        clock: Callable[[], float] = time.time,
        policy: str = "fifo",
    ) -> JobStore:
        """Open or create the job store at path and upgrade its schema.

        policy is "fifo" or "fair", see storage.scheduling. Every process that opens the same
        file should use the same policy, because each one claims jobs in its own policy's order.

        Raises:
            ValueError: max_attempts is below 1 or policy is not "fifo" or "fair".
            SQLiteVersionError: the SQLite library cannot run UPDATE ... RETURNING.
            SchemaVersionError: the file was written by a newer version and is left unchanged.
            StorageError: the file cannot be opened as a WAL-mode SQLite database.
        """
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be 1 or more, got {max_attempts}.")
        scheduling_policy = SchedulingPolicy.parse(policy)
        db = await Database.open(path, busy_timeout_ms=busy_timeout_ms)
        log.info("opened job store %s with the %s policy", db.path, scheduling_policy)
        return cls(db, max_attempts=max_attempts, clock=clock, policy=scheduling_policy)

    @property
    def policy(self) -> SchedulingPolicy:
        """The order in which this store claims queued jobs."""
        return self._policy

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

    async def enqueue(
        self,
        job: NewJob,
        *,
        max_queued_per_user: int | None = None,
        cooldown_s: float = 0.0,
    ) -> tuple[Job, int]:
        """Add job to the queue and return it with the number of tasks ahead of it.

        Under FIFO the job goes to the tail. Under FAIR it goes after the jobs of members who
        are due a turn before this member, see storage.scheduling. max_queued_per_user caps the
        member's queued and running jobs, and cooldown_s is the minimum time in seconds since
        the member's previous enqueue. Both are checked in the insert's transaction.

        Raises:
            InvalidJobError: job.params cannot be stored as JSON.
            QueueLimitError: the member already has max_queued_per_user jobs queued or running.
            CooldownError: the member's previous job was enqueued less than cooldown_s ago.
            ValueError: max_queued_per_user is below 1, or cooldown_s is negative or not finite.
        """
        limits = UserLimits(max_queued_per_user, cooldown_s)
        now = self._clock()
        values = new_job_values(job, enqueued_at=now)
        del values["sort_key"]
        values.update(max_active=limits.max_active, cooldown_s=limits.cooldown_s)
        # One statement is one commit, and so one wait for the disk per request.
        while (row := await self._db.fetch_one(self._order.enqueue_sql, values)) is None:
            # A limit stopped the insert, so raise its error. If the jobs behind the limit ended
            # meanwhile, the check passes and the insert is tried again.
            async with self._db.autocommit() as conn:
                await check_user_limits(conn, job.user_id, limits, now)
        stored = job_from_row(row)
        ahead = row["running_ahead"] + row["queued_ahead"]
        log.debug("enqueued job %d for user %d, %d tasks ahead", stored.id, stored.user_id, ahead)
        return stored, ahead

    async def release(self, job_id: int) -> Job:
        """Put a running job back at its place in the queue without counting an attempt.

        Use it when the backend could not be reached, so the job never ran.
        """
        changes = {"status": JobStatus.QUEUED, "backend": None, "started_at": None}
        return await self._change_if(job_id, "released", _RUNNING, changes)

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
        changes = {
            "status": JobStatus.SUCCEEDED,
            "result": encode_json(result, "result"),
            "finished_at": self._clock(),
            "error": None,
        }
        return await self._change_if(job_id, "marked succeeded", _RUNNING, changes)

    async def fail(self, job_id: int, error: str) -> Job:
        """Mark a queued or running job as failed with error, a sentence a user can read."""
        changes = {"status": JobStatus.FAILED, "error": error, "finished_at": self._clock()}
        return await self._change_if(job_id, "marked failed", _QUEUED_OR_RUNNING, changes)

    async def cancel(self, job_id: int) -> Job | None:
        """Mark a queued or running job as cancelled, or return None if it had already finished.

        A worker running the job learns of the cancellation when succeed() raises
        InvalidTransitionError.
        """
        changes = {"status": JobStatus.CANCELLED, "finished_at": self._clock()}
        try:
            return await self._change_if(job_id, "cancelled", _QUEUED_OR_RUNNING, changes)
        except InvalidTransitionError:
            return None

    async def mark_delivered(
        self, job_id: int, result_message_id: int | None = None, *, note: str | None = None
    ) -> Job:
        """Record that the outcome of a finished job was delivered to the requester.

        note is the message the requester received when the outcome could not be posted in the
        channel, e.g. that it was sent by direct message instead. Repeat calls keep the first
        delivered_at, and keep the stored message id and note where they pass None.
        """

        def changes(job: Job) -> dict[str, Any]:
            delivered_at = self._clock() if job.delivered_at is None else job.delivered_at
            message_id = job.result_message_id if result_message_id is None else result_message_id
            delivery_note = job.delivery_note if note is None else note
            return {
                "delivered_at": delivered_at,
                "result_message_id": message_id,
                "delivery_note": delivery_note,
            }

        return await self._transition(job_id, "marked delivered", TERMINAL_STATUSES, changes)

    async def retry(self, job_id: int) -> Job:
        """Put a failed job back in the queue with its id, as if it had never run.

        Under FIFO it returns to its id's place, usually the head. Under FAIR it gets the sort
        key of a job the member enqueued now. enqueued_at and the status message are kept.

        Raises:
            InvalidTransitionError: the job is not failed.
        """
        async with self._db.transaction() as conn:
            job = await _load(conn, job_id)
            if job.status is not JobStatus.FAILED:
                raise InvalidTransitionError(job_id, job.status, "retried", _FAILED)
            sort_key = await next_sort_key(conn, self._policy, job.user_id)
            retried = await _update(conn, job_id, {**_RETRY_CHANGES, "sort_key": sort_key})
        log.debug("job %d retried with sort key %d", job_id, sort_key)
        return retried

    async def set_status_message(self, job_id: int, channel_id: int, message_id: int) -> None:
        """Store the message that shows the job's progress, so it can be edited after a restart."""
        row = await self._db.fetch_one(
            "UPDATE jobs SET status_channel_id = ?, status_message_id = ?"
            " WHERE id = ? RETURNING id",
            (channel_id, message_id, job_id),
        )
        if row is None:
            raise JobNotFoundError(job_id)

    async def set_paused(self, paused: bool) -> None:
        """Record whether an admin has paused the queue, keeping the time of an earlier pause."""
        sql = (
            "UPDATE queue_state SET paused_at = COALESCE(paused_at, ?) WHERE id = 1"
            if paused
            else "UPDATE queue_state SET paused_at = NULL WHERE id = 1"
        )
        await self._db.fetch_all(sql, (self._clock(),) if paused else ())

    async def paused_at(self) -> float | None:
        """Return when an admin paused the queue, or None if it runs."""
        row = await self._db.fetch_one("SELECT paused_at FROM queue_state WHERE id = 1")
        return None if row is None else row["paused_at"]

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

    async def _change_if(
        self,
        job_id: int,
        change: str,
        allowed: frozenset[JobStatus],
        changes: Mapping[str, Any],
    ) -> Job:
        """Apply changes in one statement, and so one commit, if the job's status is allowed."""
        sql = update_job_sql(changes, allowed=allowed)
        row = await self._db.fetch_one(sql, {**changes, **allowed_params(allowed), "id": job_id})
        if row is None:
            # Only the refusal needs to know why: the job is missing or in another state.
            current = await self.get(job_id)
            if current is None:
                raise JobNotFoundError(job_id)
            raise InvalidTransitionError(job_id, current.status, change, allowed)
        log.debug("job %d %s", job_id, change)
        return job_from_row(row)

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
    return f"This image was given up after {_attempts(attempts)}. Last interruption: {sentence}."


def _attempts(count: int) -> str:
    return f"{count} interrupted attempt" if count == 1 else f"{count} interrupted attempts"


def _log_if_given_up(job: Job) -> None:
    if job.status is JobStatus.FAILED:
        log.debug("job %d failed after %s", job.id, _attempts(job.attempts))


async def _load(conn: aiosqlite.Connection, job_id: int) -> Job:
    rows = await fetch_all(conn, "SELECT * FROM jobs WHERE id = ?", (job_id,))
    if not rows:
        raise JobNotFoundError(job_id)
    return job_from_row(rows[0])


async def _update(conn: aiosqlite.Connection, job_id: int, changes: Mapping[str, Any]) -> Job:
    rows = await fetch_all(conn, update_job_sql(changes), {**changes, "id": job_id})
    return job_from_row(rows[0])
