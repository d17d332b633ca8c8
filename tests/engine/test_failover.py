"""Two backends: a backend that dies mid-job hands the job to the other, in order."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from engine import Backend, ImageStore, QueueService
from fakewebui import FakeWebUI
from sdclient import SDClient
from storage import JobStatus, JobStore, NewJob
from tests.conftest import small_params
from tests.engine.conftest import RecordingEvents

PARAMS = small_params("p")


async def test_backend_dying_mid_job_hands_job_to_other(tmp_path: Path) -> None:
    async with (
        FakeWebUI(speed=0.5) as doomed,
        FakeWebUI(speed=0.5) as survivor,
        aiohttp.ClientSession() as session,
    ):
        store = await JobStore.open(tmp_path / "q.db")
        service = QueueService(
            store,
            [
                Backend("doomed", SDClient(session, doomed.url)),
                Backend("survivor", SDClient(session, survivor.url)),
            ],
            ImageStore(tmp_path / "images"),
            backoff_initial_s=0.05,
            backoff_max_s=0.2,
        )
        events = RecordingEvents(store=store)
        service.events = events
        for index in range(4):
            await service.enqueue(
                NewJob(
                    user_id=index,
                    channel_id=1,
                    guild_id=1,
                    params={**PARAMS.to_dict(), "prompt": f"job {index}"},
                )
            )
        await service.start()
        try:
            while not doomed.requests:
                await asyncio.sleep(0.01)
            doomed_job = doomed.requests[0]["prompt"]
            await doomed.stop()
            survivor.speed = 2000.0
            while len(events.finished) < 4:
                await asyncio.sleep(0.02)
        finally:
            await service.stop(grace_s=2)
            await store.close()

    assert [job.status for job in events.finished] == [JobStatus.SUCCEEDED] * 4
    by_prompt = {job.params["prompt"]: job for job in events.finished}
    assert by_prompt[doomed_job].backend == "survivor"
    assert by_prompt[doomed_job].attempts == 1
    # The survivor was already busy with the next job when the other backend died; after that,
    # the interrupted job went first, ahead of everything still waiting.
    after_failure = [request["prompt"] for request in survivor.requests][1:]
    assert after_failure[0] == doomed_job
    assert after_failure == sorted(after_failure)


async def test_health_loop_marks_idle_backend_down_and_up(tmp_path: Path) -> None:
    webui = FakeWebUI(speed=2000.0)
    await webui.start()
    port = int(webui.url.rsplit(":", 1)[1])
    async with aiohttp.ClientSession() as session:
        store = await JobStore.open(tmp_path / "q.db")
        service = QueueService(
            store,
            [Backend("gpu", SDClient(session, webui.url))],
            ImageStore(tmp_path / "images"),
            health_every_s=0.05,
        )
        service.events = RecordingEvents(store=store)
        await service.start()
        try:
            await webui.stop()
            for _ in range(100):
                if service.backends_down():
                    break
                await asyncio.sleep(0.02)
            down = service.backends_down()
            async with FakeWebUI(port=port, speed=2000.0):
                for _ in range(100):
                    if not service.backends_down():
                        break
                    await asyncio.sleep(0.02)
                up_again = service.backends_down()
        finally:
            await service.stop(grace_s=1)
            await store.close()

    assert down == ["gpu"]
    assert up_again == []
