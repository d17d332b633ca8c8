"""The JobStore methods that hand queued jobs to backends, limited to the models they have.

A job may name the checkpoint it must run with. A backend claims only jobs that name no model or
one of its own models, and skips the others in place. So a job for one model never blocks jobs
for other models, and it keeps its turn for a backend that has its model.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from storage.db import Database, Params, fetch_all
from storage.models import Job
from storage.queries import claim_for_models_sql, fail_outside_models_sql
from storage.rows import job_from_row
from storage.scheduling import QueueOrder, SchedulingPolicy, advance_virtual_time

log = logging.getLogger(__name__)

# SQLite's printf() puts the job's model in place of %s.
_UNSERVABLE_ERROR = (
    "No image server has the model %s any more, so this job cannot run. "
    "Queue it again with another model."
)


class JobClaimsMixin:
    """The JobStore methods that claim queued jobs and fail those that no backend can run.

    JobStore sets _db, _clock, _policy, and _order to the statements of its scheduling policy.
    """

    _db: Database
    _clock: Callable[[], float]
    _policy: SchedulingPolicy
    _order: QueueOrder

    async def claim(self, backend: str, *, models: frozenset[str] | None = None) -> Job | None:
        """Mark the first queued job as running on backend and return it, or None if none wait.

        The first job is the one with 0 tasks ahead in positions(), so under FIFO the oldest.
        models limits the claim to jobs that name no model or one of these checkpoint names.
        None claims any job, and an empty set only the jobs that name no model. Either way the
        claim is one statement that reads one index entry per model.

        NOTE: cancelling the caller does not stop the UPDATE, which runs in aiosqlite's thread.
        A claim cancelled mid-flight can leave a running job that no worker runs until
        recover() requeues it at the next start.
        """
        params: dict[str, Any] = {"backend": backend, "now": self._clock()}
        sql = self._order.claim_sql
        if models is not None:
            names = sorted(models)
            sql = claim_for_models_sql(self._order.order_by, len(names))
            params.update(_model_params(names))
        if self._policy is SchedulingPolicy.FIFO:
            row = await self._db.fetch_one(sql, params)
        else:
            row = await self._claim_and_advance(sql, params)
        if row is None:
            return None
        log.debug("job %d claimed by backend %s", row["id"], backend)
        return job_from_row(row)

    async def fail_unservable(self, models: frozenset[str]) -> list[Job]:
        """Mark failed every queued job that names a model not in models, and return those jobs.

        Pass the checkpoint names that the backends offer, so that jobs for a model removed
        from every backend end with a reason instead of waiting forever. Jobs that name no
        model are kept.
        """
        names = sorted(models)
        params: dict[str, Any] = {"now": self._clock(), "error": _UNSERVABLE_ERROR}
        params.update(_model_params(names))
        rows = await self._db.fetch_all(fail_outside_models_sql(len(names)), params)
        failed = sorted((job_from_row(row) for row in rows), key=lambda job: job.id)
        if failed:
            log.info("failed jobs %s, whose model no backend has", [job.id for job in failed])
        return failed

    async def _claim_and_advance(self, sql: str, params: Params) -> sqlite3.Row | None:
        async with self._db.transaction() as conn:
            rows = await fetch_all(conn, sql, params)
            if rows:
                await advance_virtual_time(conn, rows[0]["sort_key"])
        return rows[0] if rows else None


def _model_params(names: list[str]) -> dict[str, str]:
    return {f"model_{index}": name for index, name in enumerate(names)}
