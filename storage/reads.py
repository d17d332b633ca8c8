"""The JobStore methods that only read jobs: lookups, queue positions, listings and counts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import aiosqlite

from storage.db import Database, Params, fetch_all
from storage.models import Job, JobStatus
from storage.queries import (
    QUEUED_COUNT_SQL,
    RUNNING_COUNT_SQL,
    RUNNING_SQL,
    UNDELIVERED_COUNT_SQL,
    UNDELIVERED_SQL,
    USER_LATEST_RESULTS_SQL,
)
from storage.rows import job_from_row
from storage.scheduling import QueueOrder


class JobReadsMixin:
    """The JobStore methods that read jobs without changing them.

    JobStore sets _db, and sets _order to the statements of its scheduling policy.
    """

    _db: Database
    _order: QueueOrder

    async def get(self, job_id: int) -> Job | None:
        """Return the job with job_id, or None if there is none."""
        row = await self._db.fetch_one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return None if row is None else job_from_row(row)

    async def tasks_ahead(self, job_id: int) -> int | None:
        """Return the jobs running or queued before a queued job, 0 if it runs, else None."""
        async with self._db.autocommit() as conn:
            return await self._tasks_ahead(conn, job_id)

    async def positions(self) -> dict[int, int]:
        """Return the tasks ahead of every queued job, keyed by job id in claim order."""
        rows = await self._db.fetch_all(self._order.positions_sql)
        return {row["id"]: row["ahead"] for row in rows}

    async def front_positions(self, limit: int) -> dict[int, int]:
        """Return the tasks ahead of the first limit queued jobs, keyed by job id in claim order."""
        running = await self._running_count()
        rows = await self._db.fetch_all(self._order.front_sql, {"limit": limit})
        return {row["id"]: running + index for index, row in enumerate(rows)}

    async def position_pages(self, page_size: int) -> AsyncIterator[dict[int, int]]:
        """Yield the tasks ahead of every queued job, page_size jobs at a time, in claim order.

        Other statements run between pages, so on a busy queue a job may come out one place
        off. positions() counts the whole queue at once and locks the database meanwhile.
        """
        running = await self._running_count()
        rows = await self._db.fetch_all(self._order.front_sql, {"limit": page_size})
        counted = 0
        while rows:
            yield {row["id"]: running + counted + index for index, row in enumerate(rows)}
            counted += len(rows)
            if len(rows) < page_size:
                return
            params = {"id": rows[-1]["id"], "limit": page_size}
            rows = await self._db.fetch_all(self._order.page_sql, params)

    async def _running_count(self) -> int:
        rows = await self._db.fetch_all(RUNNING_COUNT_SQL)
        return int(rows[0][0])

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

    async def undelivered_count(self) -> int:
        """Return the number of finished jobs whose outcome was not delivered to the requester."""
        rows = await self._db.fetch_all(UNDELIVERED_COUNT_SQL)
        return int(rows[0][0])

    async def latest_results_of(self, user_id: int, limit: int = 5) -> list[Job]:
        """Return the member's most recently finished succeeded jobs, newest first."""
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}.")
        return await self._fetch_jobs(USER_LATEST_RESULTS_SQL, {"user_id": user_id, "limit": limit})

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

    async def queue_page(self, *, limit: int = 50, offset: int = 0) -> list[Job]:
        """Return a page of the running jobs, then the queued ones in the order they will run.

        A queued job's tasks ahead equal its index in the whole list, offset included.
        """
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must be 0 or more, got {limit} and {offset}.")
        sql = (
            "SELECT * FROM jobs WHERE status IN ('running', 'queued')"
            f" ORDER BY status <> 'running', {self._order.order_by} LIMIT ? OFFSET ?"
        )
        return await self._fetch_jobs(sql, (limit, offset))

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

    async def _fetch_jobs(self, sql: str, params: Params = ()) -> list[Job]:
        return [job_from_row(row) for row in await self._db.fetch_all(sql, params)]

    async def _tasks_ahead(self, conn: aiosqlite.Connection, job_id: int) -> int | None:
        rows = await fetch_all(conn, self._order.tasks_ahead_sql, {"id": job_id})
        if not rows:
            return None
        status = rows[0]["status"]
        if status == JobStatus.RUNNING:
            return 0
        if status != JobStatus.QUEUED:
            return None
        return int(rows[0]["running"] + rows[0]["queued_before"])
