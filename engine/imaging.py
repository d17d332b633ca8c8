"""Prepare finished images for upload: a grid for batches, and files that fit the size limit."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image

# Discord's default upload limit per file when the interaction did not say (10 MiB).
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
# Quality steps tried for lossy re-encoding, best first.
_QUALITIES = (90, 80, 70, 55, 40)
# Each downscale step keeps this share of the width and height.
_DOWNSCALE = 0.75


@dataclass(frozen=True, slots=True)
class Upload:
    """One file to attach, already within the size limit."""

    data: bytes
    extension: str
    reencoded: bool = False


def fit_to_limit(data: bytes, extension: str, max_bytes: int) -> Upload:
    """Return ``data`` unchanged if it fits, else re-encoded (WebP, then smaller) until it does.

    Never drops the image: the last resort keeps halving the size until it fits.
    """
    if len(data) <= max_bytes:
        return Upload(data, extension)
    with Image.open(io.BytesIO(data)) as opened:
        image = opened.convert("RGB")
    while True:
        for quality in _QUALITIES:
            encoded = _encode(image, "WEBP", quality)
            if len(encoded) <= max_bytes:
                return Upload(encoded, "webp", reencoded=True)
        width, height = image.size
        if width <= 16 or height <= 16:
            return Upload(_encode(image, "JPEG", 30), "jpg", reencoded=True)
        image = image.resize((max(16, int(width * _DOWNSCALE)), max(16, int(height * _DOWNSCALE))))


def make_grid(images: list[bytes]) -> bytes:
    """Lay a batch out as one PNG, in rows as square as possible."""
    opened = [Image.open(io.BytesIO(data)).convert("RGB") for data in images]
    columns = math.ceil(math.sqrt(len(opened)))
    rows = math.ceil(len(opened) / columns)
    cell_width = max(image.width for image in opened)
    cell_height = max(image.height for image in opened)
    grid = Image.new("RGB", (columns * cell_width, rows * cell_height), "black")
    for index, image in enumerate(opened):
        grid.paste(image, ((index % columns) * cell_width, (index // columns) * cell_height))
    buffer = io.BytesIO()
    grid.save(buffer, "PNG")
    return buffer.getvalue()


def _encode(image: Image.Image, image_format: str, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, quality=quality)
    return buffer.getvalue()
