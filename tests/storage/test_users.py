"""Tests for storage.users: direct-message preferences and forgetting a member's data."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storage import JobStatus, JobStore, NewJob, UserPrefs

MakeJob = Callable[..., NewJob]


def count_rows(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


async def test_user_prefs_unknown_user_defaults(store: JobStore, db_path: Path) -> None:
    prefs = await store.user_prefs(42)

    assert prefs == UserPrefs(user_id=42, dm_opt_in=False, dm_blocked_at=None)
    assert count_rows(db_path, "users") == 0


async def test_set_dm_opt_in_upserts(store: JobStore, db_path: Path) -> None:
    await store.set_dm_opt_in(42, True)
    enabled = await store.user_prefs(42)
    await store.set_dm_opt_in(42, False)
    disabled = await store.user_prefs(42)

    assert enabled.dm_opt_in is True
    assert disabled.dm_opt_in is False
    assert count_rows(db_path, "users") == 1


async def test_mark_dm_blocked_stores_time(store: JobStore, clock: Any) -> None:
    await store.set_dm_opt_in(42, True)
    clock.now += 5

    await store.mark_dm_blocked(42)
    first = await store.user_prefs(42)
    clock.now += 5
    await store.mark_dm_blocked(42)
    second = await store.user_prefs(42)

    assert first == UserPrefs(42, dm_opt_in=True, dm_blocked_at=1_700_000_005.0)
    assert second.dm_blocked_at == 1_700_000_010.0
    assert second.dm_opt_in is True


async def test_mark_dm_blocked_unknown_user(store: JobStore) -> None:
    await store.mark_dm_blocked(7)

    assert await store.user_prefs(7) == UserPrefs(7, False, 1_700_000_000.0)


async def test_clear_dm_blocked_keeps_opt_in(store: JobStore) -> None:
    await store.set_dm_opt_in(42, True)
    await store.mark_dm_blocked(42)

    await store.clear_dm_blocked(42)
    await store.clear_dm_blocked(99)

    assert await store.user_prefs(42) == UserPrefs(42, True, None)
    assert await store.user_prefs(99) == UserPrefs(99)


async def test_set_dm_opt_in_keeps_blocked_time(store: JobStore) -> None:
    await store.mark_dm_blocked(42)

    await store.set_dm_opt_in(42, True)

    assert await store.user_prefs(42) == UserPrefs(42, True, 1_700_000_000.0)


async def test_user_prefs_survive_reopen(db_path: Path, clock: Any) -> None:
    async with await JobStore.open(db_path, clock=clock) as store:
        await store.set_dm_opt_in(42, True)
        await store.mark_dm_blocked(43)

    async with await JobStore.open(db_path, clock=clock) as store:
        opted_in = await store.user_prefs(42)
        blocked = await store.user_prefs(43)

    assert opted_in == UserPrefs(42, True, None)
    assert blocked == UserPrefs(43, False, 1_700_000_000.0)


async def test_forget_user_deletes_finished_jobs(
    store: JobStore, db_path: Path, make_job: MakeJob
) -> None:
    mine = [(await store.enqueue(make_job(user_id=42)))[0] for _ in range(5)]
    other, _ = await store.enqueue(make_job(user_id=43))
    await store.claim("gpu-a")
    await store.succeed(mine[0].id, {"seed": 1})
    await store.fail(mine[1].id, "The prompt was rejected.")
    await store.cancel(mine[2].id)
    await store.claim("gpu-a")
    await store.set_dm_opt_in(42, True)
    await store.set_dm_opt_in(43, True)

    deleted = await store.forget_user(42)

    assert deleted == 4
    remaining = {job.id: job.status for job in await store.list_jobs()}
    assert remaining == {
        mine[3].id: JobStatus.RUNNING,
        mine[4].id: JobStatus.QUEUED,
        other.id: JobStatus.QUEUED,
    }
    assert await store.user_prefs(42) == UserPrefs(42)
    assert await store.user_prefs(43) == UserPrefs(43, True, None)
    assert count_rows(db_path, "users") == 1


async def test_forget_user_unknown_returns_zero(store: JobStore, make_job: MakeJob) -> None:
    await store.enqueue(make_job(user_id=43))

    assert await store.forget_user(42) == 0
    assert await store.queued_count() == 1


async def test_forget_user_keeps_positions(store: JobStore, make_job: MakeJob) -> None:
    done, _ = await store.enqueue(make_job(user_id=42))
    await store.claim("gpu-a")
    await store.succeed(done.id, {})
    waiting, _ = await store.enqueue(make_job(user_id=43))

    await store.forget_user(42)
    new, ahead = await store.enqueue(make_job(user_id=42))

    assert new.id > waiting.id
    assert ahead == 1
