"""Conversion between job records and rows of the jobs table."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping
from dataclasses import fields
from typing import Any

from storage.errors import InvalidJobError
from storage.models import Job, JobStatus, NewJob
from storage.queries import ENQUEUE_LIMITS, RUNNING_COUNT

# sort_key is a column but not a Job field, because only the scheduling policy reads it.
_UPDATABLE_COLUMNS = frozenset(f.name for f in fields(Job)) - {"id"} | {"sort_key"}

_NEW_JOB_COLUMNS = (
    "user_id",
    "channel_id",
    "guild_id",
    "params",
    "requester_name",
    "application_id",
    "interaction_token",
    "interaction_created_at",
    "attachment_size_limit",
    "app_permissions",
    "enqueued_at",
    "sort_key",
    "model",
)

INSERT_JOB_SQL = (
    f"INSERT INTO jobs ({', '.join(_NEW_JOB_COLUMNS)}) "
    f"VALUES ({', '.join(':' + name for name in _NEW_JOB_COLUMNS)}) RETURNING *"
)


def enqueue_sql(sort_key: str, queued_before: str) -> str:
    """Build the enqueue of one job as a single statement, and so a single commit.

    It inserts the row only if ENQUEUE_LIMITS holds, with sort_key (an SQL expression) as
    its key, and returns the row with running_ahead and queued_ahead, the counts of tasks ahead.
    """
    values = [":" + name if name != "sort_key" else sort_key for name in _NEW_JOB_COLUMNS]
    return (
        f"INSERT INTO jobs ({', '.join(_NEW_JOB_COLUMNS)})\n"
        f"SELECT {', '.join(values)}\n"
        f"WHERE {ENQUEUE_LIMITS}"
        f"RETURNING *, {RUNNING_COUNT} AS running_ahead, {queued_before} AS queued_ahead"
    )


def update_job_sql(
    changes: Mapping[str, Any], *, allowed: Collection[JobStatus] | None = None
) -> str:
    """Build an UPDATE of one job by :id that sets the columns in changes and returns the row.

    With allowed, the row changes only if its status is one of them, bound as :allowed_0 and so
    on; see allowed_params.
    """
    # Column names cannot be bound as parameters, so only known column names are let through.
    invalid = set(changes) - _UPDATABLE_COLUMNS
    if invalid:
        raise ValueError(f"Cannot update job columns {sorted(invalid)}; they are not Job fields.")
    assignments = ", ".join(f"{name} = :{name}" for name in changes)
    where = "id = :id"
    if allowed is not None:
        statuses = ", ".join(f":allowed_{index}" for index in range(len(allowed)))
        where += f" AND status IN ({statuses})"
    return f"UPDATE jobs SET {assignments} WHERE {where} RETURNING *"


def allowed_params(allowed: Collection[JobStatus]) -> dict[str, str]:
    """Return the parameters that update_job_sql binds for allowed, in a stable order."""
    return {f"allowed_{index}": status.value for index, status in enumerate(sorted(allowed))}


def encode_json(value: Mapping[str, Any], field: str) -> str:
    """Encode value as JSON text, raising InvalidJobError if JSON cannot represent it."""
    try:
        # NaN and Infinity are not valid JSON, and strict parsers reject them.
        text = json.dumps(dict(value), ensure_ascii=False, allow_nan=False)
        # A lone surrogate survives json.dumps but cannot be stored as UTF-8.
        text.encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidJobError(field, str(exc)) from exc
    return text


def new_job_values(job: NewJob, enqueued_at: float) -> dict[str, Any]:
    """Return the named parameters of INSERT_JOB_SQL for job."""
    return {
        "user_id": job.user_id,
        "channel_id": job.channel_id,
        "guild_id": job.guild_id,
        "params": encode_json(job.params, "params"),
        "requester_name": job.requester_name,
        "application_id": job.application_id,
        "interaction_token": job.interaction_token,
        "interaction_created_at": job.interaction_created_at,
        "attachment_size_limit": job.attachment_size_limit,
        "app_permissions": job.app_permissions,
        "enqueued_at": enqueued_at,
        # The FIFO policy's key, which JobStore.enqueue() replaces under the fair policy.
        "sort_key": 0,
        "model": job.model,
    }


def job_from_row(row: sqlite3.Row) -> Job:
    """Build a Job from a row of the jobs table."""
    result = row["result"]
    return Job(
        id=row["id"],
        status=JobStatus(row["status"]),
        user_id=row["user_id"],
        channel_id=row["channel_id"],
        guild_id=row["guild_id"],
        params=json.loads(row["params"]),
        requester_name=row["requester_name"],
        application_id=row["application_id"],
        interaction_token=row["interaction_token"],
        interaction_created_at=row["interaction_created_at"],
        attachment_size_limit=row["attachment_size_limit"],
        app_permissions=row["app_permissions"],
        backend=row["backend"],
        status_channel_id=row["status_channel_id"],
        status_message_id=row["status_message_id"],
        result_message_id=row["result_message_id"],
        result=None if result is None else json.loads(result),
        attempts=row["attempts"],
        enqueued_at=row["enqueued_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        delivered_at=row["delivered_at"],
        error=row["error"],
        delivery_note=row["delivery_note"],
        model=row["model"],
    )
