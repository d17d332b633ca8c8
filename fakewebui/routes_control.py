"""Routes outside the A1111 API: the home page, ``/internal/ping`` and the test controls.

``/fake/faults`` arms and clears faults and ``/fake/settings`` changes speed, API switch and
credentials, for tests that run the fake in another process. Neither is behind the API gate.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from fakewebui.coercion import validate_body
from fakewebui.errors import RequestValidationError
from fakewebui.faults import FAULT_KINDS
from fakewebui.request_body import read_json_body
from fakewebui.responses import json_response
from fakewebui.schemas import FAULT_FIELDS, SETTINGS_FIELDS
from fakewebui.state import STATE_KEY, WebUIState

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

_HOME_PAGE = """<!DOCTYPE html>
<html><head><title>Stable Diffusion</title></head>
<body><h1>Stable Diffusion WebUI (fake)</h1>
<p>An AUTOMATIC1111-compatible API for tests lives under <code>/sdapi/v1/</code>.</p>
</body></html>
"""


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    """Serve a small page, so a base-URL check gets 200."""
    return web.Response(text=_HOME_PAGE, content_type="text/html")


@routes.get("/internal/ping")
async def ping(request: web.Request) -> web.Response:
    """Return an empty object for the UI's liveness check."""
    return json_response({})


@routes.get("/fake/faults")
async def list_faults(request: web.Request) -> web.Response:
    """Return the armed faults in the order they will be used."""
    return json_response(_faults_body(request.app[STATE_KEY]))


@routes.post("/fake/faults")
async def arm_fault(request: web.Request) -> web.Response:
    """Arm a fault for the next ``count`` txt2img requests."""
    state = request.app[STATE_KEY]
    params = validate_body(await read_json_body(request), FAULT_FIELDS)
    if params["kind"] not in FAULT_KINDS:
        permitted = ", ".join(FAULT_KINDS)
        error = {
            "loc": ["body", "kind"],
            "msg": f"unknown fault kind; permitted: {permitted}",
            "type": "value_error.const",
            "ctx": {"given": params["kind"], "permitted": list(FAULT_KINDS)},
        }
        raise RequestValidationError([error])
    state.faults.arm(params["kind"], params["count"])
    return json_response(_faults_body(state))


@routes.delete("/fake/faults")
async def clear_faults(request: web.Request) -> web.Response:
    """Drop every armed fault and release hanging requests."""
    state = request.app[STATE_KEY]
    state.faults.clear()
    return json_response(_faults_body(state))


@routes.get("/fake/settings")
async def get_settings(request: web.Request) -> web.Response:
    """Return the speed, whether the API is on, and whether credentials are required."""
    return json_response(_settings_body(request.app[STATE_KEY]))


@routes.post("/fake/settings")
async def change_settings(request: web.Request) -> web.Response:
    """Apply the keys present: ``speed``, ``api_enabled``, ``api_auth`` ([user, pass] or null)."""
    state = request.app[STATE_KEY]
    body = await read_json_body(request)
    params = validate_body(body, SETTINGS_FIELDS)
    present = {key for key in params if key in body}
    if "speed" in present and params["speed"] is not None:
        state.speed = params["speed"]
    if "api_enabled" in present and params["api_enabled"] is not None:
        state.api_enabled = params["api_enabled"]
    if "api_auth" in present:
        state.api_auth = _credentials(params["api_auth"])
    logger.info("settings changed: %s", ", ".join(sorted(present)) or "nothing")
    return json_response(_settings_body(state))


def _credentials(value: list[str] | None) -> tuple[str, str] | None:
    if value is None:
        return None
    if len(value) != 2:
        error = {
            "loc": ["body", "api_auth"],
            "msg": "expected [username, password] or null",
            "type": "value_error",
        }
        raise RequestValidationError([error])
    return value[0], value[1]


def _faults_body(state: WebUIState) -> dict[str, Any]:
    return {"pending": state.faults.pending(), "kinds": list(FAULT_KINDS)}


def _settings_body(state: WebUIState) -> dict[str, Any]:
    return {
        "speed": state.speed,
        "api_enabled": state.api_enabled,
        "api_auth": state.api_auth is not None,
        "generated": state.generated,
        "requests": len(state.requests),
    }
