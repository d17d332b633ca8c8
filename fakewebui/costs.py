"""Cost model that sets how long a fake generation takes.

``seconds = FIXED_SECONDS + SECONDS_PER_STEP_UNIT * steps * (width * height / 512**2) * images``

The two constants were fitted by ``bench/calibrate_webui_costs.py --trace <trace>`` (Huber-weighted
least squares) on 12,000 real requests from a public Stable Diffusion Discord channel, August 2022,
whose bot reported each request's GPU time. The fit explains R² = 0.59 of the variance, with a
median absolute error of 2.8 s, because that trace also contains queueing noise and several
samplers. The runtime never reads the trace.
"""

from __future__ import annotations

FIXED_SECONDS = 1.743928
SECONDS_PER_STEP_UNIT = 0.013927
REFERENCE_AREA_PX = 512 * 512

# NOTE: this is an estimate, not a measurement, because the trace contains no model switches.
# Loading SD 1.5 weights from a local SSD takes a few seconds on a typical desktop GPU.
MODEL_LOAD_SECONDS = 3.0


def step_seconds(width: int, height: int, images: int) -> float:
    """Return the seconds one sampling step costs for ``images`` images of this size."""
    return SECONDS_PER_STEP_UNIT * (width * height / REFERENCE_AREA_PX) * images


def generation_seconds(steps: int, width: int, height: int, images: int) -> float:
    """Return the modelled seconds of one request at speed 1."""
    return FIXED_SECONDS + steps * step_seconds(width, height, images)
