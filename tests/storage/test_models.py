"""Tests for storage.models: job statuses and what job records reveal in repr."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from storage import JobStatus, JobStore, NewJob

MakeJob = Callable[..., NewJob]

TOKEN = "aW50ZXJhY3Rpb24tdG9rZW4tc2VjcmV0"


def test_job_status_is_terminal() -> None:
    terminal = {status for status in JobStatus if status.is_terminal}

    assert terminal == {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}


def test_job_status_values_are_stored_text() -> None:
    assert [status.value for status in JobStatus] == [
        "queued",
        "running",
        "succeeded",
        "failed",
        "cancelled",
    ]
    assert JobStatus("running") is JobStatus.RUNNING
    assert f"{JobStatus.QUEUED}" == "queued"


def test_new_job_repr_hides_token(make_job: MakeJob) -> None:
    new = make_job(interaction_token=TOKEN)

    assert TOKEN not in repr(new)
    assert "interaction_token" not in repr(new)
    assert new.interaction_token == TOKEN


async def test_job_repr_hides_token(db_path: Path, make_job: MakeJob) -> None:
    async with await JobStore.open(db_path) as store:
        job, _ = await store.enqueue(make_job(interaction_token=TOKEN))
        claimed = await store.claim("gpu-a")

    assert claimed is not None
    for record in (job, claimed):
        assert TOKEN not in repr(record)
        assert TOKEN not in str(record)
        assert record.interaction_token == TOKEN


def test_new_job_is_frozen(make_job: MakeJob) -> None:
    new = make_job()

    with pytest.raises(dataclasses.FrozenInstanceError):
        new.user_id = 5  # type: ignore[misc]


@pytest.mark.parametrize("model", ["", "   "])
def test_new_job_rejects_blank_model(make_job: MakeJob, model: str) -> None:
    with pytest.raises(ValueError, match="checkpoint name"):
        make_job(model=model)


def test_new_job_model_defaults_to_any(make_job: MakeJob) -> None:
    assert make_job().model is None
