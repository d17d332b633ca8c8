"""Fit the fake WebUI cost model to a trace of real generation times.

The model is ``seconds = a + b * work`` with ``work = steps * (width * height / 512**2) * images``,
so ``a`` is the fixed cost of a request and ``b`` the cost of one 512x512 sampling step.
Each trace line is a JSON object with ``seconds`` and optional ``steps`` (default 50),
``width`` and ``height`` (default 512) and ``n_images`` (default 1).

The fit is ordinary least squares refined by iteratively reweighted least squares with Huber
weights, so the few requests that waited behind a busy GPU do not drag the line. The result
is printed as one JSON object.

Usage: python bench/calibrate_webui_costs.py --trace FILE
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_STEPS = 50
DEFAULT_SIDE_PX = 512
REFERENCE_AREA_PX = 512 * 512

# Huber's tuning constant: 95% efficiency when residuals are normal.
HUBER_K = 1.345
# Scales the median absolute deviation to a standard deviation for normal residuals.
MAD_TO_SIGMA = 1.4826
MAX_ITERATIONS = 100
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Sample:
    """One trace request reduced to the model's input and output."""

    work: float
    seconds: float


@dataclass(frozen=True)
class Line:
    """Intercept ``a`` and slope ``b`` of a fitted line."""

    a: float
    b: float

    def predict(self, work: float) -> float:
        """Return the modelled seconds for ``work`` step-units."""
        return self.a + self.b * work


def read_samples(path: Path) -> tuple[list[Sample], int]:
    """Read the trace and return its usable samples and the count of skipped lines."""
    samples: list[Sample] = []
    skipped = 0
    with path.open(encoding="utf-8") as trace:
        for text in trace:
            sample = _parse_line(text)
            if sample is None:
                skipped += 1
            else:
                samples.append(sample)
    return samples, skipped


def _parse_line(text: str) -> Sample | None:
    if not text.strip():
        return None
    try:
        record = json.loads(text)
        seconds = float(record["seconds"])
        steps = int(record.get("steps", DEFAULT_STEPS))
        width = int(record.get("width", DEFAULT_SIDE_PX))
        height = int(record.get("height", DEFAULT_SIDE_PX))
        images = int(record.get("n_images", 1))
    except (ValueError, KeyError, TypeError):
        return None
    if not math.isfinite(seconds) or seconds <= 0 or min(steps, width, height, images) <= 0:
        return None
    return Sample(work=steps * (width * height / REFERENCE_AREA_PX) * images, seconds=seconds)


def fit_weighted(samples: Sequence[Sample], weights: Sequence[float]) -> Line:
    """Solve weighted least squares for one predictor and an intercept."""
    total = sum(weights)
    mean_x = sum(w * s.work for s, w in zip(samples, weights, strict=True)) / total
    mean_y = sum(w * s.seconds for s, w in zip(samples, weights, strict=True)) / total
    sxx = sum(w * (s.work - mean_x) ** 2 for s, w in zip(samples, weights, strict=True))
    sxy = sum(
        w * (s.work - mean_x) * (s.seconds - mean_y) for s, w in zip(samples, weights, strict=True)
    )
    if sxx == 0:
        raise ValueError(
            "all trace samples have the same work, so no slope can be fitted; "
            "use a trace with varied steps, sizes or image counts"
        )
    b = sxy / sxx
    return Line(a=mean_y - b * mean_x, b=b)


def fit_huber(samples: Sequence[Sample]) -> tuple[Line, int]:
    """Fit a Huber M-estimate line and return it with the iterations used."""
    line = fit_weighted(samples, [1.0] * len(samples))
    for iteration in range(1, MAX_ITERATIONS + 1):
        residuals = [s.seconds - line.predict(s.work) for s in samples]
        scale = MAD_TO_SIGMA * statistics.median(abs(r) for r in residuals)
        if scale == 0:
            return line, iteration
        threshold = HUBER_K * scale
        weights = [1.0 if abs(r) <= threshold else threshold / abs(r) for r in residuals]
        updated = fit_weighted(samples, weights)
        converged = abs(updated.a - line.a) + abs(updated.b - line.b) < TOLERANCE
        line = updated
        if converged:
            return line, iteration
    return line, MAX_ITERATIONS


def describe_fit(line: Line, samples: Sequence[Sample]) -> dict[str, float]:
    """Measure how well ``line`` explains the samples."""
    residuals = [s.seconds - line.predict(s.work) for s in samples]
    mean_y = statistics.fmean(s.seconds for s in samples)
    total = sum((s.seconds - mean_y) ** 2 for s in samples)
    relative = [abs(r) / s.seconds for r, s in zip(residuals, samples, strict=True)]
    return {
        "r2": 1 - sum(r * r for r in residuals) / total if total else 0.0,
        "rmse_s": math.sqrt(statistics.fmean(r * r for r in residuals)),
        "median_abs_error_s": statistics.median(abs(r) for r in residuals),
        "median_relative_error": statistics.median(relative),
    }


def calibrate(samples: Sequence[Sample], skipped: int) -> dict[str, object]:
    """Fit both lines and collect the report printed by ``main``."""
    if len(samples) < 2:
        raise ValueError(f"the trace has {len(samples)} usable samples, but at least 2 are needed")
    ordinary = fit_weighted(samples, [1.0] * len(samples))
    robust, iterations = fit_huber(samples)
    return {
        "a": round(robust.a, 6),
        "b": round(robust.b, 6),
        "method": "huber-irls",
        "iterations": iterations,
        "samples": len(samples),
        "skipped_lines": skipped,
        "fit": _rounded(describe_fit(robust, samples)),
        "ordinary_least_squares": {
            "a": round(ordinary.a, 6),
            "b": round(ordinary.b, 6),
            "fit": _rounded(describe_fit(ordinary, samples)),
        },
    }


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 6) for key, value in values.items()}


def main(argv: Iterable[str] | None = None) -> int:
    """Run the calibration from the command line and print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--trace", type=Path, required=True, help="JSON-lines trace with a seconds field per line"
    )
    args = parser.parse_args(None if argv is None else list(argv))
    try:
        samples, skipped = read_samples(args.trace)
        report = calibrate(samples, skipped)
    except (OSError, ValueError) as exc:
        print(f"calibration failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
