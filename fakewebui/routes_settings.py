"""Routes for settings and server housekeeping: options, flags, memory, refreshes."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from fakewebui import catalog, costs
from fakewebui.coercion import validate_body
from fakewebui.errors import ConnectionDropped, SimulatedServerError
from fakewebui.request_body import read_json_body
from fakewebui.responses import json_response
from fakewebui.state import STATE_KEY, WebUIState

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

GIB = 1024**3


@routes.get("/sdapi/v1/options")
async def get_options(request: web.Request) -> web.Response:
    """Return every setting as one flat object."""
    return json_response(request.app[STATE_KEY].options)


@routes.post("/sdapi/v1/options")
async def set_options(request: web.Request) -> web.Response:
    """Change settings in request order and load a new checkpoint under the generation lock."""
    state = request.app[STATE_KEY]
    changes = _options_body(await read_json_body(request))
    requested = changes.get("sd_model_checkpoint")
    checkpoint = None
    if requested is not None:
        checkpoint = state.find_checkpoint(str(requested))
        if checkpoint is None:
            raise SimulatedServerError("RuntimeError", f"model {requested!r} not found")
    for key, value in changes.items():
        if key not in state.options:
            # Keys before the unknown one stay changed, as in A1111.
            raise SimulatedServerError("KeyError", repr(key))
        if key != "sd_model_checkpoint":
            state.options[key] = value
    if checkpoint is not None and checkpoint != state.current_checkpoint():
        await _load_checkpoint(state, checkpoint)
    return json_response(None)


def _options_body(body: Any) -> dict[str, Any]:
    # The route takes any object, so only the body type is checked and no fields are listed.
    validate_body(body, ())
    return dict(body)


async def _load_checkpoint(state: WebUIState, checkpoint: catalog.Checkpoint) -> None:
    async with state.lock:
        logger.info("loading checkpoint %s", checkpoint.title)
        if not await state.spend(costs.MODEL_LOAD_SECONDS):
            raise ConnectionDropped()
        state.options["sd_model_checkpoint"] = checkpoint.title
        state.options["sd_checkpoint_hash"] = checkpoint.sha256
        state.loaded = checkpoint


@routes.get("/sdapi/v1/cmd-flags")
async def cmd_flags(request: web.Request) -> web.Response:
    """Return the launch flags, with ``api_auth`` in clear text as A1111 shows it."""
    state = request.app[STATE_KEY]
    flags = catalog.catalog_list("cmd_flags")
    flags["api"] = state.api_enabled
    flags["api_auth"] = ":".join(state.api_auth) if state.api_auth else None
    return json_response(flags)


@routes.get("/sdapi/v1/memory")
async def memory(request: web.Request) -> web.Response:
    """Return made-up RAM and CUDA figures for a 64 GiB host with a 24 GiB GPU."""
    state = request.app[STATE_KEY]
    busy = state.progress.busy
    allocated = (6.5 if busy else 2.1) * GIB
    peak = 9.0 * GIB
    return json_response(
        {
            "ram": {"free": 48.0 * GIB, "used": 16.0 * GIB, "total": 64.0 * GIB},
            "cuda": {
                "system": {"free": 24.0 * GIB - allocated, "used": allocated, "total": 24.0 * GIB},
                "active": {"current": allocated, "peak": peak},
                "allocated": {"current": allocated, "peak": peak},
                "reserved": {"current": allocated + GIB, "peak": peak + GIB},
                "inactive": {"current": 0.2 * GIB, "peak": 0.5 * GIB},
                "events": {"retries": 0, "oom": state.oom_events},
            },
        }
    )


@routes.post("/sdapi/v1/refresh-checkpoints")
@routes.post("/sdapi/v1/refresh-vae")
@routes.post("/sdapi/v1/refresh-embeddings")
async def refresh(request: web.Request) -> web.Response:
    """Rescan model folders after waiting for the generation lock, as A1111 does."""
    async with request.app[STATE_KEY].lock:
        return json_response(None)


@routes.post("/sdapi/v1/unload-checkpoint")
@routes.post("/sdapi/v1/reload-checkpoint")
async def unload_or_reload(request: web.Request) -> web.Response:
    """Return an empty object, because the next generation reloads the model lazily anyway."""
    return json_response({})
