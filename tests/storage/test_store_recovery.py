"""Tests for putting interrupted jobs back in the queue: recover, requeue_interrupted, release."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storage import InvalidTransitionError, Job, JobStatus, JobStore, NewJob

MakeJob = Callable[..., NewJob]

RESTART_GIVE_UP = (
    "This image was given up after 3 interrupted attempts. "
    "Last interruption: The bot stopped while making this image."
)


async def enqueue_and_claim(store: JobStore, make_job: MakeJob, count: int) -> list[Job]:
    jobs = [(await store.enqueue(make_job()))[0] for _ in range(count)]
    for _ in range(count):
        await store.claim("gpu-a")
    return jobs


def begin_immediate_without_waiting(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    finally:
        conn.close()


async def test_recover_requeues_running_at_head(
    db_path: Path, clock: Any, make_job: MakeJob
) -> None:
    async with await JobStore.open(db_path, clock=clock) as store:
        first, second = await enqueue_and_claim(store, make_job, 2)
        waiting, _ = await store.enqueue(make_job())

    async with await JobStore.open(db_path, clock=clock) as store:
        report = await store.recover()
        positions = await store.positions()
        claimed = await store.claim("gpu-b")
        requeued = await store.get(second.id)

    assert report.requeued == [first.id, second.id]
    assert report.failed == []
    assert positions == {first.id: 0, second.id: 1, waiting.id: 2}
    assert claimed is not None
    assert claimed.id == first.id
    assert claimed.attempts == 1
    assert requeued is not None
    assert requeued.status is JobStatus.QUEUED
    assert requeued.attempts == 1
    assert requeued.backend is None
    assert requeued.started_at is None
    assert requeued.error == "The bot stopped while making this image."


async def test_recover_fails_after_max_attempts(
    db_path: Path, clock: Any, make_job: MakeJob, caplog: pytest.LogCaptureFixture
) -> None:
    async with await JobStore.open(db_path, clock=clock, max_attempts=3) as store:
        job, _ = await store.enqueue(make_job())
        reports = []
        for _ in range(3):
            await store.claim("gpu-a")
            with caplog.at_level(logging.DEBUG, logger="storage.store"):
                reports.append(await store.recover())

    assert [report.requeued for report in reports] == [[job.id], [job.id], []]
    failed = reports[2].failed
    assert [failed_job.id for failed_job in failed] == [job.id]
    assert failed[0].status is JobStatus.FAILED
    assert failed[0].attempts == 3
    assert failed[0].error == RESTART_GIVE_UP
    assert failed[0].finished_at == clock.now
    assert f"job {job.id} failed after 3 interrupted attempts" in caplog.text


async def test_recover_gives_up_after_one_attempt(
    db_path: Path, clock: Any, make_job: MakeJob, caplog: pytest.LogCaptureFixture
) -> None:
    async with await JobStore.open(db_path, clock=clock, max_attempts=1) as store:
        job, _ = await store.enqueue(make_job())
        await store.claim("gpu-a")
        with caplog.at_level(logging.DEBUG, logger="storage.store"):
            report = await store.recover()

    [failed] = report.failed
    assert failed.error == (
        "This image was given up after 1 interrupted attempt. "
        "Last interruption: The bot stopped while making this image."
    )
    assert f"job {job.id} failed after 1 interrupted attempt" in caplog.text
    assert "1 interrupted attempts" not in caplog.text


async def test_recover_nothing_running(store: JobStore, make_job: MakeJob) -> None:
    job, _ = await store.enqueue(make_job())

    report = await store.recover()

    assert report.requeued == []
    assert report.failed == []
    assert await store.tasks_ahead(job.id) == 0


async def test_recover_releases_write_lock(
    store: JobStore, db_path: Path, make_job: MakeJob
) -> None:
    await enqueue_and_claim(store, make_job, 3)

    await store.recover()

    # Rows of an UPDATE ... RETURNING left unread would keep the write lock held.
    begin_immediate_without_waiting(db_path)


async def test_requeue_interrupted_counts_attempts(store: JobStore, make_job: MakeJob) -> None:
    job, _ = await store.enqueue(make_job())
    later, _ = await store.enqueue(make_job())
    await store.claim("gpu-a")

    requeued = await store.requeue_interrupted(job.id, "The image server stopped responding.")

    assert requeued.status is JobStatus.QUEUED
    assert requeued.attempts == 1
    assert requeued.error == "The image server stopped responding."
    assert await store.positions() == {job.id: 0, later.id: 1}


async def test_requeue_interrupted_fails_at_max_attempts(
    db_path: Path, clock: Any, make_job: MakeJob
) -> None:
    async with await JobStore.open(db_path, clock=clock, max_attempts=2) as store:
        job, _ = await store.enqueue(make_job())
        await store.claim("gpu-a")
        await store.requeue_interrupted(job.id, "The image server stopped responding.")
        await store.claim("gpu-a")

        failed = await store.requeue_interrupted(
            job.id, "the image server gpu-a closed the connection while working on it"
        )

    assert failed.status is JobStatus.FAILED
    assert failed.attempts == 2
    assert failed.error == (
        "This image was given up after 2 interrupted attempts. Last interruption: "
        "The image server gpu-a closed the connection while working on it."
    )
    assert failed.backend == "gpu-a"


async def test_requeue_interrupted_queued_job_raises(store: JobStore, make_job: MakeJob) -> None:
    job, _ = await store.enqueue(make_job())

    with pytest.raises(InvalidTransitionError) as raised:
        await store.requeue_interrupted(job.id, "The image server stopped responding.")

    assert raised.value.job_id == job.id
    assert raised.value.status is JobStatus.QUEUED
    assert f"Job {job.id} cannot be requeued because its status is queued" in str(raised.value)


async def test_max_attempts_one_fails_first_interruption(db_path: Path, make_job: MakeJob) -> None:
    async with await JobStore.open(db_path, max_attempts=1) as store:
        job, _ = await store.enqueue(make_job())
        await store.claim("gpu-a")

        failed = await store.requeue_interrupted(job.id, "The image server stopped responding.")

    assert failed.status is JobStatus.FAILED
    assert failed.attempts == 1


async def test_release_keeps_place_and_attempts(store: JobStore, make_job: MakeJob) -> None:
    job, _ = await store.enqueue(make_job())
    later, _ = await store.enqueue(make_job())
    await store.claim("gpu-a")

    released = await store.release(job.id)

    assert released.status is JobStatus.QUEUED
    assert released.attempts == 0
    assert released.backend is None
    assert released.started_at is None
    assert await store.positions() == {job.id: 0, later.id: 1}
    reclaimed = await store.claim("gpu-b")
    assert reclaimed is not None
    assert reclaimed.id == job.id


async def test_release_queued_job_raises(store: JobStore, make_job: MakeJob) -> None:
    job, _ = await store.enqueue(make_job())

    with pytest.raises(InvalidTransitionError, match=f"Job {job.id} .* status is queued"):
        await store.release(job.id)
