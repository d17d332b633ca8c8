"""A queue service with real storage and a real WebUI stand-in, and no Discord."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from engine import Backend, GenerationParams, ImageStore, QueueService
from fakewebui import FakeWebUI
from sdclient import SDClient
from storage import Job, JobStore, NewJob


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
        values = {
            "prompt": prompt,
            "negative_prompt": "",
            "width": 64,
            "height": 64,
            "steps": 4,
            "cfg_scale": 7.0,
            "seed": 1,
            "sampler": "Euler a",
            "count": 1,
        } | params
        job, _ = await self.service.enqueue(
            NewJob(user_id=1, channel_id=2, guild_id=3, params=GenerationParams(**values).to_dict())
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
