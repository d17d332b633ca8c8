"""How long the jobs nearest the front showed a wrong number of tasks ahead, from exact times.

bench/status_fanout.py calls this after the queue has drained. It needs no sampling: the tasks
ahead of a waiting job at any moment follow from when the jobs served before it started and
finished (one backend serves them one at a time, in claim order), and what its status message
showed follows from the times at which the fake Discord recorded the reply and each edit.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Served:
    """One job, in the order the backend took them, with times on Discord's clock."""

    job_id: int
    started_at: float
    finished_at: float
    # (time, number of tasks ahead shown, or None for any other text), oldest first.
    shown: list[tuple[float, int | None]]
    # When the job's interaction token stopped being used (14 minutes after the request).
    token_fresh_until: float


@dataclass
class Staleness:
    """The longest wrong spells, overall and split by whether the job's token was in use."""

    longest_s: float = 0.0
    longest_fresh_token_s: float = 0.0
    longest_old_token_s: float = 0.0
    # The longest time from a change of position to the status message showing it (or a newer
    # position): the same spells, measured per change.
    slowest_change_s: float = 0.0
    slowest_change_fresh_token_s: float = 0.0
    slowest_change_old_token_s: float = 0.0
    spells: int = 0
    change_delays: list[float] = field(default_factory=list)

    def add(self, start: float, end: float, token_fresh_until: float) -> None:
        length = end - start
        self.spells += 1
        self.longest_s = max(self.longest_s, length)
        if start < token_fresh_until:
            self.longest_fresh_token_s = max(self.longest_fresh_token_s, length)
        else:
            self.longest_old_token_s = max(self.longest_old_token_s, length)

    def add_change(self, change: float, shown_at: float, token_fresh_until: float) -> None:
        delay = shown_at - change
        self.change_delays.append(delay)
        self.slowest_change_s = max(self.slowest_change_s, delay)
        if change < token_fresh_until:
            self.slowest_change_fresh_token_s = max(self.slowest_change_fresh_token_s, delay)
        else:
            self.slowest_change_old_token_s = max(self.slowest_change_old_token_s, delay)


def nearest_jobs_staleness(served: list[Served], nearest: int, since: float) -> Staleness:
    """Measure the wrong spells of every job while it was one of the ``nearest`` queued jobs.

    A queued job is one of the nearest once fewer than ``nearest`` queued jobs are before it, that
    is from the start of the job ``nearest`` places before it, and stays so until it starts.
    ``since`` is when the measurement begins (the backend's start).
    """
    result = Staleness()
    for index, job in enumerate(served):
        window_start = since if index < nearest else served[index - nearest].started_at
        window_start = max(window_start, since)
        if window_start >= job.started_at:
            continue
        before = sorted(earlier.finished_at for earlier in served[:index])
        _measure(job, before, window_start, result)
    return result


def _measure(job: Served, before: list[float], start: float, result: Staleness) -> None:
    def truth(moment: float) -> int:
        # Jobs served before this one that had not finished: running or still queued.
        return len(before) - bisect_right(before, moment)

    def display(moment: float) -> int | None:
        value = None
        for at, shown in job.shown:
            if at > moment:
                break
            value = shown
        return value

    end = job.started_at
    moments = sorted(
        {start}
        | {at for at in before if start < at < end}
        | {at for at, _ in job.shown if start < at < end}
    )
    wrong_since: float | None = None
    for moment in moments:
        wrong = display(moment) != truth(moment)
        if wrong and wrong_since is None:
            wrong_since = moment
        elif not wrong and wrong_since is not None:
            result.add(wrong_since, moment, job.token_fresh_until)
            wrong_since = None
    if wrong_since is not None:
        result.add(wrong_since, end, job.token_fresh_until)
    for change in (start, *(at for at in before if start < at < end)):
        ahead = truth(change)
        shown = display(change)
        if shown is not None and shown <= ahead:
            continue
        caught_up = next(
            (at for at, value in job.shown if at > change and value is not None and value <= ahead),
            end,
        )
        result.add_change(change, min(caught_up, end), job.token_fresh_until)
