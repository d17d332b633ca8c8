"""Decoding and verification of the base64 images that the WebUI returns.

Everything here is blocking CPU work, meant to run in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import io

from PIL import Image

FORMATS = ("png", "jpeg", "webp")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PILLOW_FORMATS = ["PNG", "JPEG", "WEBP"]


class ImageDecodeError(ValueError):
    """An encoded image is not valid base64 or not a complete PNG, JPEG or WEBP image."""


def decode_base64(encoded: str) -> bytes:
    """Decode a base64 string, with or without a `data:image/...;base64,` prefix."""
    if encoded.startswith("data:"):
        header, _, encoded = encoded.partition(",")
        if not header.endswith(";base64"):
            raise ImageDecodeError(f"the data URL header {header[:40]!r} is not base64")
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ImageDecodeError(f"the image is not valid base64 ({exc})") from None


def sniff_format(data: bytes) -> str | None:
    """Return "png", "jpeg" or "webp" from the magic bytes, or None for anything else."""
    if data.startswith(_PNG_MAGIC):
        return "png"
    if data.startswith(_JPEG_MAGIC):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def measure_image(data: bytes) -> tuple[str, int, int]:
    """Fully decode an image and return its format, width and height."""
    image_format = sniff_format(data)
    if image_format is None:
        raise ImageDecodeError(f"the bytes are not a PNG, JPEG or WEBP image (start {data[:8]!r})")
    try:
        # Image.open reads only the header, so load() is what proves the pixel data is complete.
        with Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS) as image:
            image.load()
            width, height = image.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError(f"the {image_format} image does not decode ({exc})") from None
    return image_format, width, height
