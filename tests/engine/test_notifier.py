"""The status notifier's rules: which position changes are worth an edit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import DurationEstimator, GenerationParams
from engine.status_rules import crossed_round_step

PARAMS = GenerationParams(
    prompt="p",
    negative_prompt="",
    width=512,
    height=512,
    steps=20,
    cfg_scale=7.0,
    seed=1,
    sampler="Euler a",
    count=1,
)


@pytest.mark.parametrize(
    ("shown", "now", "expected"),
    [
        pytest.param(137, 101, False, id="within-hundreds"),
        pytest.param(137, 100, True, id="reaches-100"),
        pytest.param(301, 250, True, id="crosses-300"),
        pytest.param(99, 51, False, id="within-50s"),
        pytest.param(99, 50, True, id="reaches-50"),
        pytest.param(50, 26, False, id="within-25s"),
        pytest.param(30, 25, True, id="reaches-25"),
        pytest.param(24, 11, False, id="above-exact-zone"),
        pytest.param(11, 10, True, id="enters-exact-zone"),
        pytest.param(1000, 999, False, id="far-back-by-one"),
        pytest.param(1000, 900, True, id="far-back-to-900"),
    ],
)
def test_crossed_round_step(shown: int, now: int, expected: bool) -> None:
    assert crossed_round_step(shown, now, exact_positions=10) is expected


def _crossed_by_listing_steps(shown: int, now: int, exact_positions: int) -> bool:
    steps = [exact_positions, 25, 50, *range(100, shown + 1, 100)]
    return any(now <= step < shown for step in steps if step >= exact_positions)


@given(
    shown=st.integers(0, 300_000),
    now=st.integers(0, 300_000),
    exact_positions=st.integers(0, 200),
)
def test_crossed_round_step_same_as_listing_every_step(
    shown: int, now: int, exact_positions: int
) -> None:
    expected = _crossed_by_listing_steps(shown, now, exact_positions)

    assert crossed_round_step(shown, now, exact_positions) is expected


def test_estimator_learns_from_measurements() -> None:
    estimator = DurationEstimator()
    prior = estimator.predict_s(PARAMS)

    estimator.observe(PARAMS, prior * 3)

    assert estimator.predict_s(PARAMS) == pytest.approx(prior * 3)
    assert estimator.mean_job_s() == pytest.approx(prior * 3)
    estimator.observe(PARAMS, prior)
    assert prior < estimator.predict_s(PARAMS) < prior * 3
