"""Tests for queue positions and concurrent use of JobStore on a real SQLite file."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from storage import JobStatus, JobStore, NewJob, queries
from storage.scheduling import QUEUE_ORDERS, SchedulingPolicy

MakeJob = Callable[..., NewJob]


def query_plan(path: Path, sql: str, params: dict[str, object]) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    finally:
        conn.close()


def assert_no_table_scan(plan: list[str]) -> None:
    # A full scan reads "SCAN jobs"; an index walk reads "SCAN jobs USING ... INDEX".
    full_scans = [step for step in plan if step.startswith("SCAN jobs") and "INDEX" not in step]
    assert full_scans == [], plan


async def test_enqueue_concurrent_gets_distinct_positions(
    store: JobStore, make_job: MakeJob
) -> None:
    results = await asyncio.gather(*(store.enqueue(make_job(user_id=i)) for i in range(30)))

    by_id = sorted((job.id, ahead) for job, ahead in results)
    assert [ahead for _, ahead in by_id] == list(range(30))
    assert await store.positions() == dict(by_id)


async def test_positions_match_tasks_ahead(store: JobStore, make_job: MakeJob) -> None:
    jobs = [(await store.enqueue(make_job()))[0] for _ in range(12)]
    await store.claim("gpu-a")
    await store.claim("gpu-b")
    await store.cancel(jobs[4].id)
    await store.fail(jobs[7].id, "The prompt was rejected.")
    await store.claim("gpu-a")
    await store.succeed(jobs[2].id, {})

    positions = await store.positions()

    queued = [job.id for job in await store.list_jobs([JobStatus.QUEUED], limit=100)]
    assert sorted(positions) == queued
    for job_id, ahead in positions.items():
        assert await store.tasks_ahead(job_id) == ahead, job_id
    assert positions[queued[0]] == 2
    assert list(positions.values()) == list(range(2, 2 + len(queued)))


async def test_tasks_ahead_by_status(store: JobStore, make_job: MakeJob) -> None:
    running, queued, cancelled = [(await store.enqueue(make_job()))[0] for _ in range(3)]
    await store.claim("gpu-a")
    await store.cancel(cancelled.id)

    assert await store.tasks_ahead(running.id) == 0
    assert await store.tasks_ahead(queued.id) == 1
    assert await store.tasks_ahead(cancelled.id) is None
    assert await store.tasks_ahead(10_000) is None


async def test_positions_empty_queue(store: JobStore) -> None:
    assert await store.positions() == {}


async def test_cancel_moves_later_jobs_up(store: JobStore, make_job: MakeJob) -> None:
    jobs = [(await store.enqueue(make_job()))[0] for _ in range(5)]
    await store.claim("gpu-a")
    before = await store.positions()

    await store.cancel(jobs[2].id)

    after = await store.positions()
    assert jobs[2].id not in after
    assert after[jobs[1].id] == before[jobs[1].id]
    assert after[jobs[3].id] == before[jobs[3].id] - 1
    assert after[jobs[4].id] == before[jobs[4].id] - 1


async def test_tasks_ahead_uses_indexes(store: JobStore, db_path: Path, make_job: MakeJob) -> None:
    for _ in range(3):
        await store.enqueue(make_job())

    plan = query_plan(db_path, queries.TASKS_AHEAD_SQL, {"id": 2})

    assert_no_table_scan(plan)
    assert any("USING INDEX jobs_queued (id<?)" in step for step in plan), plan
    assert any("USING INDEX jobs_running" in step for step in plan), plan


async def test_queue_queries_use_indexes(store: JobStore, db_path: Path) -> None:
    statements = {name: sql for name, sql in vars(queries).items() if name.endswith("_SQL")}
    params = {"id": 2, "backend": "gpu-a", "now": 0.0, "user_id": 7, "limit": 5}

    for name, sql in statements.items():
        plan = query_plan(db_path, sql, params)
        assert_no_table_scan(plan)
        # A covering index reads "USING COVERING INDEX", so only the index name is matched.
        assert any("INDEX jobs_" in step for step in plan), (name, plan)
    assert len(statements) == 19


@pytest.mark.parametrize("policy", list(SchedulingPolicy))
async def test_enqueue_statement_uses_indexes(
    store: JobStore, db_path: Path, policy: SchedulingPolicy
) -> None:
    sql = QUEUE_ORDERS[policy].enqueue_sql
    params = {name: None for name in re.findall(r":(\w+)", sql)}
    params.update(user_id=7, enqueued_at=10.0, max_active=5, cooldown_s=1.0)

    plan = query_plan(db_path, sql, params)

    assert_no_table_scan(plan)
    assert any("INDEX jobs_user" in step for step in plan), plan


async def test_claim_concurrent_same_store(store: JobStore, make_job: MakeJob) -> None:
    for _ in range(10):
        await store.enqueue(make_job())

    claimed = await asyncio.gather(*(store.claim(f"gpu-{i % 2}") for i in range(12)))

    ids = [job.id for job in claimed if job is not None]
    assert sorted(ids) == list(range(1, 11))
    assert claimed.count(None) == 2


async def test_claim_concurrent_two_stores(db_path: Path, make_job: MakeJob) -> None:
    first = await JobStore.open(db_path)
    second = await JobStore.open(db_path)
    try:
        await asyncio.gather(*(first.enqueue(make_job()) for _ in range(40)))

        claimed = await asyncio.gather(
            *(store.claim(f"gpu-{i}") for i in range(25) for store in (first, second))
        )
    finally:
        await first.close()
        await second.close()

    ids = [job.id for job in claimed if job is not None]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == list(range(1, 41))
    assert claimed.count(None) == 10


async def test_enqueue_cancelled_leaves_no_open_transaction(
    store: JobStore, db_path: Path, make_job: MakeJob
) -> None:
    # Cancel after a growing number of event-loop turns, so the cancellation lands before,
    # inside and after the transaction in different rounds.
    for turns in range(12):
        task = asyncio.create_task(store.enqueue(make_job()))
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    job, ahead = await store.enqueue(make_job())

    conn = sqlite3.connect(db_path, isolation_level=None, timeout=0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    assert ahead == await store.queued_count() - 1
    assert await store.positions() == {
        queued.id: index for index, queued in enumerate(await store.list_jobs(limit=100))
    }
    assert job.id == max(await store.positions())


@pytest.mark.parametrize("policy", list(SchedulingPolicy))
async def test_position_pages_match_positions(
    db_path: Path, make_job: MakeJob, policy: SchedulingPolicy
) -> None:
    async with await JobStore.open(db_path, policy=policy) as store:
        for index in range(23):
            await store.enqueue(make_job(user_id=index % 4))
        await store.claim("gpu")
        await store.cancel(9)

        pages = [page async for page in store.position_pages(5)]
        merged = {job_id: ahead for page in pages for job_id, ahead in page.items()}

        assert merged == await store.positions()
        assert [len(page) for page in pages] == [5, 5, 5, 5, 1]
        assert await store.front_positions(3) == dict(list(merged.items())[:3])


async def test_position_pages_empty_queue(store: JobStore) -> None:
    assert [page async for page in store.position_pages(5)] == []
    assert await store.front_positions(10) == {}


async def test_queue_page_follows_fair_order(fair_store: JobStore, make_job: MakeJob) -> None:
    for user in (1, 1, 1, 2, 3):
        await fair_store.enqueue(make_job(user_id=user))
    running = await fair_store.claim("gpu-a")
    positions = await fair_store.positions()

    page = await fair_store.queue_page(limit=3, offset=1)

    assert running is not None
    assert [job.id for job in await fair_store.queue_page(limit=1)] == [running.id]
    assert [positions[job.id] for job in page] == [1, 2, 3]
