"""The worker against the WebUI stand-in: order, faults, backoff, shutdown."""

from __future__ import annotations

import asyncio

from fakewebui import FakeWebUI
from storage import JobStatus


async def test_worker_runs_jobs_in_fifo_order(queue) -> None:
    jobs = [await queue.add(f"picture {index}") for index in range(5)]

    finished = await queue.wait_finished(5)

    assert queue.events.started == [job.id for job in jobs]
    assert [job.status for job in finished] == [JobStatus.SUCCEEDED] * 5
    assert [payload["prompt"] for payload in queue.webui.requests] == [
        f"picture {index}" for index in range(5)
    ]


async def test_worker_stores_images_before_delivery(queue) -> None:
    job = await queue.add(count=3)

    (finished,) = await queue.wait_finished(1)

    records = finished.result["images"]
    assert len(records) == 3
    for record in records:
        assert queue.service.images.path(record).read_bytes().startswith(b"\x89PNG")
    assert finished.id == job.id


async def test_worker_starts_next_job_while_delivering(queue) -> None:
    queue.events.delivery_delay_s = 0.5
    first = await queue.add("first")
    second = await queue.add("second")

    await queue.wait_finished(2)

    overlapping = dict(queue.events.started_while_delivering)
    assert first.id in overlapping[second.id]


async def test_worker_server_error_fails_job(queue) -> None:
    queue.webui.fail_next("oom")
    failed = await queue.add("too big")
    fine = await queue.add("small")

    finished = await queue.wait_finished(2)

    by_id = {job.id: job for job in finished}
    assert by_id[failed.id].status is JobStatus.FAILED
    assert "ran out of GPU memory" in by_id[failed.id].error
    assert by_id[fine.id].status is JobStatus.SUCCEEDED


async def test_worker_fails_job_on_broken_image(queue) -> None:
    queue.webui.fail_next("broken_image")
    job = await queue.add()

    (finished,) = await queue.wait_finished(1)

    assert finished.id == job.id
    assert finished.status is JobStatus.FAILED
    assert "unusable image" in finished.error


async def test_worker_times_out_hung_backend_and_interrupts(queue) -> None:
    queue.webui.fail_next("hang")
    hung = await queue.add("hangs")

    (finished,) = await queue.wait_finished(1)
    queue.webui.clear_faults()

    assert finished.id == hung.id
    assert finished.status is JobStatus.FAILED
    assert "took longer than 2 seconds" in finished.error


async def test_worker_keeps_job_queued_while_backend_unreachable(queue) -> None:
    port = int(queue.webui.url.rsplit(":", 1)[1])
    await queue.webui.stop()
    job = await queue.add()
    await asyncio.sleep(0.3)

    waiting = await queue.store.get(job.id)
    assert waiting.status is JobStatus.QUEUED
    assert waiting.attempts == 0

    async with FakeWebUI(port=port, speed=5000.0):
        (finished,) = await queue.wait_finished(1)
    assert finished.status is JobStatus.SUCCEEDED


async def test_worker_wakes_on_enqueue_after_idle(queue) -> None:
    await asyncio.sleep(0.2)

    job = await queue.add()

    (finished,) = await queue.wait_finished(1)
    assert finished.id == job.id


async def test_service_stop_returns_running_job_to_queue(queue) -> None:
    queue.webui.speed = 1.0
    job = await queue.add(steps=50, width=512, height=512)
    while not queue.events.started:
        await asyncio.sleep(0.01)

    await queue.service.stop(grace_s=1)

    stopped = await queue.store.get(job.id)
    assert stopped.status is JobStatus.QUEUED
    assert (await queue.store.tasks_ahead(job.id)) == 0


async def test_failed_delivery_is_retried_while_running(tmp_path) -> None:
    import aiohttp

    from engine import Backend, ImageStore, QueueService
    from sdclient import SDClient
    from tests.engine.conftest import RecordingEvents

    class FlakyEvents(RecordingEvents):
        failures = 1

        async def job_finished(self, job) -> None:
            if self.failures:
                self.failures -= 1
                raise RuntimeError("Discord is down")
            await super().job_finished(job)

    async with FakeWebUI(speed=5000.0) as webui, aiohttp.ClientSession() as session:
        from storage import JobStore

        store = await JobStore.open(tmp_path / "q.db")
        service = QueueService(
            store,
            [Backend("gpu", SDClient(session, webui.url))],
            ImageStore(tmp_path / "i"),
            redeliver_every_s=0.2,
        )
        events = FlakyEvents(store=store)
        service.events = events
        await service.start()
        try:
            from engine import GenerationParams
            from storage import NewJob

            params = GenerationParams("p", "", 64, 64, 4, 7.0, 1, "Euler a", 1).to_dict()
            job, _ = await service.enqueue(
                NewJob(user_id=1, channel_id=2, guild_id=3, params=params)
            )
            for _ in range(200):
                if events.finished:
                    break
                await asyncio.sleep(0.05)
        finally:
            await service.stop(grace_s=1)
            await store.close()

    assert [finished.id for finished in events.finished] == [job.id]
