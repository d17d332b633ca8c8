"""Members' direct-message preferences in the users table, and deleting a member's data."""

from __future__ import annotations

import logging
from collections.abc import Callable

from storage.db import Database, fetch_all
from storage.models import UserPrefs

log = logging.getLogger(__name__)

_SET_DM_OPT_IN_SQL = """
INSERT INTO users (user_id, dm_opt_in) VALUES (:user_id, :enabled)
ON CONFLICT (user_id) DO UPDATE SET dm_opt_in = excluded.dm_opt_in
"""

_MARK_DM_BLOCKED_SQL = """
INSERT INTO users (user_id, dm_blocked_at) VALUES (:user_id, :now)
ON CONFLICT (user_id) DO UPDATE SET dm_blocked_at = excluded.dm_blocked_at
"""

_FORGET_JOBS_SQL = """
DELETE FROM jobs WHERE user_id = ? AND status IN ('succeeded', 'failed', 'cancelled')
RETURNING id
"""


class UserPrefsMixin:
    """The JobStore methods that read and write the users table.

    JobStore sets _db and _clock. A member without a row has the defaults of UserPrefs.
    """

    _db: Database
    _clock: Callable[[], float]

    async def set_dm_opt_in(self, user_id: int, enabled: bool) -> None:
        """Store whether the member asked to receive direct messages from the bot."""
        await self._db.fetch_all(_SET_DM_OPT_IN_SQL, {"user_id": user_id, "enabled": enabled})

    async def user_prefs(self, user_id: int) -> UserPrefs:
        """Return the member's stored preferences, or the defaults if none are stored."""
        row = await self._db.fetch_one(
            "SELECT dm_opt_in, dm_blocked_at FROM users WHERE user_id = ?", (user_id,)
        )
        if row is None:
            return UserPrefs(user_id)
        return UserPrefs(user_id, bool(row["dm_opt_in"]), row["dm_blocked_at"])

    async def mark_dm_blocked(self, user_id: int) -> None:
        """Record that Discord rejected a direct message to the member at the current time."""
        await self._db.fetch_all(_MARK_DM_BLOCKED_SQL, {"user_id": user_id, "now": self._clock()})

    async def clear_dm_blocked(self, user_id: int) -> None:
        """Forget that direct messages to the member were rejected, e.g. after one went through."""
        await self._db.fetch_all(
            "UPDATE users SET dm_blocked_at = NULL WHERE user_id = ?", (user_id,)
        )

    async def forget_user(self, user_id: int) -> int:
        """Delete the member's preferences and finished jobs, and return the rows deleted.

        Queued and running jobs are kept, so a job in progress still finishes and is delivered.
        Call forget_user again after they finish to delete them too.
        """
        async with self._db.transaction() as conn:
            users = await fetch_all(
                conn, "DELETE FROM users WHERE user_id = ? RETURNING user_id", (user_id,)
            )
            jobs = await fetch_all(conn, _FORGET_JOBS_SQL, (user_id,))
        log.info("deleted the preferences and %d finished jobs of user %d", len(jobs), user_id)
        return len(users) + len(jobs)
