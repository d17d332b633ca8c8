"""Scheduling policies: the order in which the job store hands queued jobs to workers.

FIFO runs jobs in id order, which is enqueue order. FAIR is start-time fair queueing with static
sort keys: each job gets a sort_key when it is enqueued and jobs run in (sort_key, id) order, so
claims and positions stay range reads of one index. The virtual time is the largest sort_key ever
claimed, kept in the one-row queue_state table so that it survives restarts.

Example under FAIR at virtual time 0: member A enqueues A1, A2 and A3, then B enqueues B1 and C
enqueues C1. They get the sort keys 1, 2, 3, 1 and 1, so they run as A1, B1, C1, A2, A3.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import aiosqlite

from storage.db import fetch_all
from storage.queries import (
    CLAIM_SQL,
    FAIR_CLAIM_SQL,
    FAIR_NEXT_SORT_KEY_SQL,
    FAIR_POSITIONS_SQL,
    FAIR_QUEUED_BEFORE,
    FAIR_QUEUED_FRONT_SQL,
    FAIR_QUEUED_PAGE_SQL,
    FAIR_TASKS_AHEAD_SQL,
    POSITIONS_SQL,
    QUEUED_BEFORE,
    QUEUED_FRONT_SQL,
    QUEUED_PAGE_SQL,
    TASKS_AHEAD_SQL,
)
from storage.rows import enqueue_sql

# The virtual time never moves back. A released or interrupted job keeps its older sort_key and
# is claimed again, and if that moved the virtual time back, jobs enqueued next would get smaller
# keys than jobs that were already waiting and would run before them.
_ADVANCE_VIRTUAL_TIME_SQL = (
    "UPDATE queue_state SET virtual_time = MAX(virtual_time, :sort_key) WHERE id = 1"
)


class SchedulingPolicy(StrEnum):
    """Order in which queued jobs run: fifo by id, or fair round-robin across members."""

    FIFO = "fifo"
    FAIR = "fair"

    @classmethod
    def parse(cls, value: str) -> SchedulingPolicy:
        """Return the policy named value, raising ValueError that lists the valid names."""
        try:
            return cls(value)
        except ValueError:
            allowed = " or ".join(repr(policy.value) for policy in cls)
            raise ValueError(
                f"The scheduling policy {value!r} is invalid, so set it to {allowed}."
            ) from None


@dataclass(frozen=True, slots=True)
class QueueOrder:
    """The statements that claim and count queued jobs in one policy's order.

    order_by is the ORDER BY terms of that order, for statements built per call.
    """

    claim_sql: str
    tasks_ahead_sql: str
    positions_sql: str
    order_by: str
    enqueue_sql: str
    front_sql: str
    page_sql: str


# FIFO keeps reading the id index, so a file that was used with FAIR and is reopened with FIFO
# runs its queued jobs in id order whatever their sort keys are.
QUEUE_ORDERS = {
    SchedulingPolicy.FIFO: QueueOrder(
        CLAIM_SQL,
        TASKS_AHEAD_SQL,
        POSITIONS_SQL,
        "id",
        enqueue_sql("0", QUEUED_BEFORE),
        QUEUED_FRONT_SQL,
        QUEUED_PAGE_SQL,
    ),
    SchedulingPolicy.FAIR: QueueOrder(
        FAIR_CLAIM_SQL,
        FAIR_TASKS_AHEAD_SQL,
        FAIR_POSITIONS_SQL,
        "sort_key, id",
        enqueue_sql(f"({FAIR_NEXT_SORT_KEY_SQL.strip()})", FAIR_QUEUED_BEFORE),
        FAIR_QUEUED_FRONT_SQL,
        FAIR_QUEUED_PAGE_SQL,
    ),
}


async def next_sort_key(conn: aiosqlite.Connection, policy: SchedulingPolicy, user_id: int) -> int:
    """Return the sort_key of a job that user_id enqueues now, read in the caller's transaction."""
    if policy is SchedulingPolicy.FIFO:
        return 0
    rows = await fetch_all(conn, FAIR_NEXT_SORT_KEY_SQL, {"user_id": user_id})
    return int(rows[0][0])


async def advance_virtual_time(conn: aiosqlite.Connection, sort_key: int) -> None:
    """Raise the stored virtual time to sort_key, the key of a job that was just claimed."""
    await fetch_all(conn, _ADVANCE_VIRTUAL_TIME_SQL, {"sort_key": sort_key})
