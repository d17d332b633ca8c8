"""Turning a 200 response of POST /sdapi/v1/txt2img into a checked Txt2ImgResult.

The body contains `images` (base64 strings), `parameters` (the request echoed back) and `info`,
which is itself a JSON-encoded string. Everything here blocks, so callers run it in a thread.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sdclient.errors import EmptyResultError, InvalidResultError
from sdclient.images import ImageDecodeError, decode_base64, measure_image
from sdclient.models import GeneratedImage, Txt2ImgRequest, Txt2ImgResult

logger = logging.getLogger(__name__)


class _UnusableResult(ValueError):
    """A reason why a 200 response cannot be used, turned into InvalidResultError once."""


class _NoImages(_UnusableResult):
    """An empty images list, turned into EmptyResultError."""


def build_txt2img_result(
    body: bytes, request: Txt2ImgRequest, *, url: str, status: int, elapsed_s: float
) -> Txt2ImgResult:
    """Parse a txt2img body, decode every image and check it against the request.

    Raises:
        EmptyResultError: the images list is empty.
        InvalidResultError: the body is not the expected JSON, or an image is missing,
            does not decode, or has a size other than the requested one.
    """
    try:
        images, info, parameters = _parse_body(body, request)
    except _NoImages:
        raise EmptyResultError(url=url, status=status) from None
    except _UnusableResult as exc:
        raise InvalidResultError(url=url, status=status, reason=str(exc)) from None
    return Txt2ImgResult(images=images, info=info, parameters=parameters, elapsed_s=elapsed_s)


def _parse_body(
    body: bytes, request: Txt2ImgRequest
) -> tuple[list[GeneratedImage], dict[str, Any], dict[str, Any]]:
    try:
        payload = json.loads(body) if body.strip() else None
    except ValueError:
        raise _UnusableResult("the body is not JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("images"), list):
        raise _UnusableResult("the body has no images list")
    info = _parse_info(payload.get("info"))
    parameters = payload.get("parameters")
    encoded = _select_images(payload["images"], info, request.image_count)
    seeds = _image_seeds(info, len(encoded))
    images = [
        _decode_image(item, index, request, seeds[index]) for index, item in enumerate(encoded)
    ]
    return images, info, parameters if isinstance(parameters, dict) else {}


def _parse_info(raw: object) -> dict[str, Any]:
    """Decode the `info` field, which A1111 sends as a JSON string, or return {} if unusable."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return {}
    try:
        info = json.loads(raw)
    except ValueError:
        logger.debug("ignoring an info field that is not JSON: %.200s", raw)
        return {}
    return info if isinstance(info, dict) else {}


def _select_images(images: list[Any], info: dict[str, Any], expected: int) -> list[Any]:
    """Drop a leading grid and any trailing extra images, and require `expected` images."""
    if not images:
        # SD.Next returns 200 with no images and an empty info when no model is loaded.
        raise _NoImages("the response contained no images")
    first = info.get("index_of_first_image", 0)
    if not isinstance(first, int) or isinstance(first, bool) or first < 0:
        first = 0
    # Forge may append extra images, such as control maps, after the generated ones.
    selected = images[first : first + expected]
    if len(selected) < expected:
        raise _UnusableResult(
            f"the response contained {len(selected)} images but the job makes {expected}"
        )
    if len(images) > first + expected:
        extra = len(images) - first - expected
        logger.debug("ignoring %d extra images after the generated ones", extra)
    return selected


def _image_seeds(info: dict[str, Any], count: int) -> list[int | None]:
    all_seeds = info.get("all_seeds")
    if isinstance(all_seeds, list):
        seeds = [seed if _is_int(seed) else None for seed in all_seeds[:count]]
    elif _is_int(info.get("seed")):
        seeds = [
            info["seed"]
        ]  # Without all_seeds, only the first image's seed is known for certain.
    else:
        seeds = []
    return seeds + [None] * (count - len(seeds))


def _decode_image(
    item: object, index: int, request: Txt2ImgRequest, seed: int | None
) -> GeneratedImage:
    label = f"image {index + 1}"
    if not isinstance(item, str):
        raise _UnusableResult(f"{label} is a {type(item).__name__}, not a base64 string")
    try:
        data = decode_base64(item)
        image_format, width, height = measure_image(data)
    except ImageDecodeError as exc:
        raise _UnusableResult(f"{label}: {exc}") from None
    if (width, height) != (request.width, request.height):
        raise _UnusableResult(
            f"{label} is {width}x{height} but {request.width}x{request.height} was requested"
        )
    return GeneratedImage(data=data, format=image_format, width=width, height=height, seed=seed)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def build_upscale_result(
    body: bytes, source: bytes, scale: float, *, url: str, status: int
) -> GeneratedImage:
    """Parse an extra-single-image body and check the image is ``scale`` times the source.

    Raises:
        InvalidResultError: the body has no image, it does not decode, or its size is wrong.
    """
    try:
        payload = json.loads(body) if body.strip() else None
        encoded = payload.get("image") if isinstance(payload, dict) else None
        if not isinstance(encoded, str) or not encoded:
            raise _UnusableResult("the response contained no image")
        data = decode_base64(encoded)
        image_format, width, height = measure_image(data)
        _, source_width, source_height = measure_image(source)
    except (ValueError, ImageDecodeError, _UnusableResult) as exc:
        raise InvalidResultError(url=url, status=status, reason=str(exc)) from None
    expected = (int(source_width * scale), int(source_height * scale))
    if abs(width - expected[0]) > 1 or abs(height - expected[1]) > 1:
        reason = f"the upscaled image is {width}x{height}, expected {expected[0]}x{expected[1]}"
        raise InvalidResultError(url=url, status=status, reason=reason)
    return GeneratedImage(data=data, format=image_format, width=width, height=height, seed=None)
