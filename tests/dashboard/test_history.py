"""Reads behind the dashboard: the waiting list in claim order and the newest finished jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dashboard import history
from dashboard.history import newest_jobs, run_seconds, wait_seconds, waiting_jobs
from storage import JobStatus, JobStore
from tests.dashboard.scenario import Scenario, new_job


async def test_newest_jobs_across_pages(scenario: Scenario, monkeypatch) -> None:
    monkeypatch.setattr(history, "PAGE_SIZE", 1)

    jobs = await newest_jobs(scenario.store, JobStatus.SUCCEEDED, 4, limit=10)

    assert [job.id for job in jobs] == [job.id for job in reversed(scenario.succeeded)]


async def test_newest_jobs_limit(scenario: Scenario, monkeypatch) -> None:
    monkeypatch.setattr(history, "PAGE_SIZE", 3)

    jobs = await newest_jobs(scenario.store, JobStatus.SUCCEEDED, 4, limit=2)

    assert [job.id for job in jobs] == [scenario.succeeded[3].id, scenario.succeeded[2].id]


async def test_newest_jobs_stop_at_old_page(scenario: Scenario, monkeypatch) -> None:
    monkeypatch.setattr(history, "PAGE_SIZE", 1)
    fox = scenario.succeeded[1]
    assert fox.finished_at is not None

    jobs = await newest_jobs(
        scenario.store, JobStatus.SUCCEEDED, 4, limit=10, since=fox.finished_at + 1
    )

    # The harbour and the whale finished after the fox; the fox's page is read and stops it.
    assert [job.id for job in jobs] == [job.id for job in reversed(scenario.succeeded[1:])]


async def test_newest_jobs_none(scenario: Scenario) -> None:
    assert await newest_jobs(scenario.store, JobStatus.SUCCEEDED, 0, limit=10) == []


async def test_waiting_jobs_fifo(scenario: Scenario) -> None:
    waiting = await waiting_jobs(scenario.store, 2)

    assert [(job.id, ahead) for job, ahead in waiting] == [
        (scenario.waiting[0].id, 1),
        (scenario.waiting[1].id, 2),
    ]


@pytest.fixture
async def fair_store(tmp_path: Path) -> AsyncIterator[JobStore]:
    async with await JobStore.open(tmp_path / "fair.db", policy="fair") as store:
        yield store


async def test_waiting_jobs_fair_order(fair_store: JobStore) -> None:
    anns = [(await fair_store.enqueue(new_job(f"a{i}", "ann", user_id=1)))[0] for i in range(3)]
    ben, _ = await fair_store.enqueue(new_job("b0", "ben", user_id=2))

    waiting = await waiting_jobs(fair_store, 3)

    # Ben's first job takes its turn right after Ann's first, ahead of her older jobs, so the
    # page read in id order lacks it and it is read on its own.
    assert [job.id for job, _ in waiting] == [anns[0].id, ben.id, anns[1].id]
    assert [ahead for _, ahead in waiting] == [0, 1, 2]


async def test_waiting_jobs_empty(tmp_path: Path) -> None:
    async with await JobStore.open(tmp_path / "empty.db") as store:
        assert await waiting_jobs(store, 100) == []


def test_times_of_unstarted_job(scenario: Scenario) -> None:
    cancelled = scenario.cancelled[0]

    assert wait_seconds(cancelled) is None
    assert run_seconds(cancelled) is None


def test_times_of_finished_job(scenario: Scenario) -> None:
    whale = scenario.succeeded[2]

    assert wait_seconds(whale) == 45.0
    assert run_seconds(whale) == 90.0
