"""One worker per backend: claim the oldest job it can run, generate it, store the images."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sdclient import (
    BackendRejectedError,
    BackendServerError,
    BackendTimeoutError,
    BackendUnreachableError,
    EmptyResultError,
    InvalidResultError,
    ModelList,
    SDClient,
    SDError,
    Txt2ImgRequest,
    Txt2ImgResult,
)
from storage import InvalidTransitionError, Job, JobStore

from .background import BackgroundTasks
from .eta import DurationEstimator
from .events import JobEvents
from .images import ImageStore
from .notifier import StatusNotifier
from .params import GenerationParams

_log = logging.getLogger(__name__)

# The job_timestamp floor before the first job, earlier than any that A1111 reports.
_NO_TIMESTAMP = "00000000000000"
# How often a worker waiting out a back-off pause probes an unreachable backend.
_RETURN_PROBE_INTERVAL_S = 1.0


class _Retry(Exception):
    """The backend could not take the job; it went back to the queue and the worker waits."""

    def __init__(self, *, unreachable: bool) -> None:
        super().__init__()
        self.unreachable = unreachable


class BackendWorker:
    """Runs one job at a time on one backend, in queue order, until cancelled.

    It claims only jobs that name no model or a model the backend listed, and reads that list
    at start and at each health check.
    """

    def __init__(
        self,
        name: str,
        client: SDClient,
        store: JobStore,
        images: ImageStore,
        events: JobEvents,
        wake: asyncio.Event,
        notifier: StatusNotifier,
        resumed: asyncio.Event,
        estimator: DurationEstimator,
        *,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
    ) -> None:
        self.name = name
        self.client = client
        self.events = events
        self._store = store
        self._images = images
        self._wake = wake
        self._notifier = notifier
        self._resumed = resumed
        self._estimator = estimator
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._backoff_s = backoff_initial_s
        self._background = BackgroundTasks()
        self.current_job: Job | None = None
        # When the backend became unreachable, or None while it works.
        self.down_since: float | None = None
        # The backend's checkpoints, or None until it has listed them.
        self.models: ModelList | None = None
        self._current_since = _NO_TIMESTAMP

    async def run(self) -> None:
        """Process jobs until cancelled, sleeping on the wake event while the queue is empty."""
        _log.info("worker %s started", self.name)
        await self.refresh_models()
        while True:
            # Set while the queue runs; an admin's pause lets the current job finish first.
            await self._resumed.wait()
            # Cleared before the claim, so an enqueue between the claim and the wait still wakes us.
            self._wake.clear()
            # Until the backend lists its models, only jobs that name no model are safe to send.
            served = self.models.names if self.models is not None else frozenset()
            job = await self._store.claim(self.name, models=served)
            if job is None:
                await self._wake.wait()
                continue
            try:
                await self._process(job)
            except _Retry as retry:
                if self.down_since is None:
                    self.down_since = time.time()
                    self._notifier.queue_changed()
                await self._pause_before_retry(unreachable=retry.unreachable)
                self._backoff_s = min(self._backoff_s * 2, self._backoff_max_s)
            else:
                if self.down_since is not None:
                    _log.info(
                        "backend %s is back after %.0f s", self.name, time.time() - self.down_since
                    )
                    self.down_since = None
                    self._notifier.queue_changed()
                self._backoff_s = self._backoff_initial_s

    async def _pause_before_retry(self, *, unreachable: bool) -> None:
        """Wait out the back-off pause, or only until an unreachable backend responds again.

        A backend that returned a server error is reachable, so only the pause protects it.
        """
        if not unreachable:
            await asyncio.sleep(self._backoff_s)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._backoff_s
        while deadline - loop.time() > _RETURN_PROBE_INTERVAL_S:
            await asyncio.sleep(_RETURN_PROBE_INTERVAL_S)
            if await self._answers():
                return
        await asyncio.sleep(max(0.0, deadline - loop.time()))

    async def _answers(self) -> bool:
        try:
            await self.client.progress(retry=False)
        except SDError:
            return False
        return True

    async def drain(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for deliveries that are still in flight."""
        await self._background.drain(timeout_s)

    async def _process(self, job: Job) -> None:
        self.current_job = job
        params = GenerationParams.from_dict(job.params)
        _log.info(
            "job %d started on %s (%dx%d, %d steps, %d images)",
            job.id,
            self.name,
            params.width,
            params.height,
            params.steps,
            params.count,
        )
        self._background.spawn(self.events.job_started(job))
        self._notifier.queue_changed()
        loop = asyncio.get_running_loop()
        started = loop.time()
        poller = asyncio.create_task(self._poll_progress(job))
        try:
            result = await self._generate(job, params)
        except asyncio.CancelledError:
            await asyncio.shield(self._give_back(job))
            raise
        finally:
            poller.cancel()
            self.current_job = None
        if not isinstance(result, str):
            result = self._check_model(job, result)
        if isinstance(result, str):
            finished = await self._finish_failed(job, result)
        else:
            elapsed_s = loop.time() - started
            self._estimator.observe(params, elapsed_s)
            finished = await self._finish_succeeded(job, result, elapsed_s)
        if finished is not None:
            self._background.spawn(self.events.job_finished(finished))
        self._notifier.queue_changed()

    async def check_health(self) -> None:
        """Request the backend's progress and mark the backend up or down by the result."""
        try:
            await self.client.progress(retry=False)
        except BackendUnreachableError as exc:
            if self.down_since is None:
                _log.warning("backend %s is down: %s", self.name, exc)
                self.down_since = time.time()
                self._notifier.queue_changed()
            return
        except SDError:
            return
        if self.down_since is not None:
            _log.info("backend %s is back after %.0f s", self.name, time.time() - self.down_since)
            self.down_since = None
            self._notifier.queue_changed()
            # Jobs may have waited for this backend; look for one now, not at the next enqueue.
            self._wake.set()
        await self.refresh_models()

    async def refresh_models(self) -> None:
        """Read the backend's model list, or keep the last one if the backend does not respond."""
        try:
            listed = ModelList.from_models(await self.client.sd_models(retry=False))
        except SDError as exc:
            _log.warning("backend %s: model list unavailable (%s)", self.name, exc)
            return
        changed = self.models is None or listed.names != self.models.names
        # Replaced even when the names are the same, because a title gains its hash later.
        self.models = listed
        if changed:
            names = sorted(listed.names)
            _log.info("backend %s has %d models: %s", self.name, len(names), ", ".join(names))
            # Jobs for a model that just appeared may be waiting.
            self._wake.set()

    async def interrupt(self, job_id: int) -> bool:
        """Stop ``job_id`` at the backend if it is the job running there; return whether it was.

        The backend returns the partial images, which the worker then discards because the
        job is no longer running.
        """
        if self.current_job is None or self.current_job.id != job_id:
            return False
        interrupted = await self._interrupt_quietly(self._current_since)
        _log.info("job %d: interrupt sent to %s: %s", job_id, self.name, interrupted)
        return interrupted

    async def _poll_progress(self, job: Job) -> None:
        """Report the backend's step count while ``job`` runs, for its status message."""
        while True:
            await asyncio.sleep(self._notifier.policy.progress_interval_s)
            preview = self._notifier.wants_preview(job.id)
            try:
                progress = await self.client.progress(skip_current_image=not preview, retry=False)
            except SDError:
                continue
            if not progress.idle:
                self._notifier.report_progress(
                    job.id, progress.sampling_step, progress.sampling_steps, progress.current_image
                )

    async def _generate(self, job: Job, params: GenerationParams) -> Txt2ImgResult | str:
        """Return the result, or the reason the job failed; raise _Retry to try again later."""
        model = job.model
        request = params.to_request(
            self.models.checkpoint_for(model) if model and self.models else model
        )
        try:
            since = self._current_since = await self.client.job_timestamp_floor()
        except BackendUnreachableError as exc:
            await self._release_unreachable(job, exc)
            raise _Retry(unreachable=True) from exc
        try:
            return await self._run_on_backend(params, request)
        except BackendUnreachableError as exc:
            if exc.may_have_run:
                reason = f"the image server {self.name} closed the connection while working on it"
                requeued = await self._store.requeue_interrupted(job.id, reason)
                _log.warning(
                    "job %d: backend %s disconnected (%s); job %s",
                    job.id,
                    self.name,
                    exc,
                    requeued.status,
                )
                if requeued.status.is_terminal:
                    self._background.spawn(self.events.job_finished(requeued))
            else:
                await self._release_unreachable(job, exc)
            raise _Retry(unreachable=True) from exc
        except BackendServerError as exc:
            if exc.retryable:
                await self._store.release(job.id)
                _log.warning(
                    "job %d: backend %s returned HTTP %s; back in the queue, retrying in %.0f s",
                    job.id,
                    self.name,
                    exc.status,
                    self._backoff_s,
                )
                raise _Retry(unreachable=False) from exc
            return _server_error_reason(exc)
        except BackendTimeoutError as exc:
            interrupted = await self._interrupt_quietly(since)
            _log.warning(
                "job %d: timed out after %.0f s on %s (interrupted: %s)",
                job.id,
                exc.elapsed_s,
                self.name,
                interrupted,
            )
            return (
                f"The image server took longer than {exc.budget_s:.0f} seconds, so the job "
                f"was stopped. Try fewer steps, a smaller size or fewer images."
            )
        except BackendRejectedError as exc:
            return f"The image server rejected the request: {exc.reason}"
        except InvalidResultError as exc:
            return _invalid_result_reason(exc)
        except SDError as exc:
            return f"The image server failed: {exc}"
        except OSError as exc:
            # Only an upscale reads a file: its source image was removed from the image store.
            return f"The source image is gone ({exc.strerror}), so it cannot be upscaled."

    async def _release_unreachable(self, job: Job, exc: SDError) -> None:
        """Put a job that never reached the backend back at the head of the queue."""
        await self._store.release(job.id)
        _log.warning(
            "job %d: backend %s unreachable (%s); back in the queue, retrying in %.0f s",
            job.id,
            self.name,
            exc,
            self._backoff_s,
        )

    async def _run_on_backend(
        self, params: GenerationParams, request: Txt2ImgRequest
    ) -> Txt2ImgResult:
        if params.kind != "upscale":
            return await self.client.txt2img(request)
        source = await self._images.read(params.source_image or "")
        upscaler = params.upscaler or "Lanczos"
        image = await self.client.upscale(source, upscaler=upscaler, scale=params.scale)
        info = {"sampler_name": upscaler}
        return Txt2ImgResult(images=[image], info=info, parameters={}, elapsed_s=0.0)

    def _check_model(self, job: Job, result: Txt2ImgResult) -> Txt2ImgResult | str:
        """Return result, or the reason to fail the job if the backend used another model."""
        requested = job.model
        # Jobs for a model are claimed only once the list exists, but names compare without it.
        models = self.models if self.models is not None else ModelList({})
        if requested is None or models.matches_result(requested, result.info):
            return result
        # A1111, Forge and SD.Next drop an override naming a model they lack, without an error.
        used = result.info.get("sd_model_name")
        _log.warning("job %d: %s used model %s, not %s", job.id, self.name, used, requested)
        self._background.spawn(self.refresh_models())
        return (
            f"The image server made this image with the model {used} instead of {requested}, "
            "which it no longer seems to have, so the image was discarded. Try again or "
            "choose another model."
        )

    async def _finish_succeeded(
        self, job: Job, result: Txt2ImgResult, elapsed_s: float
    ) -> Job | None:
        records = await self._images.save(job.id, result.images)
        payload: dict[str, Any] = {
            "images": records,
            "elapsed_s": round(elapsed_s, 3),
            "sampler": result.info.get("sampler_name"),
            "model": result.info.get("sd_model_name"),
        }
        try:
            finished = await self._store.succeed(job.id, payload)
        except InvalidTransitionError:
            _log.info("job %d was cancelled while running; its images are discarded", job.id)
            return None
        _log.info("job %d done on %s in %.1f s", job.id, self.name, elapsed_s)
        return finished

    async def _finish_failed(self, job: Job, reason: str) -> Job | None:
        try:
            failed = await self._store.fail(job.id, reason)
        except InvalidTransitionError:
            return None
        _log.info("job %d failed on %s: %s", job.id, self.name, reason)
        return failed

    async def _give_back(self, job: Job) -> None:
        """Put a job whose worker is being stopped back at the head of the queue."""
        try:
            await self._store.release(job.id)
        except InvalidTransitionError:
            return
        _log.info("job %d returned to the queue because worker %s is stopping", job.id, self.name)
        try:
            await asyncio.wait_for(self.client.interrupt(), timeout=5)
        except (SDError, TimeoutError) as exc:
            _log.warning("could not interrupt job %d on %s: %s", job.id, self.name, exc)

    async def _interrupt_quietly(self, since: str) -> bool:
        try:
            return await self.client.interrupt_if_running(since)
        except SDError as exc:
            _log.warning("could not interrupt on %s: %s", self.name, exc)
            return False


def _invalid_result_reason(exc: InvalidResultError) -> str:
    if isinstance(exc, EmptyResultError):
        return (
            "The image server sent back no images, which happens when it cannot load a model. "
            "Try again later or choose another model."
        )
    return f"The image server sent back an unusable image ({exc.reason}). Try again."


def _server_error_reason(exc: BackendServerError) -> str:
    if exc.error_type == "OutOfMemoryError":
        return "The image server ran out of GPU memory. Try a smaller size or fewer images."
    detail = f"{exc.error_type}: {exc.reason}" if exc.error_type else str(exc.reason)
    return f"The image server failed ({detail})."
