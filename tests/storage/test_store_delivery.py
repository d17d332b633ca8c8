"""Tests for delivery notes and for handing back results that could not be posted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from storage import Job, JobStore, NewJob

MakeJob = Callable[..., NewJob]

DM_NOTE = "Posted in your DMs because the bot cannot post in that channel."
KEPT_NOTE = "Kept for you: use Where am I? to get it."


async def finish(store: JobStore, make_job: MakeJob, user_id: int, seed: int) -> Job:
    job, _ = await store.enqueue(make_job(user_id=user_id))
    claimed = await store.claim("gpu-a")
    assert claimed is not None
    assert claimed.id == job.id
    return await store.succeed(job.id, {"seed": seed})


async def test_mark_delivered_stores_note(store: JobStore, make_job: MakeJob) -> None:
    job = await finish(store, make_job, 42, 1)

    delivered = await store.mark_delivered(job.id, 555, note=DM_NOTE)

    assert delivered.delivery_note == DM_NOTE
    assert delivered.result_message_id == 555
    stored = await store.get(job.id)
    assert stored is not None
    assert stored.delivery_note == DM_NOTE


async def test_mark_delivered_without_note_keeps_note(
    store: JobStore, make_job: MakeJob, clock: Any
) -> None:
    job = await finish(store, make_job, 42, 1)
    await store.mark_delivered(job.id, note=KEPT_NOTE)
    clock.now += 60

    again = await store.mark_delivered(job.id, 777)

    assert again.delivery_note == KEPT_NOTE
    assert again.result_message_id == 777
    assert again.delivered_at == 1_700_000_000.0


async def test_mark_delivered_replaces_note(store: JobStore, make_job: MakeJob) -> None:
    job = await finish(store, make_job, 42, 1)
    await store.mark_delivered(job.id, note=KEPT_NOTE)

    again = await store.mark_delivered(job.id, note=DM_NOTE)

    assert again.delivery_note == DM_NOTE


async def test_mark_delivered_default_note_none(store: JobStore, make_job: MakeJob) -> None:
    job = await finish(store, make_job, 42, 1)

    delivered = await store.mark_delivered(job.id, 555)

    assert delivered.delivery_note is None


async def test_delivery_note_survives_reopen(db_path: Path, clock: Any, make_job: MakeJob) -> None:
    async with await JobStore.open(db_path, clock=clock) as store:
        job = await finish(store, make_job, 42, 1)
        before = await store.mark_delivered(job.id, note="Ölgemälde ✓ " + KEPT_NOTE)

    async with await JobStore.open(db_path, clock=clock) as store:
        after = await store.get(job.id)

    assert after == before


async def test_undelivered_count_matches_list(store: JobStore, make_job: MakeJob) -> None:
    assert await store.undelivered_count() == 0
    succeeded = await finish(store, make_job, 42, 1)
    delivered = await finish(store, make_job, 42, 2)
    failed, _ = await store.enqueue(make_job())
    await store.fail(failed.id, "The prompt was rejected.")
    await store.enqueue(make_job())
    await store.mark_delivered(delivered.id)

    count = await store.undelivered_count()

    assert count == 2
    assert [job.id for job in await store.undelivered()] == [succeeded.id, failed.id]


async def test_latest_results_newest_first(store: JobStore, make_job: MakeJob, clock: Any) -> None:
    results = []
    for seed in range(7):
        clock.now += 1
        results.append(await finish(store, make_job, 42, seed))
    await finish(store, make_job, 43, 99)
    failed, _ = await store.enqueue(make_job(user_id=42))
    await store.fail(failed.id, "The prompt was rejected.")

    latest = await store.latest_results_of(42)
    two = await store.latest_results_of(42, limit=2)

    assert [job.result for job in latest] == [{"seed": seed} for seed in (6, 5, 4, 3, 2)]
    assert [job.id for job in two] == [results[6].id, results[5].id]
    assert await store.latest_results_of(42, limit=0) == []
    assert await store.latest_results_of(44) == []


async def test_latest_results_orders_by_finish_time(
    store: JobStore, make_job: MakeJob, clock: Any
) -> None:
    early, _ = await store.enqueue(make_job(user_id=42))
    late, _ = await store.enqueue(make_job(user_id=42))
    await store.claim("gpu-a")
    await store.claim("gpu-b")
    await store.succeed(late.id, {"seed": 2})
    clock.now += 1
    await store.succeed(early.id, {"seed": 1})

    latest = await store.latest_results_of(42)

    assert [job.id for job in latest] == [early.id, late.id]


async def test_latest_results_rejects_negative_limit(store: JobStore) -> None:
    with pytest.raises(ValueError, match="limit must be 0 or more, got -1"):
        await store.latest_results_of(42, limit=-1)
