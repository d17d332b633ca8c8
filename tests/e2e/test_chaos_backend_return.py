"""A backend that comes back gets the waiting jobs within 5 s, whatever the worker's retry pause.

A worker that finds its backend down sleeps for its backoff, which doubles up to
``queue.backoff_max_s`` (60 s by default). Neither the health check, which detects that the
backend is back, nor a new request cuts that sleep short, so after a long outage the queue can
stay idle for up to a minute while the backend is up. The backend-outage drill of bench/chaos.py measures the
same thing as ``resume_after_backend_return_s``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from engine import Backend, ImageStore, QueueService
from fakewebui import FakeWebUI
from sdclient import SDClient
from storage import JobStatus, JobStore, NewJob
from tests.conftest import small_params

# The pause the default backoff (1 s, doubling to 60 s) reaches after about 30 s of outage.
RETRY_PAUSE_S = 30.0
# How soon after the backend responds again the queue must run a job.
RESUME_WITHIN_S = 5.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _new_job() -> NewJob:
    params = small_params("a lighthouse at dusk")
    return NewJob(user_id=1, channel_id=2, guild_id=3, params=params.to_dict())


async def _wait(probe: Callable[[], Awaitable[bool]], timeout_s: float, event: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await probe():
        if loop.time() > deadline:
            raise AssertionError(f"{event} did not happen within {timeout_s} s")
        await asyncio.sleep(0.02)


async def test_backend_return_resumes_queue_within_5_s(tmp_path: Path) -> None:
    port = _free_port()
    webui = FakeWebUI(port=port, speed=5000.0)
    async with aiohttp.ClientSession() as session:
        store = await JobStore.open(tmp_path / "queue.db")
        service = QueueService(
            store,
            [Backend("gpu", SDClient(session, f"http://127.0.0.1:{port}"))],
            ImageStore(tmp_path / "images"),
            backoff_initial_s=RETRY_PAUSE_S,
            backoff_max_s=60.0,
        )
        await service.start()
        try:
            job, _ = await service.enqueue(_new_job())

            async def backend_marked_down() -> bool:
                return service.backends_down() == ["gpu"]

            async def job_succeeded() -> bool:
                stored = await store.get(job.id)
                return stored is not None and stored.status is JobStatus.SUCCEEDED

            await _wait(backend_marked_down, 10.0, "marking the backend down")
            await webui.start()
            await _wait(job_succeeded, RESUME_WITHIN_S, "running the job after the return")
        finally:
            await service.stop(grace_s=2)
            await webui.stop()
            await store.close()
