"""Keep every waiting job's status message current at a small, paced cost.

The notifier tracks, for each queued and running job, what its status message should show and
what it shows now, and decides which edits to send: nearest the front first, exact for the jobs
nearest the front, at round steps further back, never faster than the pacer allows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol

from storage import Job, JobStore

from .eta import DurationEstimator
from .pacing import Pacer
from .params import GenerationParams

_log = logging.getLogger(__name__)


class StatusKind(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"


@dataclass(frozen=True, slots=True)
class StatusView:
    """Content of a status message; ``eta`` is a unix time (start if queued, end if running)."""

    kind: StatusKind
    ahead: int = 0
    eta: float | None = None
    step: int = 0
    steps: int = 0
    note: str | None = None
    preview: bytes | None = field(default=None, compare=False, repr=False)


class StatusSender(Protocol):
    """Sends one status edit; the Discord side implements it."""

    async def send_status(self, job: Job, view: StatusView, *, via_token: bool) -> None:
        """Show ``view`` in the job's status message, through its interaction token if via_token."""


@dataclass(frozen=True, slots=True)
class StatusPolicy:
    """When a status message is worth an edit."""

    exact_positions: int = 10
    max_staleness_s: float = 900.0
    progress_interval_s: float = 5.0
    preview_interval_s: float = 15.0
    debounce_s: float = 0.02
    token_reuse_max_s: float = 840.0
    # Edits in flight at once; the pacer still decides when each may go out.
    max_concurrent_edits: int = 10


@dataclass(slots=True)
class _Tracked:
    desired: StatusView
    shown: StatusView | None = None
    shown_at: float = 0.0
    preview_shown_at: float = 0.0
    sending: asyncio.Task[None] | None = None


def crossed_round_step(shown: int, now: int, exact_positions: int) -> bool:
    """Return whether a position moved from ``shown`` to ``now`` across a round step.

    The steps are every 100 above 100, then 50, 25 and the start of the exact zone.
    """
    steps = [exact_positions, 25, 50] + list(range(100, shown + 1, 100))
    return any(now <= step < shown for step in steps if step >= exact_positions)


class StatusNotifier:
    """Recomputes positions on every queue change and sends the status edits that matter."""

    def __init__(
        self,
        store: JobStore,
        pacer: Pacer,
        estimator: DurationEstimator,
        policy: StatusPolicy,
        *,
        workers: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sender: StatusSender | None = None
        # Why no job can start now (every backend down, say), shown to the jobs nearest the front.
        self.hold_reason: Callable[[], str | None] = lambda: None
        self.policy = policy
        self._store = store
        self._pacer = pacer
        self._estimator = estimator
        self._workers = max(1, workers)
        self._clock = clock
        self._tracked: dict[int, _Tracked] = {}
        self._progress: dict[int, tuple[int, int, bytes | None]] = {}
        self._dirty = asyncio.Event()
        self._queue_changed = True
        # Status edits sent, by why they were due: for logs and benchmarks.
        self.edits: Counter[str] = Counter()

    def queue_changed(self) -> None:
        self._queue_changed = True
        self._dirty.set()

    def record_shown(self, job_id: int, ahead: int) -> None:
        """Note that the first reply already shows ``ahead`` for ``job_id``."""
        view = StatusView(StatusKind.QUEUED, ahead=ahead)
        self._tracked[job_id] = _Tracked(desired=view, shown=view, shown_at=time.monotonic())
        self._dirty.set()

    def report_progress(
        self, job_id: int, step: int, steps: int, preview: bytes | None = None
    ) -> None:
        """Record the backend's progress on a running job, with its preview image if any."""
        if preview is None and job_id in self._progress:
            preview = self._progress[job_id][2]
        self._progress[job_id] = (step, steps, preview)
        self.queue_changed()

    def wants_preview(self, job_id: int) -> bool:
        """Return whether a new preview image could be shown for ``job_id`` now."""
        tracked = self._tracked.get(job_id)
        if tracked is None:
            return False
        return time.monotonic() - tracked.preview_shown_at >= self.policy.preview_interval_s

    def eta_for(self, ahead: int) -> float:
        """Return when a job with ``ahead`` tasks before it should start, as a unix time."""
        running = ahead if ahead < self._workers else self._workers
        waiting = max(0, ahead - running)
        mean_s = self._estimator.mean_job_s()
        return self._clock() + (running * mean_s / 2 + waiting * mean_s) / self._workers

    async def release(self, job_id: int) -> None:
        """Stop editing ``job_id``'s status, after any edit already on its way."""
        tracked = self._tracked.pop(job_id, None)
        self._progress.pop(job_id, None)
        if tracked is not None and tracked.sending is not None:
            await asyncio.wait({tracked.sending})

    async def run(self) -> None:
        """Send status edits until cancelled."""
        wake_s: float | None = None
        while True:
            try:
                await asyncio.wait_for(self._dirty.wait(), timeout=wake_s)
            except TimeoutError:
                pass
            if self._queue_changed:
                # A burst of enqueues or a finish followed by a start becomes one recount.
                await asyncio.sleep(self.policy.debounce_s)
                self._queue_changed = False
                self._dirty.clear()
                await self._refresh()
            else:
                # Only an edit finished: the positions are unchanged, so no recount is needed.
                self._dirty.clear()
            wake_s = self._send_due()

    async def stop(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for edits on their way, then cancel the rest."""
        sending = [tracked.sending for tracked in self._tracked.values() if tracked.sending]
        if sending:
            await asyncio.wait(sending, timeout=timeout_s)
        for task in sending:
            task.cancel()

    async def _refresh(self) -> None:
        positions = await self._store.positions()
        running = await self._store.running()
        now = self._clock()
        current: dict[int, StatusView] = {}
        for job in running:
            current[job.id] = self._running_view(job, now)
        note = self.hold_reason()
        for job_id, ahead in positions.items():
            eta = None if note else self.eta_for(ahead)
            current[job_id] = StatusView(StatusKind.QUEUED, ahead=ahead, eta=eta, note=note)
        for job_id in [job_id for job_id in self._tracked if job_id not in current]:
            del self._tracked[job_id]
        monotonic = time.monotonic()
        for job_id, view in current.items():
            tracked = self._tracked.get(job_id)
            if tracked is not None:
                tracked.desired = view
            elif view.kind is StatusKind.QUEUED and view.ahead > self.policy.exact_positions:
                # A far-back job found after a restart: assume its message is right until it
                # crosses a round step or goes stale, instead of editing them all at once.
                self._tracked[job_id] = _Tracked(desired=view, shown=view, shown_at=monotonic)
            else:
                self._tracked[job_id] = _Tracked(desired=view)

    def _running_view(self, job: Job, now: float) -> StatusView:
        default = (0, int(job.params.get("steps", 0)), None)
        step, steps, preview = self._progress.get(job.id, default)
        started = job.started_at if job.started_at is not None else now
        predicted = self._estimator.predict_s(GenerationParams.from_dict(job.params))
        eta = max(now, started + predicted)
        return StatusView(StatusKind.RUNNING, eta=eta, step=step, steps=steps, preview=preview)

    def _send_due(self) -> float | None:
        """Start the edits that are due, in priority order; return when to look again."""
        now = time.monotonic()
        due: list[tuple[tuple[int, int], int]] = []
        wake_s: float | None = None
        for job_id, tracked in self._tracked.items():
            if tracked.sending is not None:
                continue
            wait_s = self._wait_before_edit(tracked, now)
            if wait_s == 0:
                due.append((_priority(tracked), job_id))
            elif wait_s is not None:
                wake_s = wait_s if wake_s is None else min(wake_s, wait_s)
        due.sort()
        in_flight = sum(1 for tracked in self._tracked.values() if tracked.sending is not None)
        for _, job_id in due[: max(0, self.policy.max_concurrent_edits - in_flight)]:
            tracked = self._tracked[job_id]
            tracked.sending = asyncio.create_task(self._send(job_id, tracked, tracked.desired))
        # Edits left over wait for a slot: every finished edit sets the dirty event.
        return wake_s

    def _wait_before_edit(self, tracked: _Tracked, now: float) -> float | None:
        """Return 0 if an edit is due now, seconds until one may be due, or None if none is."""
        desired, shown = tracked.desired, tracked.shown
        if shown is None or desired.kind is not shown.kind:
            return 0.0
        age_s = now - tracked.shown_at
        if desired.kind is StatusKind.RUNNING:
            if desired.step == shown.step:
                return None
            return max(0.0, self.policy.progress_interval_s - age_s)
        exact = self.policy.exact_positions
        if desired.note != shown.note and desired.ahead <= exact:
            return 0.0
        if desired.ahead == shown.ahead:
            return None
        if desired.ahead <= exact or crossed_round_step(shown.ahead, desired.ahead, exact):
            return 0.0
        return max(0.0, self.policy.max_staleness_s - age_s)

    async def _send(self, job_id: int, tracked: _Tracked, view: StatusView) -> None:
        try:
            await self._send_view(job_id, tracked, view)
        except Exception:
            _log.exception("status edit for job %d failed", job_id)
            tracked.shown, tracked.shown_at = view, time.monotonic()
        finally:
            tracked.sending = None
            self._dirty.set()

    async def _send_view(self, job_id: int, tracked: _Tracked, view: StatusView) -> None:
        job = await self._store.get(job_id)
        if job is None or job.status_message_id is None or self.sender is None:
            # The first reply is still on its way; the next change will try again.
            return
        via_token = self.token_fresh(job)
        if via_token:
            await self._pacer.acquire(token_key=job.id)
        else:
            await self._pacer.acquire(channel_id=job.status_channel_id or job.channel_id)
        if self._tracked.get(job_id) is not tracked:
            return
        now = time.monotonic()
        # Uploads cost more than text, so a preview goes out at most every preview_interval_s
        # and only where the bot may attach files.
        attach = (
            view.preview is not None
            and now - tracked.preview_shown_at >= self.policy.preview_interval_s
            and _can_attach(job)
        )
        sent = view if attach else replace(view, preview=None)
        await self.sender.send_status(job, sent, via_token=via_token)
        self.edits[self._reason(tracked.shown, sent)] += 1
        tracked.shown, tracked.shown_at = sent, now
        if attach:
            tracked.preview_shown_at = now

    def _reason(self, shown: StatusView | None, sent: StatusView) -> str:
        if shown is None or shown.kind is not sent.kind:
            return "state"
        if sent.kind is StatusKind.RUNNING:
            return "progress"
        exact = self.policy.exact_positions
        if sent.ahead <= exact:
            return "exact"
        if crossed_round_step(shown.ahead, sent.ahead, exact):
            return "round_step"
        return "stale"

    def token_fresh(self, job: Job) -> bool:
        """Return whether the job's interaction token may still be used, with a safety margin."""
        if job.interaction_token is None or job.interaction_created_at is None:
            return False
        return self._clock() - job.interaction_created_at < self.policy.token_reuse_max_s


# Discord's ATTACH_FILES permission bit.
_ATTACH_FILES = 1 << 15


def _can_attach(job: Job) -> bool:
    return job.app_permissions is not None and bool(job.app_permissions & _ATTACH_FILES)


def _priority(tracked: _Tracked) -> tuple[int, int]:
    changed_state = tracked.shown is None or tracked.shown.kind is not tracked.desired.kind
    return (0 if changed_state else 1, tracked.desired.ahead)
