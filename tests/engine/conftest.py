"""A queue service with real storage and a real WebUI stand-in, and no Discord."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from engine import Backend, ImageStore, QueueService
from fakewebui import FakeWebUI
from sdclient import SDClient
from storage import Job, JobStore, NewJob
from tests.conftest import small_params


@dataclass
class RecordingEvents:
    """A JobEvents that records what happened; delivery can be made slow on purpose."""

    delivery_delay_s: float = 0.0
    started: list[int] = field(default_factory=list)
    finished: list[Job] = field(default_factory=list)
    delivering: set[int] = field(default_factory=set)
    started_while_delivering: list[tuple[int, set[int]]] = field(default_factory=list)
    store: JobStore | None = None

    async def job_started(self, job: Job) -> None:
        self.started.append(job.id)
        self.started_while_delivering.append((job.id, set(self.delivering)))

    async def job_finished(self, job: Job) -> None:
        self.delivering.add(job.id)
        await asyncio.sleep(self.delivery_delay_s)
        self.delivering.discard(job.id)
        self.finished.append(job)
        assert self.store is not None
        await self.store.mark_delivered(job.id)

    async def queue_changed(self) -> None:
        return None


@dataclass
class Queue:
    service: QueueService
    store: JobStore
    events: RecordingEvents
    webui: FakeWebUI

    async def add(self, prompt: str = "a boat", **params: object) -> Job:
        job, _ = await self.service.enqueue(
            NewJob(
                user_id=1, channel_id=2, guild_id=3, params=small_params(prompt, **params).to_dict()
            )
        )
        return job

    async def wait_finished(self, count: int, timeout_s: float = 30) -> list[Job]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(self.events.finished) < count:
            assert loop.time() < deadline, f"only {len(self.events.finished)} of {count} finished"
            await asyncio.sleep(0.01)
        return self.events.finished


@pytest.fixture
async def queue(tmp_path: Path) -> AsyncIterator[Queue]:
    async with FakeWebUI(speed=5000.0) as webui, aiohttp.ClientSession() as session:
        store = await JobStore.open(tmp_path / "q.db")
        client = SDClient(session, webui.url, max_generation_s=2.0)
        service = QueueService(
            store,
            [Backend("gpu", client)],
            ImageStore(tmp_path / "images"),
            backoff_initial_s=0.05,
            backoff_max_s=0.2,
        )
        events = RecordingEvents(store=store)
        service.events = events
        await service.start()
        try:
            yield Queue(service, store, events, webui)
        finally:
            await service.stop(grace_s=2)
            await store.close()


ANIME = "anime.safetensors"
PHOTO = "SDXL/photo.safetensors"
SHARED = "shared.safetensors"


@dataclass
class TwoBackends:
    """A queue with two backends: gpu-a has ANIME and SHARED, gpu-b has PHOTO and SHARED."""

    service: QueueService
    store: JobStore
    events: RecordingEvents
    webuis: dict[str, FakeWebUI]

    async def add(self, prompt: str, model: str | None = None) -> Job:
        params = small_params(prompt, model=model)
        job, _ = await self.service.enqueue(
            NewJob(
                user_id=1,
                channel_id=2,
                guild_id=3,
                params=params.to_dict(),
                model=params.required_model,
            )
        )
        return job

    async def wait_for(self, job_id: int, timeout_s: float = 30) -> Job:
        """Return the job once its outcome was delivered."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            delivered = [job for job in self.events.finished if job.id == job_id]
            if delivered:
                return delivered[0]
            assert loop.time() < deadline, f"job {job_id} did not finish"
            await asyncio.sleep(0.01)

    def sent_checkpoints(self, backend: str) -> list[str | None]:
        """Return the sd_model_checkpoint override of each txt2img request a backend received."""
        overrides = [body.get("override_settings") or {} for body in self.webuis[backend].requests]
        return [override.get("sd_model_checkpoint") for override in overrides]


@pytest.fixture
async def two_backends(tmp_path: Path) -> AsyncIterator[TwoBackends]:
    async with (
        FakeWebUI(speed=5000.0, models=[ANIME, SHARED]) as first,
        FakeWebUI(speed=5000.0, models=[PHOTO, SHARED]) as second,
        aiohttp.ClientSession() as session,
    ):
        store = await JobStore.open(tmp_path / "q.db")
        service = QueueService(
            store,
            [
                Backend("gpu-a", SDClient(session, first.url, max_generation_s=20.0)),
                Backend("gpu-b", SDClient(session, second.url, max_generation_s=20.0)),
            ],
            ImageStore(tmp_path / "images"),
            backoff_initial_s=0.05,
            backoff_max_s=0.2,
            health_every_s=0.05,
        )
        events = RecordingEvents(store=store)
        service.events = events
        await service.start()
        try:
            await service.refresh_models()
            yield TwoBackends(service, store, events, {"gpu-a": first, "gpu-b": second})
        finally:
            await service.stop(grace_s=2)
            await store.close()
