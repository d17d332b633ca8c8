"""Routes that run or watch generation: txt2img, progress, interrupt and skip."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from fakewebui.coercion import Field, validate_body, validate_query
from fakewebui.errors import ConnectionDropped
from fakewebui.job import run_job
from fakewebui.plan import build_plan
from fakewebui.progress import progress_response
from fakewebui.request_body import read_json_body
from fakewebui.responses import json_response
from fakewebui.schemas import TXT2IMG_FIELDS
from fakewebui.state import STATE_KEY, WebUIState

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

_PROGRESS_QUERY = (Field("skip_current_image", "bool", False, nullable=False),)


@routes.post("/sdapi/v1/txt2img")
async def txt2img(request: web.Request) -> web.Response:
    """Generate images, one job at a time in arrival order."""
    state = request.app[STATE_KEY]
    body = await read_json_body(request)
    if isinstance(body, dict):
        state.requests.append(body)
    params = validate_body(body, TXT2IMG_FIELDS)
    fault = state.faults.take()
    if fault is not None:
        logger.info("txt2img request uses armed fault %s", fault)
    if fault == "disconnect":
        raise ConnectionDropped()
    if fault == "hang":
        await _hang(state)
    plan = build_plan(params, state)
    logger.debug("txt2img request accepted: %r", params)
    async with state.lock:
        if state.closing.is_set():
            raise ConnectionDropped()
        result = await run_job(plan, state, fault)
    return json_response(result)


async def _hang(state: WebUIState) -> None:
    cleared = asyncio.ensure_future(state.faults.wait_cleared())
    closing = asyncio.ensure_future(state.closing.wait())
    try:
        await asyncio.wait({cleared, closing}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        cleared.cancel()
        closing.cancel()
    if state.closing.is_set():
        raise ConnectionDropped()


@routes.get("/sdapi/v1/progress")
async def progress(request: web.Request) -> web.Response:
    """Report the running job without waiting for the generation lock."""
    state = request.app[STATE_KEY]
    query = validate_query(request.query, _PROGRESS_QUERY)
    body = progress_response(
        state.progress, state.options, skip_current_image=query["skip_current_image"]
    )
    return json_response(body)


@routes.post("/sdapi/v1/interrupt")
async def interrupt(request: web.Request) -> web.Response:
    """Flag the running job, if any, to stop. The flag stays set until the next job begins."""
    state = request.app[STATE_KEY]
    state.progress.interrupted = True
    logger.info("interrupt requested (job %r)", state.progress.job)
    return json_response({})


@routes.post("/sdapi/v1/skip")
async def skip(request: web.Request) -> web.Response:
    """Flag the running job to abandon its current batch and go on with the next."""
    state = request.app[STATE_KEY]
    state.progress.skipped = True
    logger.info("skip requested (job %r)", state.progress.job)
    return json_response(None)
