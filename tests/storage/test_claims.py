"""Tests for storage.claims: claims limited to a backend's models, and jobs no backend can run."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from storage import JobStatus, JobStore, NewJob
from storage.queries import claim_for_models_sql, fail_outside_models_sql

MakeJob = Callable[..., NewJob]

XL = "sd_xl_base_1.0.safetensors"
V15 = "v1-5-pruned-emaonly.safetensors"


async def enqueue_models(store: JobStore, make_job: MakeJob, models: list[str | None]) -> list[int]:
    ids = []
    for model in models:
        job, _ = await store.enqueue(make_job(model=model))
        ids.append(job.id)
    return ids


async def claim_all(store: JobStore, backend: str, models: frozenset[str] | None) -> list[int]:
    claimed = []
    while (job := await store.claim(backend, models=models)) is not None:
        claimed.append(job.id)
    return claimed


def query_plan(path: Path, sql: str, params: dict[str, object]) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    finally:
        conn.close()


@pytest.mark.parametrize("policy", ["fifo", "fair"])
async def test_claim_models_skips_other_models_in_order(
    db_path: Path, make_job: MakeJob, policy: str
) -> None:
    async with await JobStore.open(db_path, policy=policy) as store:
        ids = await enqueue_models(store, make_job, [XL, V15, None, XL, V15, None])

        xl_backend = await claim_all(store, "gpu-xl", frozenset({XL}))
        v15_backend = await claim_all(store, "gpu-15", frozenset({V15}))

    assert xl_backend == [ids[0], ids[2], ids[3], ids[5]]
    assert v15_backend == [ids[1], ids[4]]


async def test_claim_models_records_backend(store: JobStore, make_job: MakeJob) -> None:
    (job_id,) = await enqueue_models(store, make_job, [XL])

    claimed = await store.claim("gpu-xl", models=frozenset({XL, V15}))

    assert claimed is not None
    assert claimed.id == job_id
    assert claimed.status is JobStatus.RUNNING
    assert claimed.backend == "gpu-xl"
    assert claimed.model == XL


async def test_claim_without_models_takes_any_job(store: JobStore, make_job: MakeJob) -> None:
    ids = await enqueue_models(store, make_job, [XL, None, V15])

    assert await claim_all(store, "gpu-a", None) == ids


async def test_claim_empty_models_takes_only_unbound_jobs(
    store: JobStore, make_job: MakeJob
) -> None:
    ids = await enqueue_models(store, make_job, [XL, None, V15, None])

    assert await claim_all(store, "gpu-a", frozenset()) == [ids[1], ids[3]]
    assert [job.id for job in await store.list_jobs([JobStatus.QUEUED])] == [ids[0], ids[2]]


async def test_claim_models_none_waiting(store: JobStore, make_job: MakeJob) -> None:
    await enqueue_models(store, make_job, [V15, V15])

    assert await store.claim("gpu-xl", models=frozenset({XL})) is None
    assert await store.queued_count() == 2


async def test_claim_models_positions_stay_queue_order(store: JobStore, make_job: MakeJob) -> None:
    ids = await enqueue_models(store, make_job, [V15, XL, None])

    await store.claim("gpu-xl", models=frozenset({XL}))

    # Positions count every job ahead whatever its model, so the V15 job keeps position 1.
    assert await store.positions() == {ids[0]: 1, ids[2]: 2}


async def test_claim_models_released_job_keeps_turn(store: JobStore, make_job: MakeJob) -> None:
    ids = await enqueue_models(store, make_job, [XL, XL])
    first = await store.claim("gpu-xl", models=frozenset({XL}))
    assert first is not None

    await store.release(first.id)

    assert await claim_all(store, "gpu-xl", frozenset({XL})) == ids


async def test_claim_models_beyond_compound_limit(store: JobStore, make_job: MakeJob) -> None:
    # SQLite caps UNION ALL chains at 500 terms, so the names must not become one term each.
    names = frozenset(f"model-{index:04d}.safetensors" for index in range(700))
    ids = await enqueue_models(store, make_job, ["model-0699.safetensors", XL, None])

    assert await claim_all(store, "gpu-many", names) == [ids[0], ids[2]]


async def test_claim_models_skips_long_run_of_other_jobs(
    store: JobStore, make_job: MakeJob
) -> None:
    await enqueue_models(store, make_job, [V15] * 100)
    (wanted,) = await enqueue_models(store, make_job, [XL])

    claimed = await store.claim("gpu-xl", models=frozenset({XL}))

    assert claimed is not None
    assert claimed.id == wanted


@pytest.mark.parametrize("order", ["id", "sort_key, id"])
@pytest.mark.parametrize("model_count", [0, 1, 3])
async def test_claim_models_uses_model_indexes(
    store: JobStore, db_path: Path, order: str, model_count: int
) -> None:
    params: dict[str, object] = {"backend": "gpu-a", "now": 0.0}
    params |= {f"model_{index}": f"m{index}" for index in range(model_count)}
    expected = "jobs_queued_model" if order == "id" else "jobs_queued_model_fair"

    plan = query_plan(db_path, claim_for_models_sql(order, model_count), params)

    full_scans = [step for step in plan if step.startswith("SCAN jobs")]
    assert full_scans == [], plan
    searches = [step for step in plan if step.startswith("SEARCH jobs USING")]
    heads = [step for step in searches if "PRIMARY KEY" not in step]
    # One probe for the jobs that name no model, and one that runs once per bound model.
    assert heads == [f"SEARCH jobs USING INDEX {expected} (model=?)"] * (2 if model_count else 1)


@pytest.mark.parametrize("model_count", [0, 2])
async def test_fail_unservable_uses_model_index(
    store: JobStore, db_path: Path, model_count: int
) -> None:
    params: dict[str, object] = {"now": 0.0, "error": "%s"}
    params |= {f"model_{index}": f"m{index}" for index in range(model_count)}

    plan = query_plan(db_path, fail_outside_models_sql(model_count), params)

    assert any("INDEX jobs_queued_model" in step for step in plan), plan
    assert [step for step in plan if step.startswith("SCAN jobs ") and "INDEX" not in step] == []


async def test_fail_unservable_fails_missing_models(
    store: JobStore, make_job: MakeJob, clock
) -> None:
    ids = await enqueue_models(store, make_job, [XL, None, V15, "gone 100%.ckpt"])
    clock.now += 5

    failed = await store.fail_unservable(frozenset({XL}))

    assert [job.id for job in failed] == [ids[2], ids[3]]
    assert all(job.status is JobStatus.FAILED for job in failed)
    assert all(job.finished_at == clock.now for job in failed)
    assert failed[0].error == (
        f"No image server has the model {V15} any more, so this job cannot run. "
        "Queue it again with another model."
    )
    assert failed[1].error is not None
    assert "the model gone 100%.ckpt any more" in failed[1].error
    queued = await store.list_jobs([JobStatus.QUEUED])
    assert [job.id for job in queued] == [ids[0], ids[1]]
    assert [job.id for job in await store.undelivered()] == [ids[2], ids[3]]


async def test_fail_unservable_keeps_running_jobs(store: JobStore, make_job: MakeJob) -> None:
    (running_id, queued_id) = await enqueue_models(store, make_job, [V15, V15])
    await store.claim("gpu-15", models=frozenset({V15}))

    failed = await store.fail_unservable(frozenset())

    assert [job.id for job in failed] == [queued_id]
    running = await store.get(running_id)
    assert running is not None
    assert running.status is JobStatus.RUNNING


async def test_fail_unservable_nothing_missing(store: JobStore, make_job: MakeJob) -> None:
    await enqueue_models(store, make_job, [XL, None])

    assert await store.fail_unservable(frozenset({XL, V15})) == []
    assert await store.queued_count() == 2
