"""Image utility routes: upscaling with ``extra-single-image`` and reading ``png-info``."""

from __future__ import annotations

import base64
import binascii
import io
import logging
from typing import Any

from aiohttp import web
from PIL import Image, UnidentifiedImageError

from fakewebui import catalog, images
from fakewebui.coercion import validate_body
from fakewebui.errors import APIHTTPError, SimulatedServerError
from fakewebui.infotext import parse_infotext
from fakewebui.request_body import read_json_body
from fakewebui.responses import json_response
from fakewebui.schemas import EXTRAS_FIELDS, PNG_INFO_FIELDS
from fakewebui.state import STATE_KEY

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

# Model upscalers (ESRGAN and the like) are stood in for by Lanczos resampling.
_RESAMPLING = {"Nearest": Image.Resampling.NEAREST}


def decode_image(text: str) -> Image.Image:
    """Decode raw base64 or a ``data:image/...;base64,`` URL into a loaded image.

    Raises:
        APIHTTPError: 500 "Invalid encoded image", or "Requests not allowed" for an http(s) URL,
            because the fake never fetches from other hosts.
    """
    if text.startswith(("http://", "https://")):
        raise APIHTTPError(500, "Requests not allowed")
    if text.startswith("data:image/"):
        text = text.split(";", 1)[1].split(",", 1)[1] if "," in text else ""
    try:
        image = Image.open(io.BytesIO(base64.b64decode(text)))
        image.load()
    except (binascii.Error, ValueError, OSError, UnidentifiedImageError):
        raise APIHTTPError(500, "Invalid encoded image") from None
    return image


@routes.post("/sdapi/v1/extra-single-image")
async def extra_single_image(request: web.Request) -> web.Response:
    """Upscale one image with Pillow, waiting for the generation lock as A1111 does."""
    state = request.app[STATE_KEY]
    params = validate_body(await read_json_body(request), EXTRAS_FIELDS)
    for name in (params["upscaler_1"], params["upscaler_2"]):
        if name not in catalog.upscaler_names():
            raise SimulatedServerError("AssertionError", f"could not find upscaler named {name}")
    source = decode_image(params["image"])
    async with state.lock:
        result = _upscale(source.convert("RGB"), params)
    format_name = str(state.options.get("samples_format", "png"))
    data = images.encode(result, format_name, source.info.get("parameters"))
    return json_response(
        {"html_info": _html_info(params), "image": base64.b64encode(data).decode("ascii")}
    )


def _upscale(image: Image.Image, params: dict[str, Any]) -> Image.Image:
    if params["upscaler_1"] == "None":
        return image
    target = _target_size(image, params)
    result = _resize(image, params["upscaler_1"], target)
    visibility = params["extras_upscaler_2_visibility"]
    if params["upscaler_2"] != "None" and visibility > 0:
        second = _resize(image, params["upscaler_2"], target)
        result = Image.blend(result, second, visibility)
    if params["resize_mode"] == 1 and params["upscaling_crop"]:
        result = _center_crop(result, params["upscaling_resize_w"], params["upscaling_resize_h"])
    return result


def _target_size(image: Image.Image, params: dict[str, Any]) -> tuple[int, int]:
    if params["resize_mode"] == 0:
        scale = params["upscaling_resize"]
    else:
        scale = max(
            params["upscaling_resize_w"] / image.width, params["upscaling_resize_h"] / image.height
        )
    return max(1, int(image.width * scale)), max(1, int(image.height * scale))


def _resize(image: Image.Image, upscaler: str, size: tuple[int, int]) -> Image.Image:
    return image.resize(size, _RESAMPLING.get(upscaler, Image.Resampling.LANCZOS))


def _center_crop(image: Image.Image, width: int, height: int) -> Image.Image:
    cropped = Image.new("RGB", (width, height))
    cropped.paste(image, (width // 2 - image.width // 2, height // 2 - image.height // 2))
    return cropped


def _html_info(params: dict[str, Any]) -> str:
    if params["upscaler_1"] == "None":
        return "<p></p>"
    if params["resize_mode"] == 0:
        size = f"Postprocess upscale by: {params['upscaling_resize']:g}"
    else:
        size = (
            f"Postprocess upscale to: {params['upscaling_resize_w']}x{params['upscaling_resize_h']}"
        )
    return f"<p>{size}, Postprocess upscaler: {params['upscaler_1']}</p>"


@routes.post("/sdapi/v1/png-info")
async def png_info(request: web.Request) -> web.Response:
    """Return the infotext of a PNG, its other text chunks, and the parsed parameters."""
    params = validate_body(await read_json_body(request), PNG_INFO_FIELDS)
    if not params["image"].strip():
        return json_response({"info": "", "items": {}, "parameters": {}})
    image = decode_image(params["image"])
    items = {key: value for key, value in image.info.items() if isinstance(value, str | int)}
    infotext = items.pop("parameters", None)
    if not isinstance(infotext, str):
        infotext = None
    parameters = parse_infotext(infotext) if infotext else {}
    return json_response({"info": infotext or "", "items": items, "parameters": parameters})
