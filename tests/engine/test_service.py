"""QueueService with two backends of different models: the offered models and jobs left behind."""

from __future__ import annotations

import asyncio

import pytest

from cogs.validation import ImagineOptions, InvalidOptionError, validate
from settings import LimitsSettings
from storage import JobStatus
from tests.engine.conftest import ANIME, PHOTO, SHARED


async def test_service_models_union_of_backends(two_backends) -> None:
    assert two_backends.service.models() == [ANIME, PHOTO, SHARED]


async def test_service_models_follow_refresh(two_backends) -> None:
    two_backends.webuis["gpu-b"].models = [PHOTO, "SDXL/new.safetensors"]

    await two_backends.service.refresh_models()

    assert two_backends.service.models() == [ANIME, "SDXL/new.safetensors", PHOTO, SHARED]


async def test_service_unknown_model_rejected_before_queueing(two_backends) -> None:
    service = two_backends.service
    options = ImagineOptions(prompt="a cat", model="missing.safetensors")

    with pytest.raises(InvalidOptionError) as rejected:
        validate(options, LimitsSettings(), ["Euler a"], service.models())

    assert str(rejected.value) == (
        f"Unknown model 'missing.safetensors'. Choose one of: {ANIME}, {PHOTO}, {SHARED}."
    )
    assert await two_backends.store.list_jobs() == []


async def test_service_fails_jobs_whose_model_is_gone(two_backends) -> None:
    service = two_backends.service
    # Paused, so the job stays queued while the health checks see the model disappear.
    service.pause()
    gone = await two_backends.add("a photo", PHOTO)
    kept = await two_backends.add("anything", None)
    shared = await two_backends.add("shared model", SHARED)

    two_backends.webuis["gpu-b"].models = [SHARED]
    failed = await two_backends.wait_for(gone.id)
    service.resume()

    assert failed.status is JobStatus.FAILED
    assert failed.error == (
        f"No image server has the model {PHOTO} any more, so this job cannot run. "
        "Queue it again with another model."
    )
    assert (await two_backends.wait_for(kept.id)).status is JobStatus.SUCCEEDED
    assert (await two_backends.wait_for(shared.id)).status is JobStatus.SUCCEEDED
    assert PHOTO not in service.models()


async def test_service_keeps_jobs_for_model_of_down_backend(two_backends) -> None:
    service = two_backends.service
    photo_gpu = two_backends.webuis["gpu-b"]
    port = int(photo_gpu.url.rsplit(":", 1)[1])
    await photo_gpu.stop()
    waiting = await two_backends.add("a photo", PHOTO)
    # Several health checks run while the backend with the photo model is down.
    await asyncio.sleep(0.5)

    queued = await two_backends.store.get(waiting.id)
    assert queued is not None
    # The worker of gpu-b claims the job and puts it back each time it cannot connect.
    assert queued.status in {JobStatus.QUEUED, JobStatus.RUNNING}
    assert queued.attempts == 0
    assert PHOTO in service.models()
    restarted = type(photo_gpu)(port=port, speed=5000.0, models=[PHOTO, SHARED])
    async with restarted:
        finished = await two_backends.wait_for(waiting.id)
    assert finished.status is JobStatus.SUCCEEDED
    assert finished.backend == "gpu-b"
