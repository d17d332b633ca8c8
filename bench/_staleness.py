"""How long the jobs nearest the front showed a wrong number of tasks ahead, from exact times.

bench/status_fanout.py calls this after the queue has drained, and no sampling is needed. One
backend serves the jobs one at a time in claim order, so the tasks ahead of a waiting job at any
moment follow from when the jobs before it started and finished. What its status message
displayed follows from when the fake Discord recorded the reply and each edit.
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
    # (time, number of tasks ahead displayed, or None for any other text), oldest first.
    displayed: list[tuple[float, int | None]]
    # When the job's interaction token stopped being used (14 minutes after the request).
    token_fresh_until: float


@dataclass
class Staleness:
    """Maximum lengths of wrong spells and change delays, split by whether the token was in use.

    A wrong spell is a time during which the message displayed a wrong number without a break. A
    change delay runs from a change of position to the message displaying it or a newer position.
    """

    longest_s: float = 0.0
    longest_fresh_token_s: float = 0.0
    longest_old_token_s: float = 0.0
    slowest_change_fresh_token_s: float = 0.0
    slowest_change_old_token_s: float = 0.0
    spells: int = 0
    change_delays: list[float] = field(default_factory=list)

    @property
    def slowest_change_s(self) -> float:
        return max(self.change_delays, default=0.0)

    def add_spell(self, start: float, end: float, token_fresh_until: float) -> None:
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
        if change < token_fresh_until:
            self.slowest_change_fresh_token_s = max(self.slowest_change_fresh_token_s, delay)
        else:
            self.slowest_change_old_token_s = max(self.slowest_change_old_token_s, delay)


def nearest_jobs_staleness(served: list[Served], nearest: int, since: float) -> Staleness:
    """Measure wrong spells and change delays of each job while among the ``nearest`` queued.

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
    end = job.started_at
    changes = [at for at in before if start < at < end]
    moments = sorted({start, *changes} | {at for at, _ in job.displayed if start < at < end})
    wrong_since: float | None = None
    for moment in moments:
        wrong = _displayed_at(job, moment) != _ahead_at(before, moment)
        if wrong and wrong_since is None:
            wrong_since = moment
        elif not wrong and wrong_since is not None:
            result.add_spell(wrong_since, moment, job.token_fresh_until)
            wrong_since = None
    if wrong_since is not None:
        result.add_spell(wrong_since, end, job.token_fresh_until)
    for change in (start, *changes):
        ahead = _ahead_at(before, change)
        displayed = _displayed_at(job, change)
        if displayed is None or displayed > ahead:
            result.add_change(change, _caught_up(job, change, ahead, end), job.token_fresh_until)


def _ahead_at(before: list[float], moment: float) -> int:
    # Jobs served before this one that had not finished: running or still queued.
    return len(before) - bisect_right(before, moment)


def _displayed_at(job: Served, moment: float) -> int | None:
    value = None
    for at, ahead in job.displayed:
        if at > moment:
            break
        value = ahead
    return value


def _caught_up(job: Served, change: float, ahead: int, end: float) -> float:
    """Return when the message first displayed ``ahead`` or fewer after ``change``, at most end."""
    for at, value in job.displayed:
        if change < at < end and value is not None and value <= ahead:
            return at
    return end
