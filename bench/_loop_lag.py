"""Event-loop lag: how late a task that sleeps 10 ms wakes up, and percentiles of samples."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time

SLEEP_S = 0.01


class LoopLagProbe:
    """Sleeps ``SLEEP_S`` in a loop and records each overshoot, which is time the loop was busy.

    The overshoot includes asyncio's timer granularity, about 1 ms on Linux, so an idle loop
    shows about 0.1 to 1 ms.
    """

    def __init__(self) -> None:
        self.overshoots_s: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start sampling in a task of the running loop."""
        self._task = asyncio.create_task(self._run(), name="loop-lag-probe")

    async def stop(self) -> None:
        """Stop sampling; the samples so far stay in ``overshoots_s``."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    def summary(self) -> dict[str, float]:
        """Return the maximum and the 99th percentile of the overshoots in ms, and the count."""
        samples_ms = [value * 1000 for value in self.overshoots_s] or [0.0]
        return {
            "max_ms": round(max(samples_ms), 1),
            "p99_ms": round(percentile(samples_ms, 99), 1),
            "samples": len(self.overshoots_s),
        }

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(SLEEP_S)
            self.overshoots_s.append(max(0.0, time.perf_counter() - before - SLEEP_S))


def percentile(values: list[float], percent: float) -> float:
    """Return the nearest-rank ``percent`` percentile of ``values``, which must not be empty."""
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]
