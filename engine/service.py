"""The queue service: enqueue, workers per backend, recovery, redelivery and shutdown."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sdclient import SDClient, SDError
from storage import Job, JobStore, NewJob, StorageError

from .background import BackgroundTasks
from .eta import DurationEstimator
from .events import JobEvents, NoEvents
from .images import ImageStore
from .notifier import StatusNotifier
from .pacing import Pacer, PacingLimits
from .status_rules import StatusPolicy, StatusSender
from .worker import BackendWorker

_log = logging.getLogger(__name__)
# A worker that stopped on an unexpected error starts again after this pause, so an error that
# repeats at once does not spin.
_WORKER_RESTART_DELAY_S = 1.0


@dataclass(frozen=True, slots=True)
class Backend:
    """A named WebUI and the client that talks to it."""

    name: str
    client: SDClient


class QueueService:
    """Owns the job store's workers and wakes them when work arrives."""

    def __init__(
        self,
        store: JobStore,
        backends: Sequence[Backend],
        images: ImageStore,
        *,
        default_samplers: Sequence[str] = (),
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 60.0,
        max_queued_per_user: int | None = None,
        cooldown_s: float = 0.0,
        pacing: PacingLimits | None = None,
        status_policy: StatusPolicy | None = None,
        clock: Callable[[], float] = time.time,
        redeliver_every_s: float = 60.0,
        health_every_s: float = 15.0,
    ) -> None:
        self.store = store
        self.images = images
        self.backends = list(backends)
        self.events: JobEvents = NoEvents()
        self._default_samplers = list(default_samplers)
        # The model names offered at the previous health check, for fail_unservable().
        self._offered_before: frozenset[str] | None = None
        self._samplers: dict[str, list[str]] = {}
        self._upscalers: dict[str, list[str]] = {}
        self._backoff = (backoff_initial_s, backoff_max_s)
        self._wakes = [asyncio.Event() for _ in self.backends]
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._workers: list[BackendWorker] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._background = BackgroundTasks()
        self._redeliver_every_s = redeliver_every_s
        self._health_every_s = health_every_s
        self._deliveries = _TrackedEvents(self)
        self._max_queued_per_user = max_queued_per_user
        self._cooldown_s = cooldown_s
        # Wall-clock time for interaction token ages and ETAs; tests can put Discord's clock here.
        self.clock = clock
        self.pacer = Pacer(pacing or PacingLimits())
        self.estimator = DurationEstimator()
        self.notifier = StatusNotifier(
            store,
            self.pacer,
            self.estimator,
            status_policy or StatusPolicy(),
            workers=len(backends),
            clock=lambda: self.clock(),
        )
        self.notifier.hold_reason = self._hold_reason

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def attach(self, events: JobEvents, sender: StatusSender) -> None:
        """Connect the chat side: it receives job events and sends status edits."""
        self.events = events
        self.notifier.sender = sender

    async def start(self) -> None:
        """Recover jobs left by the last run, re-send undelivered outcomes, start the workers.

        Call attach() first: the workers send their events to what is attached at this point.
        """
        if isinstance(self.events, NoEvents) or self.notifier.sender is None:
            _log.warning("queue started without a chat side: results are stored but not posted")
        paused_at = await self.store.paused_at()
        if paused_at is not None:
            self._resumed.clear()
            _log.warning(
                "queue paused by an admin since %s; run /queue-admin resume to start it",
                time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(paused_at)),
            )
        report = await self.store.recover()
        if report.requeued:
            _log.info("recovered %d interrupted jobs: %s", len(report.requeued), report.requeued)
        for job in report.failed:
            _log.warning("job %d failed after too many interruptions", job.id)
        for job in await self.store.undelivered():
            self._background.spawn(self._deliveries.job_finished(job))
        for backend, wake in zip(self.backends, self._wakes, strict=True):
            worker = BackendWorker(
                backend.name,
                backend.client,
                self.store,
                self.images,
                self._deliveries,
                wake,
                self.notifier,
                self._resumed,
                self.estimator,
                backoff_initial_s=self._backoff[0],
                backoff_max_s=self._backoff[1],
            )
            self._workers.append(worker)
            self._tasks.append(
                asyncio.create_task(self._supervise(worker), name=f"worker-{backend.name}")
            )
        self._tasks.append(asyncio.create_task(self.notifier.run(), name="status-notifier"))
        self._tasks.append(asyncio.create_task(self._redeliver_loop(), name="redelivery"))
        self._tasks.append(asyncio.create_task(self._health_loop(), name="backend-health"))
        self._background.spawn(self.refresh_samplers())

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop the workers; a running job goes back to the head of the queue."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for worker in self._workers:
            await worker.drain(grace_s)
        await self.notifier.stop(grace_s)
        await self._background.drain(grace_s)
        self._workers.clear()
        _log.info("queue stopped")

    async def enqueue(self, job: NewJob) -> tuple[Job, int]:
        """Store ``job``, wake the workers, and return it with the number of tasks ahead.

        Raises:
            QueueLimitError: the member already has the most jobs allowed.
            CooldownError: the member's last request was too recent.
        """
        stored, ahead = await self.store.enqueue(
            job, max_queued_per_user=self._max_queued_per_user, cooldown_s=self._cooldown_s
        )
        for wake in self._wakes:
            wake.set()
        _log.info("job %d queued by user %d with %d tasks ahead", stored.id, job.user_id, ahead)
        self.notifier.record_shown(stored.id, ahead)
        # Under the fair policy a new job can move others back; a recount finds out.
        self.notifier.queue_changed()
        return stored, ahead

    async def cancel(self, job_id: int) -> Job | None:
        """Cancel a queued or running job; return it, or None if it had already ended."""
        cancelled = await self.store.cancel(job_id)
        if cancelled is None:
            return None
        _log.info("job %d cancelled", job_id)
        for worker in self._workers:
            await worker.interrupt(job_id)
        await self.notifier.release(job_id)
        self.notifier.queue_changed()
        return cancelled

    async def _supervise(self, worker: BackendWorker) -> None:
        """Run a worker, and restart it after an error it did not expect, such as a full disk.

        The jobs it held go back to the queue with one attempt counted, so a job that breaks
        the worker every time ends failed, with the reason, after queue.max_attempts.
        """
        while True:
            try:
                await worker.run()
                return
            except Exception as exc:
                _log.exception("worker %s stopped on an error; restarting it", worker.name)
                reason = f"the worker for {worker.name} stopped on an unexpected error ({exc})"
            try:
                await self._requeue_held_by(worker.name, reason)
            except Exception:
                # The store failing too (a broken disk, say): the next start recovers the jobs.
                _log.exception("worker %s: cannot put its jobs back in the queue", worker.name)
            await asyncio.sleep(_WORKER_RESTART_DELAY_S)

    async def _requeue_held_by(self, backend: str, reason: str) -> None:
        for job in await self.store.running():
            if job.backend != backend:
                continue
            requeued = await self.store.requeue_interrupted(job.id, reason)
            if requeued.status.is_terminal:
                self._background.spawn(self._deliveries.job_finished(requeued))
        self.notifier.queue_changed()

    async def _health_loop(self) -> None:
        """Mark idle backends up or down, so an outage shows before a job runs into it."""
        while True:
            await asyncio.sleep(self._health_every_s)
            for worker in self._workers:
                if worker.current_job is None:
                    await worker.check_health()
            await self._fail_unservable()

    async def _fail_unservable(self) -> None:
        """Fail queued jobs for a model that no backend offered at this check or the last.

        Two checks in a row, because A1111's refresh of its models folder empties the list
        before it fills it again, so one read can miss models. A backend that never listed its
        models stops the check, and one that is down keeps its last list, so jobs for its
        models wait for it.
        """
        lists = [worker.models for worker in self._workers]
        if not lists or any(models is None for models in lists):
            self._offered_before = None
            return
        offered = frozenset().union(*(models.names for models in lists if models is not None))
        before, self._offered_before = self._offered_before, offered
        if before is None:
            return
        try:
            failed = await self.store.fail_unservable(offered | before)
        except StorageError as exc:
            _log.error("could not fail the jobs whose model is gone: %s", exc)
            return
        for job in failed:
            _log.warning("job %d failed: no backend has its model %s any more", job.id, job.model)
            self._background.spawn(self._deliveries.job_finished(job))
        if failed:
            self.notifier.queue_changed()

    async def _redeliver_loop(self) -> None:
        """Retry outcomes whose delivery failed (a Discord outage, say) while the bot runs.

        A job finished more than one interval ago and still undelivered had its delivery fail.
        Posts carry a nonce and are looked up first, so a retry does not post twice.
        """
        while True:
            await asyncio.sleep(self._redeliver_every_s)
            now = time.time()
            for job in await self.store.undelivered():
                finished_at = job.finished_at if job.finished_at is not None else now
                if (
                    self._deliveries.in_flight(job.id)
                    or now - finished_at < self._redeliver_every_s
                ):
                    continue
                _log.warning("job %d: delivering its outcome again after a failure", job.id)
                self._background.spawn(self._deliveries.job_finished(job))

    def backends_down(self) -> list[str]:
        """Return the names of the backends whose worker cannot reach them now."""
        return [worker.name for worker in self._workers if worker.down_since is not None]

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    async def pause(self) -> None:
        """Let running jobs finish, then start no new one until resume(), even after a restart."""
        await self.store.set_paused(True)
        self._resumed.clear()
        self.notifier.queue_changed()
        _log.info("queue paused")

    async def resume(self) -> None:
        """Start jobs again after pause()."""
        await self.store.set_paused(False)
        self._resumed.set()
        for wake in self._wakes:
            wake.set()
        self.notifier.queue_changed()
        _log.info("queue resumed")

    async def retry(self, job_id: int) -> Job:
        """Queue a failed job again, keeping its id and status message."""
        job = await self.store.retry(job_id)
        for wake in self._wakes:
            wake.set()
        self.notifier.queue_changed()
        return job

    def _hold_reason(self) -> str | None:
        if self.paused:
            return "The queue is paused by an admin; your job waits and starts when it resumes."
        if self._workers and len(self.backends_down()) == len(self._workers):
            return (
                "The image server is not reachable right now; your job waits and starts "
                "when it is back."
            )
        return None

    def samplers(self) -> list[str]:
        """Return the sampler names every backend that reported its list accepts."""
        lists = [names for names in self._samplers.values() if names]
        if not lists:
            return list(self._default_samplers)
        common = [name for name in lists[0] if all(name in other for other in lists[1:])]
        return common or list(self._default_samplers)

    def models(self) -> list[str]:
        """Return the sorted checkpoint names that at least one started backend has listed."""
        names = set[str]()
        for worker in self._workers:
            if worker.models is not None:
                names |= worker.models.names
        return sorted(names, key=str.casefold)

    async def refresh_models(self) -> None:
        """Read every started backend's model list now, instead of at its next health check."""
        for worker in self._workers:
            await worker.refresh_models()

    def upscalers(self) -> list[str]:
        """Return the upscaler names every backend that reported its list offers."""
        lists = [names for names in self._upscalers.values() if names]
        if not lists:
            return []
        return [name for name in lists[0] if all(name in other for other in lists[1:])]

    async def refresh_samplers(self) -> None:
        """Ask every backend for its sampler and upscaler lists; one that is down keeps its old."""
        for backend in self.backends:
            try:
                self._samplers[backend.name] = await backend.client.samplers()
                self._upscalers[backend.name] = await backend.client.upscalers()
            except SDError as exc:
                _log.warning("backend %s: sampler list unavailable (%s)", backend.name, exc)


class _TrackedEvents:
    """The service's events as the workers use them: looked up at each call, deliveries tracked.

    The lookup lets attach() come after the workers exist. The tracking keeps the redelivery
    loop from delivering a job whose first delivery is slow rather than failed.
    """

    def __init__(self, service: QueueService) -> None:
        self._service = service
        self._delivering: set[int] = set()

    def in_flight(self, job_id: int) -> bool:
        return job_id in self._delivering

    async def job_started(self, job: Job) -> None:
        await self._service.events.job_started(job)

    async def job_finished(self, job: Job) -> None:
        if job.id in self._delivering:
            return
        self._delivering.add(job.id)
        try:
            await self._service.events.job_finished(job)
        finally:
            self._delivering.discard(job.id)
