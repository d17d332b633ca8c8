"""Estimates of how long jobs take, learned from the jobs that finished."""

from __future__ import annotations

from .params import GenerationParams

# Prior cost model, seconds = BASE_S + PER_UNIT_S x steps x (width x height / 512^2) x images,
# fitted on 12,000 real requests from a public Stable Diffusion Discord channel (August 2022,
# bench/calibrate_webui_costs.py). Measured jobs rescale it to the GPUs actually in use.
BASE_S = 1.743928
PER_UNIT_S = 0.013927
# Weight of the newest measurement in the running ratio of measured to predicted time.
SMOOTHING = 0.2


class DurationEstimator:
    """Predicts a job's run time from its parameters, rescaled by recent measurements."""

    def __init__(self) -> None:
        self._scale = 1.0
        self._observed = 0
        self._mean_s = BASE_S + PER_UNIT_S * 20

    @property
    def observed(self) -> int:
        return self._observed

    def predict_s(self, params: GenerationParams) -> float:
        return _prior_s(params) * self._scale

    def observe(self, params: GenerationParams, elapsed_s: float) -> None:
        """Fold a finished job's run time into the estimate."""
        ratio = elapsed_s / _prior_s(params)
        if self._observed == 0:
            self._scale, self._mean_s = ratio, elapsed_s
        else:
            self._scale = (1 - SMOOTHING) * self._scale + SMOOTHING * ratio
            self._mean_s = (1 - SMOOTHING) * self._mean_s + SMOOTHING * elapsed_s
        self._observed += 1

    def mean_job_s(self) -> float:
        """Return the smoothed run time of recent jobs, the estimate for a job still waiting."""
        return self._mean_s


def _prior_s(params: GenerationParams) -> float:
    units = params.steps * (params.width * params.height / 512**2) * params.count
    return BASE_S + PER_UNIT_S * units
