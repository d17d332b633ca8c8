"""Tests for storage.limits: the per-user cap and cooldown on enqueue, under concurrency."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storage import CooldownError, Job, JobStatus, JobStore, NewJob, QueueLimitError

MakeJob = Callable[..., NewJob]


def split_outcomes(results: list[Any]) -> tuple[list[Job], list[BaseException]]:
    stored = [result[0] for result in results if isinstance(result, tuple)]
    errors = [result for result in results if isinstance(result, BaseException)]
    return stored, errors


async def test_cap_rejects_job_over_limit(store: JobStore, make_job: MakeJob) -> None:
    for _ in range(3):
        await store.enqueue(make_job(user_id=5), max_queued_per_user=3)

    with pytest.raises(QueueLimitError) as raised:
        await store.enqueue(make_job(user_id=5), max_queued_per_user=3)

    assert raised.value.user_id == 5
    assert raised.value.limit == 3
    assert raised.value.active == 3
    assert str(raised.value) == "User 5 already has 3 jobs waiting or running; the limit is 3."
    assert await store.queued_count() == 3


async def test_cap_counts_running_jobs(store: JobStore, make_job: MakeJob) -> None:
    await store.enqueue(make_job(user_id=5))
    await store.enqueue(make_job(user_id=5))
    await store.claim("gpu-a")

    with pytest.raises(QueueLimitError) as raised:
        await store.enqueue(make_job(user_id=5), max_queued_per_user=2)

    assert raised.value.active == 2


async def test_cap_frees_slot_when_job_finishes(store: JobStore, make_job: MakeJob) -> None:
    first, _ = await store.enqueue(make_job(user_id=5), max_queued_per_user=2)
    second, _ = await store.enqueue(make_job(user_id=5), max_queued_per_user=2)
    await store.claim("gpu-a")
    await store.succeed(first.id, {})
    await store.cancel(second.id)

    third, _ = await store.enqueue(make_job(user_id=5), max_queued_per_user=2)
    fourth, _ = await store.enqueue(make_job(user_id=5), max_queued_per_user=2)

    assert third.status is JobStatus.QUEUED
    assert fourth.status is JobStatus.QUEUED


async def test_cap_is_per_user(store: JobStore, make_job: MakeJob) -> None:
    await store.enqueue(make_job(user_id=5), max_queued_per_user=1)

    other, ahead = await store.enqueue(make_job(user_id=6), max_queued_per_user=1)

    assert other.user_id == 6
    assert ahead == 1


async def test_cap_none_means_unlimited(store: JobStore, make_job: MakeJob) -> None:
    for _ in range(20):
        await store.enqueue(make_job(user_id=5), max_queued_per_user=None)

    assert await store.queued_count() == 20


async def test_cap_concurrent_same_store(store: JobStore, make_job: MakeJob) -> None:
    calls = (store.enqueue(make_job(user_id=5), max_queued_per_user=3) for _ in range(30))

    results = await asyncio.gather(*calls, return_exceptions=True)

    stored, errors = split_outcomes(results)
    assert len(stored) == 3
    assert len(errors) == 27
    assert all(isinstance(error, QueueLimitError) for error in errors), errors
    assert len(await store.active_jobs_of(5)) == 3


async def test_cap_concurrent_two_stores(db_path: Path, make_job: MakeJob) -> None:
    first = await JobStore.open(db_path)
    second = await JobStore.open(db_path)
    try:
        results = await asyncio.gather(
            *(
                store.enqueue(make_job(user_id=5), max_queued_per_user=3)
                for _ in range(15)
                for store in (first, second)
            ),
            return_exceptions=True,
        )
        active = await first.active_jobs_of(5)
    finally:
        await first.close()
        await second.close()

    stored, errors = split_outcomes(results)
    assert len(stored) == 3
    assert len(errors) == 27
    assert all(isinstance(error, QueueLimitError) for error in errors), errors
    assert len(active) == 3


async def test_cooldown_rejects_early_job(store: JobStore, make_job: MakeJob, clock: Any) -> None:
    first, _ = await store.enqueue(make_job(user_id=5), cooldown_s=30)
    clock.now += 29.5

    with pytest.raises(CooldownError) as raised:
        await store.enqueue(make_job(user_id=5), cooldown_s=30)

    assert raised.value.user_id == 5
    assert raised.value.retry_at == first.enqueued_at + 30
    assert "User 5" in str(raised.value)
    assert f"{first.enqueued_at + 30:.3f}" in str(raised.value)
    assert await store.queued_count() == 1


async def test_cooldown_allows_job_after_wait(
    store: JobStore, make_job: MakeJob, clock: Any
) -> None:
    await store.enqueue(make_job(user_id=5), cooldown_s=30)
    clock.now += 30

    job, _ = await store.enqueue(make_job(user_id=5), cooldown_s=30)

    assert job.enqueued_at == 1_700_000_030.0


async def test_cooldown_counts_finished_jobs(
    store: JobStore, make_job: MakeJob, clock: Any
) -> None:
    job, _ = await store.enqueue(make_job(user_id=5))
    await store.cancel(job.id)
    clock.now += 10

    with pytest.raises(CooldownError) as raised:
        await store.enqueue(make_job(user_id=5), cooldown_s=60)

    assert raised.value.retry_at == 1_700_000_060.0


async def test_cooldown_is_per_user(store: JobStore, make_job: MakeJob) -> None:
    await store.enqueue(make_job(user_id=5), cooldown_s=30)

    other, _ = await store.enqueue(make_job(user_id=6), cooldown_s=30)

    assert other.user_id == 6


async def test_cooldown_after_clock_steps_back(
    store: JobStore, make_job: MakeJob, clock: Any
) -> None:
    await store.enqueue(make_job(user_id=5))
    clock.now -= 100

    with pytest.raises(CooldownError) as raised:
        await store.enqueue(make_job(user_id=5), cooldown_s=1)

    assert raised.value.retry_at == 1_700_000_001.0


async def test_cooldown_concurrent_stores_one_job(db_path: Path, make_job: MakeJob) -> None:
    first = await JobStore.open(db_path)
    second = await JobStore.open(db_path)
    try:
        results = await asyncio.gather(
            *(
                store.enqueue(make_job(user_id=5), cooldown_s=3600)
                for _ in range(10)
                for store in (first, second)
            ),
            return_exceptions=True,
        )
    finally:
        await first.close()
        await second.close()

    stored, errors = split_outcomes(results)
    assert len(stored) == 1
    assert len(errors) == 19
    assert all(isinstance(error, CooldownError) for error in errors), errors


async def test_cap_checked_before_cooldown(store: JobStore, make_job: MakeJob) -> None:
    await store.enqueue(make_job(user_id=5))

    with pytest.raises(QueueLimitError):
        await store.enqueue(make_job(user_id=5), max_queued_per_user=1, cooldown_s=60)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_queued_per_user": 0}, "max_queued_per_user must be 1 or more"),
        ({"max_queued_per_user": -2}, "got -2"),
        ({"cooldown_s": -1.0}, "cooldown_s must be"),
        ({"cooldown_s": math.nan}, "got nan"),
        ({"cooldown_s": math.inf}, "got inf"),
    ],
)
async def test_enqueue_rejects_invalid_limits(
    store: JobStore, make_job: MakeJob, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await store.enqueue(make_job(), **arguments)

    assert await store.queued_count() == 0
