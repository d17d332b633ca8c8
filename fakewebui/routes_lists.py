"""Read-only list routes: models, samplers, schedulers, upscalers, styles and the like."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from fakewebui import catalog
from fakewebui.responses import json_response
from fakewebui.state import STATE_KEY

routes = web.RouteTableDef()

# Route path under /sdapi/v1/ to the catalog.json key it returns.
CATALOG_ROUTES = {
    "samplers": "samplers",
    "schedulers": "schedulers",
    "upscalers": "upscalers",
    "latent-upscale-modes": "latent_upscale_modes",
    "sd-vae": "sd_vae",
    "hypernetworks": "hypernetworks",
    "face-restorers": "face_restorers",
    "realesrgan-models": "realesrgan_models",
    "prompt-styles": "prompt_styles",
    "embeddings": "embeddings",
    "scripts": "scripts",
    "extensions": "extensions",
}


@routes.get("/sdapi/v1/sd-models")
async def sd_models(request: web.Request) -> web.Response:
    """List the instance's model files with their hashes already computed."""
    checkpoints = request.app[STATE_KEY].checkpoints
    return json_response([checkpoint.as_item() for checkpoint in checkpoints])


@routes.get("/sdapi/v1/script-info")
async def script_info(request: web.Request) -> web.Response:
    """Return an empty list, because the fake has no script arguments to describe."""
    return json_response([])


def _catalog_handler(key: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return json_response(catalog.catalog_list(key))

    handler.__name__ = f"list_{key}"
    return handler


for _path, _key in CATALOG_ROUTES.items():
    routes.get(f"/sdapi/v1/{_path}")(_catalog_handler(_key))
