"""Per-user enqueue limits: a maximum of queued and running jobs, and a cooldown between jobs.

Both are read from the jobs table inside the enqueue transaction, with no separate counters, so
concurrent enqueues, even from other processes on the same file, cannot exceed them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import aiosqlite

from storage.db import fetch_all
from storage.errors import CooldownError, QueueLimitError
from storage.queries import USER_ACTIVE_COUNT_SQL, USER_LAST_ENQUEUED_AT_SQL


@dataclass(frozen=True, slots=True)
class UserLimits:
    """Limits on one enqueue: max_active is None for no cap, cooldown_s is 0 for no cooldown."""

    max_active: int | None = None
    cooldown_s: float = 0.0

    def __post_init__(self) -> None:
        if self.max_active is not None and self.max_active < 1:
            raise ValueError(
                f"max_queued_per_user must be 1 or more, or None for no limit, got "
                f"{self.max_active}."
            )
        if not (math.isfinite(self.cooldown_s) and self.cooldown_s >= 0):
            raise ValueError(
                f"cooldown_s must be a finite number of seconds, 0 or more, got {self.cooldown_s}."
            )


async def check_user_limits(
    conn: aiosqlite.Connection, user_id: int, limits: UserLimits, now: float
) -> None:
    """Raise QueueLimitError or CooldownError if user_id may not enqueue a job at now.

    The caller must hold a write transaction, so no other enqueue commits between this check and
    the caller's insert.
    """
    if limits.max_active is not None:
        active = await _fetch_value(conn, USER_ACTIVE_COUNT_SQL, user_id)
        if active >= limits.max_active:
            raise QueueLimitError(user_id, limits.max_active, active)
    if limits.cooldown_s > 0:
        last_enqueued_at = await _fetch_value(conn, USER_LAST_ENQUEUED_AT_SQL, user_id)
        # A clock that stepped back makes now - last_enqueued_at negative, which also counts as
        # too soon.
        if last_enqueued_at is not None and now - last_enqueued_at < limits.cooldown_s:
            raise CooldownError(user_id, last_enqueued_at + limits.cooldown_s)


async def _fetch_value(conn: aiosqlite.Connection, sql: str, user_id: int) -> Any:
    rows = await fetch_all(conn, sql, {"user_id": user_id})
    return rows[0][0]
