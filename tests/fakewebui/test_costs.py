"""The cost model formula."""

from __future__ import annotations

import pytest

from fakewebui import costs


def test_generation_seconds_formula() -> None:
    seconds = costs.generation_seconds(steps=50, width=512, height=512, images=9)

    assert seconds == pytest.approx(costs.FIXED_SECONDS + costs.SECONDS_PER_STEP_UNIT * 450)


def test_step_seconds_scales_with_area_and_images() -> None:
    base = costs.step_seconds(512, 512, 1)

    assert costs.step_seconds(1024, 1024, 1) == pytest.approx(4 * base)
    assert costs.step_seconds(512, 512, 3) == pytest.approx(3 * base)


def test_constants_positive() -> None:
    assert costs.FIXED_SECONDS > 0
    assert costs.SECONDS_PER_STEP_UNIT > 0
