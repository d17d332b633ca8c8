"""Everything one fake WebUI instance stores between requests."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from fakewebui import catalog
from fakewebui.errors import InvalidSpeedError
from fakewebui.faults import FaultQueue
from fakewebui.progress import ProgressState

VERSION = "v1.10.1"
MAX_SLICE_S = 0.05


class WebUIState:
    """Settings, models, job progress, the generation lock, armed faults and the request log.

    ``lock`` serialises generation, model loads and refreshes. CPython's ``asyncio.Lock`` wakes
    waiters in arrival order and never lets a new caller overtake a waiter, so it behaves like
    the FIFO lock of A1111 1.10. ``checkpoints`` are the model files this instance lists, named
    by the ``models`` argument or else those of catalog.json. ``loaded`` is the model in memory,
    which differs from the ``sd_model_checkpoint`` setting after a job that overrode it, as in
    A1111.
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        api_enabled: bool = True,
        api_auth: tuple[str, str] | None = None,
        models: Sequence[str] | None = None,
    ) -> None:
        self._speed = validate_speed(speed)
        self.api_enabled = api_enabled
        self.api_auth = api_auth
        self.checkpoints = catalog.checkpoints(models)
        self.loaded = self.checkpoints[0]
        self.options: dict[str, Any] = catalog.default_options(self.checkpoints)
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
        selected = self.find_checkpoint(str(self.options.get("sd_model_checkpoint")))
        return selected or self.checkpoints[0]

    def find_checkpoint(self, alias: str) -> catalog.Checkpoint | None:
        """Return the listed checkpoint that ``alias`` selects, or None."""
        return catalog.find_checkpoint(alias, self.checkpoints)

    def replace_models(self, names: Sequence[str]) -> None:
        """List the model files ``names`` from now on, as after a refresh of the models folder.

        A setting that names a model no longer listed moves to the first one.

        Raises:
            InvalidModelListError: ``names`` is empty, or has a blank, absolute or repeated name.
        """
        self.checkpoints = catalog.checkpoints(names)
        if self.find_checkpoint(str(self.options.get("sd_model_checkpoint"))) is None:
            first = self.checkpoints[0]
            self.options["sd_model_checkpoint"] = first.title
            self.options["sd_checkpoint_hash"] = first.sha256


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
