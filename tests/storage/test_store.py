"""Tests for storage.store: enqueue, claim, transitions and listing on a real SQLite file."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storage import (
    InvalidJobError,
    InvalidTransitionError,
    Job,
    JobNotFoundError,
    JobStatus,
    JobStore,
    NewJob,
    StorageError,
)

MakeJob = Callable[..., NewJob]


async def enqueue_many(store: JobStore, make_job: MakeJob, count: int) -> list[Job]:
    return [(await store.enqueue(make_job(user_id=100 + i)))[0] for i in range(count)]


async def test_enqueue_returns_queued_job(store: JobStore, make_job: MakeJob) -> None:
    job, ahead = await store.enqueue(make_job(requester_name="Ada"))

    assert job.status is JobStatus.QUEUED
    assert job.params == {"prompt": "a lighthouse at dusk", "steps": 20}
    assert job.requester_name == "Ada"
    assert job.enqueued_at == 1_700_000_000.0
    assert job.attempts == 0
    assert job.backend is None
    assert ahead == 0


async def test_enqueue_counts_running_and_queued_ahead(store: JobStore, make_job: MakeJob) -> None:
    await enqueue_many(store, make_job, 3)
    await store.claim("gpu-a")

    _, ahead = await store.enqueue(make_job())

    assert ahead == 3


async def test_enqueue_rejects_params_not_json(store: JobStore, make_job: MakeJob) -> None:
    for params in ({"seed": object()}, {"cfg_scale": math.nan}, {"prompt": "\ud83d"}):
        with pytest.raises(InvalidJobError) as raised:
            await store.enqueue(make_job(params=params))
        assert raised.value.field == "params"

    assert await store.queued_count() == 0


async def test_claim_returns_oldest_first(store: JobStore, make_job: MakeJob, clock: Any) -> None:
    jobs = await enqueue_many(store, make_job, 3)
    clock.now += 5

    claimed = [await store.claim("gpu-a") for _ in range(3)]

    assert [job.id for job in claimed if job] == [job.id for job in jobs]
    first = claimed[0]
    assert first is not None
    assert first.status is JobStatus.RUNNING
    assert first.backend == "gpu-a"
    assert first.started_at == 1_700_000_005.0


async def test_claim_empty_queue_returns_none(store: JobStore, make_job: MakeJob) -> None:
    assert await store.claim("gpu-a") is None

    job, _ = await store.enqueue(make_job())
    await store.claim("gpu-a")

    assert await store.claim("gpu-a") is None
    stored = await store.get(job.id)
    assert stored is not None
    assert stored.status is JobStatus.RUNNING


async def test_succeed_stores_result(store: JobStore, make_job: MakeJob, clock: Any) -> None:
    job, _ = await store.enqueue(make_job())
    await store.claim("gpu-a")
    clock.now += 42

    done = await store.succeed(job.id, {"seed": 1234, "files": ["a.png"]})

    assert done.status is JobStatus.SUCCEEDED
    assert done.result == {"seed": 1234, "files": ["a.png"]}
    assert done.finished_at == 1_700_000_042.0
    assert done.error is None


async def test_succeed_queued_job_raises(store: JobStore, make_job: MakeJob) -> None:
    job, _ = await store.enqueue(make_job())

    with pytest.raises(InvalidTransitionError) as raised:
        await store.succeed(job.id, {})

    assert raised.value.job_id == job.id
    assert raised.value.status is JobStatus.QUEUED
    assert f"Job {job.id}" in str(raised.value)
    assert "status is queued" in str(raised.value)
    assert "running" in str(raised.value)


async def test_succeed_rejects_result_not_json(store: JobStore, make_job: MakeJob) -> None:
    job, _ = await store.enqueue(make_job())
    await store.claim("gpu-a")

    with pytest.raises(InvalidJobError) as raised:
        await store.succeed(job.id, {"image": b"\x89PNG"})

    assert raised.value.field == "result"
    stored = await store.get(job.id)
    assert stored is not None
    assert stored.status is JobStatus.RUNNING


async def test_fail_queued_and_running(store: JobStore, make_job: MakeJob) -> None:
    queued, running = await enqueue_many(store, make_job, 2)
    await store.claim("gpu-a")

    failed_queued = await store.fail(queued.id, "The prompt was rejected.")
    failed_running = await store.fail(running.id, "The image server returned an error.")

    assert failed_queued.status is JobStatus.FAILED
    assert failed_queued.error == "The prompt was rejected."
    assert failed_queued.finished_at == 1_700_000_000.0
    assert failed_running.status is JobStatus.FAILED


async def test_fail_terminal_job_raises(store: JobStore, make_job: MakeJob) -> None:
    job, _ = await store.enqueue(make_job())
    await store.cancel(job.id)

    with pytest.raises(InvalidTransitionError, match=f"Job {job.id} .* status is cancelled"):
        await store.fail(job.id, "too late")


async def test_transition_unknown_job_raises(store: JobStore) -> None:
    for call in (
        store.succeed(999, {}),
        store.fail(999, "x"),
        store.cancel(999),
        store.release(999),
        store.requeue_interrupted(999, "x"),
        store.mark_delivered(999),
        store.set_status_message(999, 1, 2),
    ):
        with pytest.raises(JobNotFoundError) as raised:
            await call
        assert raised.value.job_id == 999
        assert "999" in str(raised.value)


async def test_cancel_queued_and_running(store: JobStore, make_job: MakeJob) -> None:
    running, queued = await enqueue_many(store, make_job, 2)
    await store.claim("gpu-a")

    cancelled_running = await store.cancel(running.id)
    cancelled_queued = await store.cancel(queued.id)

    assert cancelled_running is not None
    assert cancelled_running.status is JobStatus.CANCELLED
    assert cancelled_running.backend == "gpu-a"
    assert cancelled_queued is not None
    assert cancelled_queued.status is JobStatus.CANCELLED
    assert await store.claim("gpu-a") is None


async def test_cancel_terminal_job_returns_none(store: JobStore, make_job: MakeJob) -> None:
    job, _ = await store.enqueue(make_job())
    await store.claim("gpu-a")
    await store.succeed(job.id, {})

    assert await store.cancel(job.id) is None
    stored = await store.get(job.id)
    assert stored is not None
    assert stored.status is JobStatus.SUCCEEDED


async def test_succeed_cancelled_job_raises(store: JobStore, make_job: MakeJob) -> None:
    job, _ = await store.enqueue(make_job())
    await store.claim("gpu-a")
    await store.cancel(job.id)

    with pytest.raises(InvalidTransitionError, match="status is cancelled"):
        await store.succeed(job.id, {"seed": 1})


async def test_mark_delivered_keeps_first_time(
    store: JobStore, make_job: MakeJob, clock: Any
) -> None:
    job, _ = await store.enqueue(make_job())
    await store.fail(job.id, "The prompt was rejected.")
    clock.now += 3

    first = await store.mark_delivered(job.id, result_message_id=555)
    clock.now += 3
    second = await store.mark_delivered(job.id)

    assert first.delivered_at == 1_700_000_003.0
    assert first.result_message_id == 555
    assert second.delivered_at == 1_700_000_003.0
    assert second.result_message_id == 555


async def test_mark_delivered_running_job_raises(store: JobStore, make_job: MakeJob) -> None:
    job, _ = await store.enqueue(make_job())
    await store.claim("gpu-a")

    with pytest.raises(InvalidTransitionError, match="status is running"):
        await store.mark_delivered(job.id)


async def test_undelivered_lists_terminal_jobs(store: JobStore, make_job: MakeJob) -> None:
    succeeded, failed, cancelled, delivered, running, queued = await enqueue_many(
        store, make_job, 6
    )
    await store.claim("gpu-a")
    await store.succeed(succeeded.id, {})
    await store.fail(failed.id, "error")
    await store.cancel(cancelled.id)
    await store.claim("gpu-a")
    await store.succeed(delivered.id, {})
    await store.mark_delivered(delivered.id)
    await store.claim("gpu-a")

    undelivered = await store.undelivered()

    assert [job.id for job in undelivered] == [succeeded.id, failed.id, cancelled.id]
    assert [job.id for job in await store.running()] == [running.id]
    assert await store.tasks_ahead(queued.id) == 1


async def test_set_status_message_stores_ids(store: JobStore, make_job: MakeJob) -> None:
    job, _ = await store.enqueue(make_job())

    await store.set_status_message(job.id, channel_id=77, message_id=88)

    stored = await store.get(job.id)
    assert stored is not None
    assert stored.status_channel_id == 77
    assert stored.status_message_id == 88


async def test_get_unknown_job_returns_none(store: JobStore) -> None:
    assert await store.get(12345) is None


async def test_running_and_counts(store: JobStore, make_job: MakeJob) -> None:
    jobs = await enqueue_many(store, make_job, 5)
    await store.claim("gpu-a")
    await store.claim("gpu-b")
    await store.fail(jobs[4].id, "error")

    running = await store.running()
    counts = await store.counts()

    assert [(job.id, job.backend) for job in running] == [
        (jobs[0].id, "gpu-a"),
        (jobs[1].id, "gpu-b"),
    ]
    assert await store.queued_count() == 2
    assert counts == {
        JobStatus.QUEUED: 2,
        JobStatus.RUNNING: 2,
        JobStatus.SUCCEEDED: 0,
        JobStatus.FAILED: 1,
        JobStatus.CANCELLED: 0,
    }


async def test_list_jobs_running_before_queued(store: JobStore, make_job: MakeJob) -> None:
    jobs = await enqueue_many(store, make_job, 4)
    await store.claim("gpu-a")
    await store.claim("gpu-b")
    await store.release(jobs[0].id)
    await store.cancel(jobs[2].id)

    listed = await store.list_jobs([JobStatus.QUEUED, JobStatus.RUNNING])

    assert [job.id for job in listed] == [jobs[1].id, jobs[0].id, jobs[3].id]
    assert [job.status for job in listed] == [
        JobStatus.RUNNING,
        JobStatus.QUEUED,
        JobStatus.QUEUED,
    ]


async def test_list_jobs_pages(store: JobStore, make_job: MakeJob) -> None:
    jobs = await enqueue_many(store, make_job, 5)

    first = await store.list_jobs(limit=2)
    second = await store.list_jobs(limit=2, offset=2)
    everything = await store.list_jobs()

    assert [job.id for job in first] == [jobs[0].id, jobs[1].id]
    assert [job.id for job in second] == [jobs[2].id, jobs[3].id]
    assert len(everything) == 5


async def test_list_jobs_filters_statuses(store: JobStore, make_job: MakeJob) -> None:
    jobs = await enqueue_many(store, make_job, 3)
    await store.cancel(jobs[1].id)

    assert [job.id for job in await store.list_jobs([JobStatus.CANCELLED])] == [jobs[1].id]
    queued = await store.list_jobs([JobStatus.QUEUED])
    assert [job.id for job in queued] == [jobs[0].id, jobs[2].id]
    assert await store.list_jobs([]) == []


async def test_list_jobs_rejects_bad_arguments(store: JobStore) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.list_jobs(limit=-1)
    with pytest.raises(ValueError, match="offset"):
        await store.list_jobs(offset=-5)
    with pytest.raises(ValueError):
        await store.list_jobs(["paused"])  # type: ignore[list-item]


async def test_job_survives_reopen_with_every_field(
    db_path: Path, clock: Any, make_job: MakeJob
) -> None:
    prompt = "🌊 Ölgemälde eines Leuchtturms, 夕暮れ, " + "x" * 6000
    new = NewJob(
        user_id=2**62 + 5,
        channel_id=987654321098765432,
        guild_id=None,
        params={"prompt": prompt, "negative": "ñ 😀", "steps": 30, "cfg": 7.5, "hr": None},
        requester_name="Zoë 🎨",
        application_id=111222333444555666,
        interaction_token="aW50ZXJhY3Rpb24tdG9rZW4",
        interaction_created_at=1_699_999_999.25,
        attachment_size_limit=26_214_400,
        app_permissions=(1 << 49) | (1 << 15),
        model="SDXL/juggernaut XL ✨.safetensors",
    )
    async with await JobStore.open(db_path, clock=clock) as store:
        job, _ = await store.enqueue(new)
        interrupted, _ = await store.enqueue(make_job())
        clock.now += 1
        await store.claim("gpu-a")
        await store.set_status_message(job.id, 321, 654)
        clock.now += 1
        await store.succeed(job.id, {"seed": 42, "info": "✓ done"})
        clock.now += 1
        before = await store.mark_delivered(job.id, result_message_id=999)
        await store.claim("gpu-b")
        interrupted_before = await store.requeue_interrupted(interrupted.id, "Lost ⚡ power.")

    async with await JobStore.open(db_path, clock=clock) as store:
        after = await store.get(job.id)
        interrupted_after = await store.get(interrupted.id)

    assert after is not None
    assert after == before
    assert interrupted_after == interrupted_before
    assert dataclasses.asdict(after) == {
        "id": job.id,
        "status": JobStatus.SUCCEEDED,
        "user_id": 2**62 + 5,
        "channel_id": 987654321098765432,
        "guild_id": None,
        "params": new.params,
        "requester_name": "Zoë 🎨",
        "application_id": 111222333444555666,
        "interaction_token": "aW50ZXJhY3Rpb24tdG9rZW4",
        "interaction_created_at": 1_699_999_999.25,
        "attachment_size_limit": 26_214_400,
        "app_permissions": (1 << 49) | (1 << 15),
        "backend": "gpu-a",
        "status_channel_id": 321,
        "status_message_id": 654,
        "result_message_id": 999,
        "result": {"seed": 42, "info": "✓ done"},
        "attempts": 0,
        "enqueued_at": 1_700_000_000.0,
        "started_at": 1_700_000_001.0,
        "finished_at": 1_700_000_002.0,
        "delivered_at": 1_700_000_003.0,
        "error": None,
        "delivery_note": None,
        "model": "SDXL/juggernaut XL ✨.safetensors",
    }
    assert len(after.params["prompt"]) == 6000 + len("🌊 Ölgemälde eines Leuchtturms, 夕暮れ, ")
    assert interrupted_after is not None
    assert interrupted_after.attempts == 1
    assert interrupted_after.error == "Lost ⚡ power."


async def test_open_rejects_bad_max_attempts(db_path: Path) -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        await JobStore.open(db_path, max_attempts=0)


async def test_store_after_close_raises(db_path: Path) -> None:
    store = await JobStore.open(db_path)
    await store.close()

    with pytest.raises(StorageError, match="closed"):
        await store.get(1)
