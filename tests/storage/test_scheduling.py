"""Tests for storage.scheduling: the FIFO and fair policies on a real SQLite file."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storage import Job, JobStore, NewJob, SchedulingPolicy, queries

MakeJob = Callable[..., NewJob]

A, B, C = 101, 202, 303


async def enqueue_as(store: JobStore, make_job: MakeJob, *users: int) -> list[Job]:
    return [(await store.enqueue(make_job(user_id=user)))[0] for user in users]


async def claim_all(store: JobStore) -> list[int]:
    claimed = []
    while (job := await store.claim("gpu-a")) is not None:
        claimed.append(job.id)
    return claimed


def read_sort_keys(path: Path) -> dict[int, int]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT id, sort_key FROM jobs ORDER BY id").fetchall())
    finally:
        conn.close()


def file_exists(path: Path) -> bool:
    return path.exists()


def query_plan(path: Path, sql: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        params = {"id": 2, "backend": "gpu-a", "now": 0.0, "user_id": A}
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    finally:
        conn.close()


def test_policy_parse_accepts_names() -> None:
    assert SchedulingPolicy.parse("fifo") is SchedulingPolicy.FIFO
    assert SchedulingPolicy.parse("fair") is SchedulingPolicy.FAIR


async def test_open_rejects_invalid_policy(db_path: Path) -> None:
    with pytest.raises(ValueError) as raised:
        await JobStore.open(db_path, policy="round-robin")

    assert "'round-robin'" in str(raised.value)
    assert "'fifo' or 'fair'" in str(raised.value)
    assert not file_exists(db_path)


async def test_open_sets_policy(store: JobStore, fair_store: JobStore) -> None:
    assert store.policy is SchedulingPolicy.FIFO
    assert fair_store.policy is SchedulingPolicy.FAIR


async def test_fair_interleaves_members(
    fair_store: JobStore, db_path: Path, make_job: MakeJob
) -> None:
    results = [await fair_store.enqueue(make_job(user_id=user)) for user in (A, A, A, B, C)]
    a1, a2, a3, b1, c1 = (job.id for job, _ in results)

    positions = await fair_store.positions()

    assert [ahead for _, ahead in results] == [0, 1, 2, 1, 2]
    assert positions == {a1: 0, b1: 1, c1: 2, a2: 3, a3: 4}
    assert read_sort_keys(db_path) == {a1: 1, a2: 2, a3: 3, b1: 1, c1: 1}
    assert await claim_all(fair_store) == [a1, b1, c1, a2, a3]


async def test_fifo_keeps_id_order(store: JobStore, db_path: Path, make_job: MakeJob) -> None:
    jobs = await enqueue_as(store, make_job, A, A, A, B, C)

    positions = await store.positions()

    ids = [job.id for job in jobs]
    assert list(positions) == ids
    assert set(read_sort_keys(db_path).values()) == {0}
    assert await claim_all(store) == ids


async def test_fair_newcomer_starts_at_virtual_time(
    fair_store: JobStore, make_job: MakeJob
) -> None:
    a1, a2, a3, a4 = await enqueue_as(fair_store, make_job, A, A, A, A)
    await fair_store.claim("gpu-a")
    await fair_store.claim("gpu-b")

    (b1,) = await enqueue_as(fair_store, make_job, B)

    # B arrives when A's second job has started, so B shares the turns from A's third job on
    # instead of running before the jobs A queued earlier.
    assert await fair_store.positions() == {a3.id: 2, b1.id: 3, a4.id: 4}


async def test_fair_virtual_time_survives_reopen(
    db_path: Path, clock: Any, make_job: MakeJob
) -> None:
    async with await JobStore.open(db_path, clock=clock, policy="fair") as store:
        await enqueue_as(store, make_job, A, A)
        await claim_all(store)

    async with await JobStore.open(db_path, clock=clock, policy="fair") as store:
        a3, b1 = await enqueue_as(store, make_job, A, B)
        claimed = await claim_all(store)

    # Had the virtual time restarted at 0, B's job would get sort key 1 and run before A's.
    assert claimed == [a3.id, b1.id]


async def test_fair_virtual_time_never_moves_back(fair_store: JobStore, make_job: MakeJob) -> None:
    a1, a2, a3 = await enqueue_as(fair_store, make_job, A, A, A)
    await fair_store.claim("gpu-a")
    await fair_store.claim("gpu-b")
    await fair_store.release(a1.id)
    reclaimed = await fair_store.claim("gpu-a")

    (b1,) = await enqueue_as(fair_store, make_job, B)

    assert reclaimed is not None
    assert reclaimed.id == a1.id
    assert await fair_store.positions() == {a3.id: 2, b1.id: 3}


async def test_fair_release_keeps_place(fair_store: JobStore, make_job: MakeJob) -> None:
    a1, b1, a2 = await enqueue_as(fair_store, make_job, A, B, A)
    await fair_store.claim("gpu-a")

    await fair_store.release(a1.id)

    assert await fair_store.positions() == {a1.id: 0, b1.id: 1, a2.id: 2}


async def test_fair_requeue_interrupted_keeps_place(
    fair_store: JobStore, make_job: MakeJob
) -> None:
    a1, b1, a2, c1 = await enqueue_as(fair_store, make_job, A, B, A, C)
    await fair_store.claim("gpu-a")
    await fair_store.claim("gpu-b")

    await fair_store.requeue_interrupted(b1.id, "The image server stopped responding.")

    assert await fair_store.positions() == {b1.id: 1, c1.id: 2, a2.id: 3}
    assert await claim_all(fair_store) == [b1.id, c1.id, a2.id]


async def test_fair_recover_keeps_place(db_path: Path, clock: Any, make_job: MakeJob) -> None:
    async with await JobStore.open(db_path, clock=clock, policy="fair") as store:
        a1, a2, b1 = await enqueue_as(store, make_job, A, A, B)
        await store.claim("gpu-a")

    async with await JobStore.open(db_path, clock=clock, policy="fair") as store:
        await store.recover()
        positions = await store.positions()

    assert positions == {a1.id: 0, b1.id: 1, a2.id: 2}


async def test_fair_tasks_ahead_matches_positions(fair_store: JobStore, make_job: MakeJob) -> None:
    await enqueue_as(fair_store, make_job, A, A, A, B, B, C, A, C, B)
    await fair_store.claim("gpu-a")
    await fair_store.claim("gpu-b")
    await enqueue_as(fair_store, make_job, C, C, B, A)

    positions = await fair_store.positions()

    assert list(positions.values()) == list(range(2, 2 + len(positions)))
    for job_id, ahead in positions.items():
        assert await fair_store.tasks_ahead(job_id) == ahead, job_id


async def test_fair_enqueue_concurrent_two_stores(db_path: Path, make_job: MakeJob) -> None:
    first = await JobStore.open(db_path, policy="fair")
    second = await JobStore.open(db_path, policy="fair")
    try:
        results = await asyncio.gather(
            *(
                store.enqueue(make_job(user_id=i % 3))
                for i in range(20)
                for store in (first, second)
            )
        )
        positions = await first.positions()
        claimed = await claim_all(second)
    finally:
        await first.close()
        await second.close()

    # Each member's jobs get the keys 1, 2, 3, ... once each, so no two enqueues read the same
    # previous key of a member.
    sort_keys = read_sort_keys(db_path)
    for user in range(3):
        keys = sorted(sort_keys[job.id] for job, _ in results if job.user_id == user)
        assert keys == list(range(1, len(keys) + 1)), user
    assert list(positions.values()) == list(range(40))
    assert claimed == list(positions)


async def test_fifo_reopen_of_fair_file_uses_ids(
    db_path: Path, clock: Any, make_job: MakeJob
) -> None:
    async with await JobStore.open(db_path, clock=clock, policy="fair") as store:
        jobs = await enqueue_as(store, make_job, A, A, A, B)

    async with await JobStore.open(db_path, clock=clock) as store:
        positions = await store.positions()
        claimed = await claim_all(store)

    ids = [job.id for job in jobs]
    assert list(positions) == ids
    assert claimed == ids


async def test_fair_reopen_of_fifo_file_runs_old_first(
    db_path: Path, clock: Any, make_job: MakeJob
) -> None:
    async with await JobStore.open(db_path, clock=clock) as store:
        old = await enqueue_as(store, make_job, A, A, A)

    async with await JobStore.open(db_path, clock=clock, policy="fair") as store:
        new = await enqueue_as(store, make_job, B, C)
        claimed = await claim_all(store)

    assert claimed == [job.id for job in old + new]


async def test_fair_queries_use_fair_index(fair_store: JobStore, db_path: Path) -> None:
    for sql in (queries.FAIR_CLAIM_SQL, queries.FAIR_POSITIONS_SQL, queries.FAIR_TASKS_AHEAD_SQL):
        plan = query_plan(db_path, sql)
        assert any("USING INDEX jobs_queued_fair" in step for step in plan), plan

    tasks_ahead_plan = query_plan(db_path, queries.FAIR_TASKS_AHEAD_SQL)
    assert any("jobs_queued_fair (sort_key<?)" in step for step in tasks_ahead_plan)
    next_key_plan = query_plan(db_path, queries.FAIR_NEXT_SORT_KEY_SQL)
    assert any("USING INDEX jobs_user_active (user_id=?)" in step for step in next_key_plan)


class FairModel:
    """Reference implementation of the fair rule, to check the store's SQL against."""

    def __init__(self) -> None:
        self.virtual_time = 0
        self.sort_keys: dict[int, int] = {}
        self.owners: dict[int, int] = {}
        self.queued: set[int] = set()
        self.running: set[int] = set()

    def enqueue(self, job_id: int, user: int) -> None:
        active = (self.queued | self.running) & {j for j, u in self.owners.items() if u == user}
        last = max((self.sort_keys[j] for j in active), default=0)
        self.sort_keys[job_id] = max(self.virtual_time, last) + 1
        self.owners[job_id] = user
        self.queued.add(job_id)

    def order(self) -> list[int]:
        return sorted(self.queued, key=lambda job_id: (self.sort_keys[job_id], job_id))

    def claim(self) -> int | None:
        if not self.queued:
            return None
        job_id = self.order()[0]
        self.queued.remove(job_id)
        self.running.add(job_id)
        self.virtual_time = max(self.virtual_time, self.sort_keys[job_id])
        return job_id


OPERATION_NAMES = ["enqueue", "claim", "release", "succeed", "cancel"]


def random_operations(seed: int) -> list[tuple[str, int]]:
    # Enqueues are weighted up so that queues of several members build up between claims.
    rng = random.Random(seed)
    count = rng.randrange(40)
    names = rng.choices(OPERATION_NAMES, weights=[4, 2, 1, 1, 1], k=count)
    return [(name, rng.randrange(4)) for name in names]


async def run_against_model(path: Path, operations: list[tuple[str, int]]) -> None:
    model = FairModel()
    async with await JobStore.open(path, policy="fair") as store:
        for name, argument in operations:
            running = sorted(model.running)
            queued = sorted(model.queued)
            if name == "enqueue":
                job, ahead = await store.enqueue(NewJob(argument, 1, None, {"prompt": "x"}))
                model.enqueue(job.id, argument)
                assert ahead == len(model.running) + model.order().index(job.id)
            elif name == "claim":
                claimed = await store.claim("gpu-a")
                assert (claimed.id if claimed else None) == model.claim()
            elif name == "release" and running:
                job_id = running[argument % len(running)]
                await store.release(job_id)
                model.running.remove(job_id)
                model.queued.add(job_id)
            elif name == "succeed" and running:
                job_id = running[argument % len(running)]
                await store.succeed(job_id, {})
                model.running.remove(job_id)
            elif name == "cancel" and queued:
                job_id = queued[argument % len(queued)]
                await store.cancel(job_id)
                model.queued.remove(job_id)

        positions = await store.positions()
        expected_order = model.order()
        claimed_order = await claim_all(store)

    assert list(positions) == expected_order
    assert list(positions.values()) == [len(model.running) + i for i in range(len(positions))]
    assert claimed_order == expected_order


@pytest.mark.parametrize("seed", range(30))
async def test_fair_claims_follow_reference_model(tmp_path: Path, seed: int) -> None:
    await run_against_model(tmp_path / "jobs.db", random_operations(seed))
