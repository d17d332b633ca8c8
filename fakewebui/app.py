"""Build the aiohttp application that imitates an AUTOMATIC1111 WebUI."""

from __future__ import annotations

import logging

from aiohttp import web

from fakewebui import (
    routes_control,
    routes_generation,
    routes_images,
    routes_lists,
    routes_settings,
)
from fakewebui.middleware import api_gate_middleware, error_middleware, process_time_middleware
from fakewebui.state import STATE_KEY, WebUIState

logger = logging.getLogger(__name__)

# A1111 accepts large img2img and extras bodies (several base64 images), aiohttp only 1 MiB.
CLIENT_MAX_SIZE = 256 * 1024**2


def create_app(state: WebUIState | None = None, *, speed: float = 1.0) -> web.Application:
    """Create the application around ``state``, or a new state running at ``speed``.

    ``speed`` applies only when ``state`` is None; a given state keeps its own speed.
    """
    app = web.Application(
        middlewares=[process_time_middleware, error_middleware, api_gate_middleware],
        client_max_size=CLIENT_MAX_SIZE,
    )
    app[STATE_KEY] = state if state is not None else WebUIState(speed=speed)
    for module in (routes_generation, routes_settings, routes_lists, routes_images, routes_control):
        app.add_routes(module.routes)
    app.on_startup.append(_reset_closing)
    app.on_shutdown.append(_signal_closing)
    return app


async def _reset_closing(app: web.Application) -> None:
    app[STATE_KEY].closing.clear()


async def _signal_closing(app: web.Application) -> None:
    # Runs before aiohttp waits for open requests, so hanging and running jobs end at once.
    app[STATE_KEY].closing.set()
