"""Tests for JobStore.retry: putting a failed job back in the queue under both policies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storage import InvalidTransitionError, Job, JobNotFoundError, JobStatus, JobStore, NewJob

MakeJob = Callable[..., NewJob]

A, B = 101, 202


async def enqueue_as(store: JobStore, make_job: MakeJob, *users: int) -> list[Job]:
    return [(await store.enqueue(make_job(user_id=user)))[0] for user in users]


async def fail_after_run(store: JobStore, job: Job) -> Job:
    await store.claim("gpu-a")
    await store.set_status_message(job.id, 77, 88)
    failed = await store.fail(job.id, "The image server returned an error.")
    return await store.mark_delivered(failed.id, 999, note="Posted in your DMs.")


async def test_retry_resets_failed_job(store: JobStore, make_job: MakeJob, clock: Any) -> None:
    (job,) = await enqueue_as(store, make_job, A)
    clock.now += 10
    await fail_after_run(store, job)

    retried = await store.retry(job.id)

    assert retried.id == job.id
    assert retried.status is JobStatus.QUEUED
    assert retried.attempts == 0
    assert retried.error is None
    assert retried.result is None
    assert retried.backend is None
    assert retried.started_at is None
    assert retried.finished_at is None
    assert retried.delivered_at is None
    assert retried.result_message_id is None
    assert retried.delivery_note is None
    assert retried.enqueued_at == job.enqueued_at
    assert retried.status_message_id == 88
    assert retried.params == job.params
    assert await store.get(job.id) == retried


async def test_retry_resets_attempts_after_give_up(store: JobStore, make_job: MakeJob) -> None:
    (job,) = await enqueue_as(store, make_job, A)
    for _ in range(3):
        await store.claim("gpu-a")
        await store.requeue_interrupted(job.id, "The image server stopped responding.")

    retried = await store.retry(job.id)

    assert retried.attempts == 0
    assert retried.error is None
    assert (await store.claim("gpu-a")) == await store.get(job.id)


async def test_retry_fifo_returns_to_id_place(store: JobStore, make_job: MakeJob) -> None:
    first, second, third = await enqueue_as(store, make_job, A, B, B)
    await fail_after_run(store, first)

    await store.retry(first.id)

    assert await store.positions() == {first.id: 0, second.id: 1, third.id: 2}
    claimed = await store.claim("gpu-a")
    assert claimed is not None
    assert claimed.id == first.id


async def test_retry_fair_gets_fresh_sort_key(fair_store: JobStore, make_job: MakeJob) -> None:
    a1, a2, b1, b2 = await enqueue_as(fair_store, make_job, A, A, B, B)
    await fail_after_run(fair_store, a1)

    await fair_store.retry(a1.id)

    # The virtual time is 1 and A's queued job has key 2, so the retried job gets key 3 and
    # waits behind both members' queued jobs at key 2, as a job A enqueued now would.
    assert await fair_store.positions() == {b1.id: 0, a2.id: 1, b2.id: 2, a1.id: 3}
    (a3,) = await enqueue_as(fair_store, make_job, A)
    assert await fair_store.tasks_ahead(a3.id) == 4


async def test_retry_rejects_other_statuses(store: JobStore, make_job: MakeJob) -> None:
    queued, running, succeeded, cancelled = await enqueue_as(store, make_job, A, A, A, A)
    await store.claim("gpu-a")
    await store.claim("gpu-a")
    await store.claim("gpu-a")
    await store.succeed(succeeded.id, {})
    await store.cancel(cancelled.id)
    await store.release(queued.id)

    for job, status in (
        (queued, JobStatus.QUEUED),
        (running, JobStatus.RUNNING),
        (succeeded, JobStatus.SUCCEEDED),
        (cancelled, JobStatus.CANCELLED),
    ):
        with pytest.raises(InvalidTransitionError) as raised:
            await store.retry(job.id)
        assert raised.value.status is status
        assert f"Job {job.id} cannot be retried because its status is {status}" in str(raised.value)
        assert "only a job that is failed can be retried" in str(raised.value)


async def test_retry_unknown_job_raises(store: JobStore) -> None:
    with pytest.raises(JobNotFoundError) as raised:
        await store.retry(404)

    assert raised.value.job_id == 404
