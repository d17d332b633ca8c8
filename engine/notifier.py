"""Keep every waiting job's status message current at a small, paced cost.

The notifier tracks, for each queued and running job, what its status message should show and
what it shows now, and decides which edits to send: nearest the front first, exact for the jobs
nearest the front, at round steps further back, never faster than the pacer allows.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from storage import Job, JobStore

from .eta import DurationEstimator
from .pacing import Pacer
from .params import GenerationParams
from .status_rules import (
    StatusKind,
    StatusPolicy,
    StatusSender,
    StatusView,
    crossed_round_step,
    differs,
)

_log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Tracked:
    desired: StatusView
    shown: StatusView | None = None
    shown_at: float = 0.0
    preview_shown_at: float = 0.0
    sending: asyncio.Task[None] | None = None
    # Monotonic time before which edits wait, because the first reply's id is not stored yet.
    not_before: float = 0.0
    # Monotonic time since which the message has shown something other than ``desired``, while
    # that waits out the coalescing window. An edit that lands after a newer change leaves it set,
    # so the next edit goes at once: the window bounds how long a message is wrong, not each edit.
    changed_at: float | None = None


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
        # Jobs running or at the front of the queue, recounted on every change.
        self._front: set[int] = set()
        # Far-back jobs with an edit due now (by priority) or later (by monotonic time). The
        # whole-queue recount fills both heaps, and each entry is checked again when taken.
        self._far_due: list[tuple[tuple[int, int], int]] = []
        self._far_later: list[tuple[float, int]] = []
        self._full_recount_at = 0.0
        self._full_recount_pending = True
        self._in_flight = 0
        self._far_in_flight = 0
        # Status edits sent, by why they were due: for logs and benchmarks.
        self.edits: Counter[str] = Counter()

    def queue_changed(self) -> None:
        self._queue_changed = True
        self._full_recount_pending = True
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
                # asyncio.timeout, unlike wait_for in Python 3.11, never swallows a cancel that
                # arrives as the event is set.
                async with asyncio.timeout(wake_s):
                    await self._dirty.wait()
            except TimeoutError:
                pass
            if self._queue_changed or self._full_recount_due():
                # A burst of enqueues or a finish followed by a start becomes one recount.
                await asyncio.sleep(self.policy.debounce_s)
                self._queue_changed = False
                self._dirty.clear()
                await self._refresh()
            else:
                # Only an edit finished: the positions are unchanged, so no recount is needed.
                self._dirty.clear()
            wake_s = _earliest(self._send_due(), self._full_recount_wait())

    async def stop(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for edits on their way, then cancel the rest."""
        sending = [tracked.sending for tracked in self._tracked.values() if tracked.sending]
        if sending:
            await asyncio.wait(sending, timeout=timeout_s)
        for task in sending:
            task.cancel()

    def _full_recount_due(self) -> bool:
        return self._full_recount_pending and time.monotonic() >= self._full_recount_at

    def _full_recount_wait(self) -> float | None:
        if not self._full_recount_pending:
            return None
        return max(0.0, self._full_recount_at - time.monotonic())

    def _front_size(self) -> int:
        # Up to the first round step past the exact zone, so its crossing is seen at once.
        return max(self.policy.exact_positions, 100) + 1

    async def _refresh(self) -> None:
        await self._refresh_front()
        if self._full_recount_due():
            started = time.monotonic()
            self._full_recount_pending = False
            await self._refresh_all()
            took_s = time.monotonic() - started
            self._full_recount_at = time.monotonic() + max(
                self.policy.full_recount_min_s, 10 * took_s
            )

    async def _refresh_front(self) -> None:
        limit = self._front_size()
        positions = await self._store.front_positions(limit)
        running = await self._store.running()
        now = self._clock()
        current = {job.id: self._running_view(job, now) for job in running}
        note = self.hold_reason()
        for job_id, ahead in positions.items():
            current[job_id] = self._queued_view(ahead, note)
        whole_queue = len(positions) < limit
        for job_id in self._front - current.keys():
            tracked = self._tracked.get(job_id)
            # A job that ran has left the queue, and so has any job once the whole queue fits in
            # the front. A job pushed just past the front by a requeue waits for the full recount.
            if tracked is not None and (tracked.desired.kind is StatusKind.RUNNING or whole_queue):
                del self._tracked[job_id]
        self._front = set(current)
        for job_id, view in current.items():
            self._track(job_id, view, time.monotonic())

    async def _refresh_all(self) -> None:
        """Recount every queued job a page at a time, letting other work run between pages."""
        note = self.hold_reason()
        seen: set[int] = set()
        self._far_due.clear()
        self._far_later.clear()
        async for page in self._store.position_pages(_PAGE_SIZE):
            monotonic = time.monotonic()
            for job_id, ahead in page.items():
                seen.add(job_id)
                if job_id in self._front:
                    continue
                tracked = self._track(job_id, self._queued_view(ahead, note), monotonic)
                self._schedule_far(job_id, tracked, monotonic)
            await asyncio.sleep(0)
        for job_id in [job_id for job_id in self._tracked if job_id not in seen]:
            if job_id not in self._front:
                del self._tracked[job_id]

    def _queued_view(self, ahead: int, note: str | None) -> StatusView:
        eta = None if note else self.eta_for(ahead)
        return StatusView(StatusKind.QUEUED, ahead=ahead, eta=eta, note=note)

    def _track(self, job_id: int, view: StatusView, monotonic: float) -> _Tracked:
        tracked = self._tracked.get(job_id)
        if tracked is not None:
            shown = tracked.shown
            if tracked.changed_at is None and shown is not None and differs(view, shown):
                tracked.changed_at = monotonic
            tracked.desired = view
        elif view.kind is StatusKind.QUEUED and view.ahead > self.policy.exact_positions:
            # A far-back job found after a restart: assume its message is right until it
            # crosses a round step or goes stale, instead of editing them all at once.
            tracked = self._tracked[job_id] = _Tracked(desired=view, shown=view, shown_at=monotonic)
        else:
            tracked = self._tracked[job_id] = _Tracked(desired=view)
        return tracked

    def _schedule_far(self, job_id: int, tracked: _Tracked, monotonic: float) -> None:
        wait_s = self._wait_before_edit(tracked, monotonic)
        if wait_s == 0:
            heapq.heappush(self._far_due, (_priority(tracked), job_id))
        elif wait_s is not None:
            heapq.heappush(self._far_later, (monotonic + wait_s, job_id))

    def _running_view(self, job: Job, now: float) -> StatusView:
        default = (0, int(job.params.get("steps", 0)), None)
        step, steps, preview = self._progress.get(job.id, default)
        started = job.started_at if job.started_at is not None else now
        predicted = self._estimator.predict_s(GenerationParams.from_dict(job.params))
        eta = max(now, started + predicted)
        return StatusView(StatusKind.RUNNING, eta=eta, step=step, steps=steps, preview=preview)

    def _send_due(self) -> float | None:
        """Start the edits that are due, in priority order, and return when to look again.

        Only the front of the queue is scanned. Far-back jobs come from the whole-queue recount,
        so a pass costs the same whatever the length of the queue.
        """
        now = time.monotonic()
        while self._far_later and self._far_later[0][0] <= now:
            _, job_id = heapq.heappop(self._far_later)
            if (tracked := self._tracked.get(job_id)) is not None:
                heapq.heappush(self._far_due, (_priority(tracked), job_id))
        due: list[tuple[tuple[int, int], int]] = []
        wake_s: float | None = None
        for job_id in self._front:
            tracked = self._tracked.get(job_id)
            if tracked is None or tracked.sending is not None:
                continue
            wait_s = self._wait_before_edit(tracked, now)
            if wait_s == 0:
                due.append((_priority(tracked), job_id))
            elif wait_s is not None:
                wake_s = _earliest(wake_s, wait_s)
        due.sort()
        free = self.policy.max_concurrent_edits - self._in_flight
        for _, job_id in due[: max(0, free)]:
            self._start_edit(job_id, self._tracked[job_id])
            free -= 1
        far_free = min(free, self.policy.max_far_edits - self._far_in_flight)
        while far_free > 0 and self._far_due:
            _, job_id = heapq.heappop(self._far_due)
            tracked = self._tracked.get(job_id)
            if tracked is None or tracked.sending is not None or job_id in self._front:
                continue
            if self._wait_before_edit(tracked, now) == 0:
                self._start_edit(job_id, tracked, far=True)
                far_free -= 1
        if self._far_later:
            wake_s = _earliest(wake_s, self._far_later[0][0] - now)
        # Edits left over wait for a slot: every finished edit sets the dirty event.
        return wake_s

    def _start_edit(self, job_id: int, tracked: _Tracked, *, far: bool = False) -> None:
        self._in_flight += 1
        self._far_in_flight += far
        sending = self._send(job_id, tracked, tracked.desired, far=far)
        tracked.sending = asyncio.create_task(sending)

    def _wait_before_edit(self, tracked: _Tracked, now: float) -> float | None:
        """Return 0 if an edit is due now, seconds until one may be due, or None if none is."""
        if tracked.not_before > now:
            return tracked.not_before - now
        desired, shown = tracked.desired, tracked.shown
        if shown is None or desired.kind is not shown.kind:
            return self._coalesce_wait(tracked, now)
        age_s = now - tracked.shown_at
        exact = self.policy.exact_positions
        if desired.kind is StatusKind.RUNNING:
            wait_s = None if desired.step == shown.step else self.policy.progress_interval_s - age_s
        elif desired.ahead <= exact and (desired.ahead, desired.note) != (shown.ahead, shown.note):
            return self._coalesce_wait(tracked, now)
        elif desired.ahead == shown.ahead:
            wait_s = None
        elif crossed_round_step(shown.ahead, desired.ahead, exact):
            wait_s = 0.0
        else:
            wait_s = self.policy.max_staleness_s - age_s
        # No change is waiting out the coalescing window, so the next one starts a new window.
        tracked.changed_at = None
        return None if wait_s is None else max(0.0, wait_s)

    def _coalesce_wait(self, tracked: _Tracked, now: float) -> float:
        if tracked.changed_at is None:
            tracked.changed_at = now
        return max(0.0, tracked.changed_at + self.policy.coalesce_s - now)

    async def _send(self, job_id: int, tracked: _Tracked, view: StatusView, *, far: bool) -> None:
        try:
            await self._send_view(job_id, tracked, view)
        except Exception:
            _log.exception("status edit for job %d failed", job_id)
            tracked.shown, tracked.shown_at = view, time.monotonic()
        finally:
            tracked.sending = None
            self._in_flight -= 1
            self._far_in_flight -= far
            self._dirty.set()

    async def _send_view(self, job_id: int, tracked: _Tracked, view: StatusView) -> None:
        job = await self._store.get(job_id)
        if job is None or self.sender is None:
            return
        if job.status_message_id is None and tracked.not_before == 0.0:
            # The first reply is most likely on its way, and storing its id takes a moment.
            # After a grace period the edit goes out anyway: the sender can still reach a
            # reply whose id was never stored through the interaction.
            tracked.not_before = time.monotonic() + _REPLY_GRACE_S
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
        if not differs(tracked.desired, sent):
            tracked.changed_at = None
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


# Jobs per page of the whole-queue recount: small enough that a page never blocks the event loop
# for long.
_PAGE_SIZE = 1000
# How long an edit waits for the first reply's id to be stored before going out without it.
_REPLY_GRACE_S = 5.0

# Discord's ATTACH_FILES permission bit.
_ATTACH_FILES = 1 << 15


def _can_attach(job: Job) -> bool:
    return job.app_permissions is not None and bool(job.app_permissions & _ATTACH_FILES)


def _priority(tracked: _Tracked) -> tuple[int, int]:
    changed_state = tracked.shown is None or tracked.shown.kind is not tracked.desired.kind
    return (0 if changed_state else 1, tracked.desired.ahead)


def _earliest(first: float | None, second: float | None) -> float | None:
    if first is None:
        return second
    return first if second is None else min(first, second)
