"""The status fan-out benchmark's measure of wrong positions, on hand-made timelines."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from _staleness import Served, nearest_jobs_staleness  # noqa: E402


def served(job_id: int, start: float, finish: float, displayed, fresh_until: float = 1e9) -> Served:
    return Served(job_id, start, finish, displayed, fresh_until)


def test_edit_one_second_late() -> None:
    # Job 2 waits behind 0 and 1; its message catches up one second after each finish.
    jobs = [
        served(0, 0.0, 10.0, [(0.0, 0)]),
        served(1, 10.0, 20.0, [(0.0, 1)]),
        served(2, 20.0, 30.0, [(0.0, 2), (11.0, 1)]),
    ]

    result = nearest_jobs_staleness(jobs, nearest=10, since=0.0)

    assert result.longest_s == pytest.approx(1.0)
    assert result.slowest_change_s == pytest.approx(1.0)
    assert result.spells == 1


def test_spell_spans_lagging_edits() -> None:
    # A job finishes every second, and each edit lands 1.5 s after a change, after the next one.
    # Every change is displayed within 1.5 s, yet the message is wrong from 1 until the start at 4.
    jobs = [served(index, float(index), index + 1.0, [(0.0, 0)]) for index in range(4)]
    jobs.append(served(4, 4.0, 5.0, [(0.0, 4), (2.5, 3), (3.5, 2)]))

    result = nearest_jobs_staleness(jobs, nearest=10, since=0.0)

    assert result.longest_s == pytest.approx(3.0)
    assert result.slowest_change_s == pytest.approx(1.5)


def test_only_the_nearest_jobs_count() -> None:
    # With nearest=1, job 2 counts only from 10, when job 1 starts: its wrong 5 before then is
    # not measured.
    jobs = [
        served(0, 0.0, 10.0, [(0.0, 0)]),
        served(1, 10.0, 20.0, [(0.0, 1)]),
        served(2, 20.0, 30.0, [(0.0, 5), (10.5, 1)]),
    ]

    result = nearest_jobs_staleness(jobs, nearest=1, since=0.0)

    assert result.longest_s == pytest.approx(0.5)
    assert result.spells == 1


def test_spells_split_by_token_age() -> None:
    jobs = [
        served(0, 0.0, 10.0, [(0.0, 0)]),
        served(1, 10.0, 20.0, [(0.0, 2), (2.0, 1)], fresh_until=-1.0),
    ]

    result = nearest_jobs_staleness(jobs, nearest=10, since=0.0)

    assert result.longest_old_token_s == pytest.approx(2.0)
    assert result.longest_fresh_token_s == 0.0
