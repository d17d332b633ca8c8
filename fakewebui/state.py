"""Everything one fake WebUI instance stores between requests."""

from __future__ import annotations

import asyncio
import math
from typing import Any

from aiohttp import web

from fakewebui import catalog
from fakewebui.errors import InvalidSpeedError
from fakewebui.faults import FaultQueue
from fakewebui.progress import ProgressState

VERSION = "v1.10.1"
MAX_SLICE_S = 0.05


class WebUIState:
    """Settings, job progress, the generation lock, armed faults and the request log.

    ``lock`` serialises generation, model loads and refreshes. CPython's ``asyncio.Lock`` wakes
    waiters in arrival order and never lets a new caller overtake a waiter, so it behaves like
    the FIFO lock of A1111 1.10.
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        api_enabled: bool = True,
        api_auth: tuple[str, str] | None = None,
    ) -> None:
        self._speed = validate_speed(speed)
        self.api_enabled = api_enabled
        self.api_auth = api_auth
        self.options: dict[str, Any] = catalog.default_options()
        self.progress = ProgressState()
        self.lock = asyncio.Lock()
        self.faults = FaultQueue()
        self.requests: list[dict[str, Any]] = []
        self.generated = 0
        self.oom_events = 0
        # Set when the server shuts down, so waiting and running requests end at once.
        self.closing = asyncio.Event()

    @property
    def speed(self) -> float:
        """Factor above 0 by which simulated work runs faster than the cost model."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._speed = validate_speed(value)

    async def spend(
        self, work_seconds: float, *, interruptible: bool = False, skippable: bool = False
    ) -> bool:
        """Sleep for ``work_seconds`` of modelled work divided by the speed.

        Return False when the server started closing, or when an interrupt (if
        ``interruptible``) or skip (if ``skippable``) flag ended the work early.
        """
        remaining = work_seconds
        while not self._stop_requested(interruptible, skippable):
            if remaining <= 0:
                return True
            # Read the speed on every slice, so a change while running applies at once.
            speed = self._speed
            slice_s = min(MAX_SLICE_S, remaining / speed)
            await asyncio.sleep(slice_s)
            remaining -= slice_s * speed
        return False

    def _stop_requested(self, interruptible: bool, skippable: bool) -> bool:
        if self.closing.is_set():
            return True
        if interruptible and self.progress.interrupted:
            return True
        return skippable and self.progress.skipped

    def current_checkpoint(self) -> catalog.Checkpoint:
        """Return the checkpoint that ``sd_model_checkpoint`` selects, else the first one."""
        selected = catalog.find_checkpoint(str(self.options.get("sd_model_checkpoint")))
        return selected or catalog.checkpoints()[0]


def validate_speed(speed: object) -> float:
    """Return ``speed`` as a float after checking it is finite and above 0.

    Raises:
        InvalidSpeedError: ``speed`` is not a number, not finite, or not above 0.
    """
    if isinstance(speed, bool) or not isinstance(speed, int | float):
        raise InvalidSpeedError(speed)
    if not math.isfinite(speed) or speed <= 0:
        raise InvalidSpeedError(speed)
    return float(speed)


STATE_KEY = web.AppKey("fakewebui_state", WebUIState)
