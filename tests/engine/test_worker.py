"""The worker against the WebUI stand-in: order, faults, backoff, shutdown."""

from __future__ import annotations

import asyncio
import shutil

from fakewebui import FakeWebUI
from storage import Job, JobStatus
from tests.conftest import wait_until


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


async def test_worker_routes_jobs_by_model(two_backends) -> None:
    from tests.engine.conftest import ANIME, PHOTO, SHARED

    jobs = [
        await two_backends.add(f"job {index}", model)
        for index, model in enumerate([ANIME, PHOTO, None, SHARED, PHOTO, ANIME, None])
    ]

    finished = [await two_backends.wait_for(job.id) for job in jobs]

    assert [job.status for job in finished] == [JobStatus.SUCCEEDED] * 7
    backends = [job.backend for job in finished]
    assert backends[0] == backends[5] == "gpu-a"
    assert backends[1] == backends[4] == "gpu-b"
    assert {backends[2], backends[3], backends[6]} <= {"gpu-a", "gpu-b"}
    assert [job.result["model"] for job in finished[:2]] == ["anime", "photo"]
    assert finished[3].result["model"] == "shared"
    titles = {
        name: {checkpoint.name: checkpoint.title for checkpoint in webui.state.checkpoints}
        for name, webui in two_backends.webuis.items()
    }
    sent_a = two_backends.sent_checkpoints("gpu-a")
    sent_b = two_backends.sent_checkpoints("gpu-b")
    assert sent_a.count(titles["gpu-a"][ANIME]) == 2
    assert sent_b.count(titles["gpu-b"][PHOTO]) == 2
    assert sent_a.count(None) + sent_b.count(None) == 2
    for webui in two_backends.webuis.values():
        overriding = [body for body in webui.requests if "override_settings" in body]
        assert all(body["override_settings_restore_afterwards"] is True for body in overriding)


async def test_worker_model_job_does_not_block_others(two_backends) -> None:
    from tests.engine.conftest import ANIME, PHOTO

    anime_gpu = two_backends.webuis["gpu-a"]
    anime_gpu.fail_next("hang")
    stuck = await two_backends.add("hangs on gpu-a", ANIME)
    waiting = await two_backends.add("waits for gpu-a", ANIME)
    photo = await two_backends.add("runs on gpu-b", PHOTO)
    anyone = await two_backends.add("any backend", None)

    photo_done = await two_backends.wait_for(photo.id)
    anyone_done = await two_backends.wait_for(anyone.id)
    still_running = await two_backends.store.get(stuck.id)
    still_waiting = await two_backends.store.get(waiting.id)
    anime_gpu.clear_faults()

    assert photo_done.backend == anyone_done.backend == "gpu-b"
    assert still_running.status is JobStatus.RUNNING
    assert still_waiting.status is JobStatus.QUEUED
    assert (await two_backends.wait_for(stuck.id)).backend == "gpu-a"
    assert (await two_backends.wait_for(waiting.id)).backend == "gpu-a"


async def test_worker_unbound_job_goes_to_free_backend(two_backends) -> None:
    from tests.engine.conftest import PHOTO

    photo_gpu = two_backends.webuis["gpu-b"]
    photo_gpu.fail_next("hang")
    stuck = await two_backends.add("hangs on gpu-b", PHOTO)
    while (await two_backends.store.get(stuck.id)).status is not JobStatus.RUNNING:
        await asyncio.sleep(0.01)
    anyone = await two_backends.add("any backend", None)

    anyone_done = await two_backends.wait_for(anyone.id)
    photo_gpu.clear_faults()

    assert anyone_done.backend == "gpu-a"
    assert (await two_backends.wait_for(stuck.id)).status is JobStatus.SUCCEEDED


async def test_worker_fails_job_when_backend_ignores_model(two_backends) -> None:
    from tests.engine.conftest import ANIME, SHARED

    anime_gpu = two_backends.webuis["gpu-a"]
    # The file is removed after the worker listed it, so A1111 would drop the override.
    anime_gpu.models = [SHARED]
    job = await two_backends.add("an anime cat", ANIME)

    failed = await two_backends.wait_for(job.id)

    assert failed.status is JobStatus.FAILED
    assert failed.backend == "gpu-a"
    assert failed.error == (
        f"The image server made this image with the model shared instead of {ANIME}, which "
        "it no longer seems to have, so the image was discarded. Try again or choose another "
        "model."
    )
    for _ in range(200):
        if ANIME not in two_backends.service.models():
            break
        await asyncio.sleep(0.01)
    assert ANIME not in two_backends.service.models()


async def test_worker_fails_job_on_empty_images(queue) -> None:
    queue.webui.fail_next("empty_images")
    job = await queue.add()

    (finished,) = await queue.wait_finished(1)

    assert finished.id == job.id
    assert finished.status is JobStatus.FAILED
    assert finished.error.startswith("The image server sent back no images")


async def test_worker_lists_models_at_start(queue) -> None:
    for _ in range(200):
        if queue.service.models():
            break
        await asyncio.sleep(0.01)

    assert queue.service.models() == [
        "sd_xl_base_1.0.safetensors",
        "v1-5-pruned-emaonly.safetensors",
    ]


async def _wait_status(queue, job_id: int, status: JobStatus) -> Job:
    async def probe() -> Job | None:
        job = await queue.store.get(job_id)
        return job if job is not None and job.status is status else None

    return await wait_until(probe)


async def test_worker_restarted_after_unexpected_error(queue, tmp_path, caplog) -> None:
    images = queue.service.images.root
    shutil.rmtree(images, ignore_errors=True)
    # A file where the image folder belongs: saving any image now fails with an OSError.
    images.write_text("not a folder")

    broken = await queue.add("a boat")
    failed = await _wait_status(queue, broken.id, JobStatus.FAILED)
    images.unlink()
    later = await queue.add("a fox")
    await _wait_status(queue, later.id, JobStatus.SUCCEEDED)

    assert "stopped on an unexpected error" in failed.error
    assert failed.attempts == 3
    assert "worker gpu stopped on an error; restarting it" in caplog.text


async def test_worker_wrong_size_fails_one_job(queue) -> None:
    queue.webui.fail_next("wrong_size")
    wrong = await queue.add("a boat")
    fine = await queue.add("a fox")

    finished = {job.id: job for job in await queue.wait_finished(2)}

    assert finished[wrong.id].status is JobStatus.FAILED
    assert "64x64" in finished[wrong.id].error
    assert finished[fine.id].status is JobStatus.SUCCEEDED
