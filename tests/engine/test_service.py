"""QueueService: the models offered by two backends, jobs left behind, and a pause kept over a
restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from cogs.validation import ImagineOptions, InvalidOptionError, validate
from engine import Backend, ImageStore, QueueService
from fakewebui import FakeWebUI
from sdclient import SDClient
from settings import LimitsSettings
from storage import JobStatus, JobStore, NewJob
from tests.conftest import small_params
from tests.engine.conftest import ANIME, PHOTO, SHARED

PARAMS = small_params("a boat")


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
    await service.pause()
    gone = await two_backends.add("a photo", PHOTO)
    kept = await two_backends.add("anything", None)
    shared = await two_backends.add("shared model", SHARED)

    two_backends.webuis["gpu-b"].models = [SHARED]
    failed = await two_backends.wait_for(gone.id)
    await service.resume()

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


async def test_service_pause_survives_restart(tmp_path: Path) -> None:
    async with FakeWebUI(speed=5000.0) as webui, aiohttp.ClientSession() as session:

        def open_service(store: JobStore) -> QueueService:
            client = SDClient(session, webui.url, max_generation_s=5.0)
            return QueueService(store, [Backend("gpu", client)], ImageStore(tmp_path / "images"))

        async with await JobStore.open(tmp_path / "q.db") as store:
            first = open_service(store)
            await first.start()
            await first.pause()
            await first.stop(grace_s=1)

        async with await JobStore.open(tmp_path / "q.db") as store:
            second = open_service(store)
            await second.start()
            job, _ = await second.enqueue(
                NewJob(user_id=1, channel_id=2, guild_id=3, params=PARAMS.to_dict())
            )
            await asyncio.sleep(0.3)
            assert second.paused
            assert (await store.get(job.id)).status is JobStatus.QUEUED
            await second.resume()
            for _ in range(200):
                if (await store.get(job.id)).status is JobStatus.SUCCEEDED:
                    break
                await asyncio.sleep(0.02)
            await second.stop(grace_s=1)
            assert (await store.get(job.id)).status is JobStatus.SUCCEEDED
            assert await store.paused_at() is None
