"""Run the fake WebUI in-process (``FakeWebUI``) or in the foreground (``serve``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from aiohttp import web

from fakewebui.app import create_app
from fakewebui.catalog import checkpoints
from fakewebui.errors import ServerNotStartedError
from fakewebui.state import WebUIState, validate_speed

logger = logging.getLogger(__name__)

# Open requests end within one work slice once shutdown starts, so this only bounds stragglers.
SHUTDOWN_TIMEOUT_S = 2.0


class FakeWebUI:
    """An in-process fake WebUI server bound to ``host`` and ``port`` (0 picks a free port).

    ``models`` lists the model files it offers, such as ``["SDXL/juggernaut.safetensors"]``, so
    that tests can run backends with different models. None offers catalog.json's two models.

    Raises:
        InvalidSpeedError: ``speed`` is not a finite number above 0.
        InvalidModelListError: ``models`` is empty, or has a blank, absolute or repeated name.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 1.0,
        api_enabled: bool = True,
        api_auth: tuple[str, str] | None = None,
        models: Sequence[str] | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._state = WebUIState(
            speed=speed, api_enabled=api_enabled, api_auth=api_auth, models=models
        )
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    async def start(self) -> None:
        """Start listening and set ``url``."""
        if self._runner is not None:
            return
        runner = web.AppRunner(create_app(self._state), shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._url = f"http://{host}:{port}"
        logger.info("fake WebUI listening on %s (speed %g)", self._url, self.speed)

    async def stop(self) -> None:
        """Stop the server and close the connections of open requests without a response."""
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        await runner.cleanup()
        logger.info("fake WebUI on %s stopped", self._url)
        self._url = None

    async def __aenter__(self) -> FakeWebUI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Base URL such as ``http://127.0.0.1:54321``, without a trailing slash."""
        if self._url is None:
            raise ServerNotStartedError()
        return self._url

    @property
    def state(self) -> WebUIState:
        """The server's state: settings, progress, faults and the request log."""
        return self._state

    @property
    def speed(self) -> float:
        """Factor by which generation runs faster than the cost model, settable while running."""
        return self._state.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._state.speed = value

    @property
    def api_enabled(self) -> bool:
        """Whether ``/sdapi`` routes exist. False makes them 404, like a WebUI without --api."""
        return self._state.api_enabled

    @api_enabled.setter
    def api_enabled(self, value: bool) -> None:
        self._state.api_enabled = value

    @property
    def api_auth(self) -> tuple[str, str] | None:
        """HTTP Basic credentials required on ``/sdapi``, or None for no check."""
        return self._state.api_auth

    @api_auth.setter
    def api_auth(self, value: tuple[str, str] | None) -> None:
        self._state.api_auth = value

    @property
    def models(self) -> list[str]:
        """Names of the model files listed by ``/sdapi/v1/sd-models``; settable while running.

        Setting it is like adding or removing files and refreshing: a setting that names a
        removed model moves to the first listed one.
        """
        return [checkpoint.name for checkpoint in self._state.checkpoints]

    @models.setter
    def models(self, names: Sequence[str]) -> None:
        self._state.replace_models(names)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """JSON objects received by txt2img, in arrival order, including rejected ones."""
        return self._state.requests

    @property
    def generated(self) -> int:
        """Number of txt2img jobs that ran to the end, interrupted ones included."""
        return self._state.generated

    def fail_next(self, kind: str, count: int = 1) -> None:
        """Arm fault ``kind`` (one of ``FAULT_KINDS``) for the next ``count`` txt2img requests.

        Raises:
            UnknownFaultError: ``kind`` is not a known fault kind.
            InvalidFaultCountError: ``count`` is below 1.
        """
        self._state.faults.arm(kind, count)

    def clear_faults(self) -> None:
        """Drop every armed fault and release requests that hang."""
        self._state.faults.clear()


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    speed: float = 1.0,
    models: Sequence[str] | None = None,
) -> None:
    """Run a fake WebUI in the foreground until Ctrl+C or SIGTERM.

    Raises:
        InvalidSpeedError: ``speed`` is not a finite number above 0, checked before any work.
        InvalidModelListError: ``models`` is empty or has an unusable name, also checked first.
        OSError: ``host`` cannot be resolved (``socket.gaierror``) or ``host`` and ``port``
            cannot be bound, for example because the port is in use.
    """
    validate_speed(speed)
    checkpoints(models)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_signalled(host, port, speed, models))


async def _serve_until_signalled(
    host: str, port: int, speed: float, models: Sequence[str] | None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        # Windows has no loop signal handlers, so there Ctrl+C raises KeyboardInterrupt instead.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal_number, stop.set)
    async with FakeWebUI(host=host, port=port, speed=speed, models=models):
        await stop.wait()
