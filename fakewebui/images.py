"""Stand-in images: deterministic, cheap to draw, and visibly different per prompt.

The prompt's hash picks the palette, the gradient angle and the kind of shapes. The prompt and
seed together place the shapes, and the seed is drawn as text. Drawing uses only Pillow
primitives implemented in C, so a 1024x1024 image takes milliseconds. Unfinished images blend
seeded noise over the finished one.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import random
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont, ImageOps
from PIL.PngImagePlugin import PngInfo

PREVIEW_MAX_SIDE_PX = 128
_PNG_COMPRESS_LEVEL = 1
_SHAPE_KINDS = ("ellipse", "rectangle", "triangle")


def render(prompt: str, seed: int, width: int, height: int) -> Image.Image:
    """Draw the finished image for ``prompt`` and ``seed`` at exactly ``width`` x ``height``."""
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    image = _background(digest, width, height)
    draw = ImageDraw.Draw(image)
    rng = random.Random(int.from_bytes(hashlib.sha256(digest + str(seed).encode()).digest()))
    for index in range(6 + digest[6] % 7):
        _draw_shape(draw, rng, digest, index, width, height)
    _draw_label(draw, prompt, seed, width, height)
    return image


def render_partial(prompt: str, seed: int, width: int, height: int, fraction: float) -> Image.Image:
    """Draw the image as it looks after ``fraction`` (0 to 1) of its sampling steps."""
    final = render(prompt, seed, width, height)
    fraction = min(max(fraction, 0.0), 1.0)
    if fraction >= 1.0:
        return final
    noise = Image.frombytes(
        "RGB", (width, height), random.Random(seed).randbytes(width * height * 3)
    )
    return Image.blend(noise, final, alpha=fraction)


def render_preview(prompt: str, seed: int, width: int, height: int, fraction: float) -> bytes:
    """Return a small PNG of the unfinished image, as the live preview shows it."""
    scale = min(1.0, PREVIEW_MAX_SIDE_PX / max(width, height))
    small_width = max(1, round(width * scale))
    small_height = max(1, round(height * scale))
    return encode(render_partial(prompt, seed, small_width, small_height, fraction), "png")


def make_grid(tiles: Sequence[Image.Image]) -> Image.Image:
    """Paste equally sized images into a near-square grid, row by row."""
    columns = math.ceil(math.sqrt(len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    tile_width, tile_height = tiles[0].size
    grid = Image.new("RGB", (columns * tile_width, rows * tile_height), "black")
    for index, tile in enumerate(tiles):
        grid.paste(tile, ((index % columns) * tile_width, (index // columns) * tile_height))
    return grid


def encode(
    image: Image.Image, image_format: str, infotext: str | None = None, quality: int = 80
) -> bytes:
    """Encode as PNG (infotext in a ``parameters`` text chunk), JPEG or WebP."""
    buffer = io.BytesIO()
    image_format = image_format.lower()
    if image_format in ("jpg", "jpeg"):
        image.save(buffer, "JPEG", quality=quality)
    elif image_format == "webp":
        image.save(buffer, "WEBP", quality=quality)
    else:
        metadata = None
        if infotext is not None:
            metadata = PngInfo()
            metadata.add_text("parameters", infotext)
        image.save(buffer, "PNG", pnginfo=metadata, compress_level=_PNG_COMPRESS_LEVEL)
    return buffer.getvalue()


def _background(digest: bytes, width: int, height: int) -> Image.Image:
    gradient = Image.linear_gradient("L").rotate(
        digest[7] * 360 / 256, resample=Image.Resampling.BILINEAR
    )
    # Rotating leaves black corners, so only the inner square of the gradient is used.
    gradient = gradient.crop((48, 48, 208, 208)).resize((width, height), Image.Resampling.BILINEAR)
    return ImageOps.colorize(gradient, _colour(digest, 0), _colour(digest, 3))


def _draw_shape(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    digest: bytes,
    index: int,
    width: int,
    height: int,
) -> None:
    kind = _SHAPE_KINDS[(digest[8] + index) % len(_SHAPE_KINDS)]
    size = rng.uniform(0.15, 0.45) * min(width, height)
    x = rng.uniform(0, width)
    y = rng.uniform(0, height)
    base = _colour(digest, 9 + 3 * (index % 7))
    fill = tuple(min(255, max(0, channel + rng.randint(-40, 40))) for channel in base)
    box = (x - size / 2, y - size / 2, x + size / 2, y + size / 2)
    if kind == "ellipse":
        draw.ellipse(box, fill=fill)
    elif kind == "rectangle":
        draw.rectangle(box, fill=fill)
    else:
        draw.polygon([(x, box[1]), (box[2], box[3]), (box[0], box[3])], fill=fill)


def _draw_label(draw: ImageDraw.ImageDraw, prompt: str, seed: int, width: int, height: int) -> None:
    font = _font(max(8, min(width, height) // 14))
    margin = max(2, min(width, height) // 64)
    seed_text = f"seed {seed}"
    left, top, right, bottom = draw.textbbox((margin, 0), seed_text, font=font)
    y = height - margin - (bottom - top)
    draw.rectangle((left - 1, y - 1, right + 1, height - margin + 1), fill=(0, 0, 0))
    draw.text((margin, y - top), seed_text, font=font, fill=(255, 255, 255))
    caption = prompt if len(prompt) <= 48 else prompt[:47] + "..."
    if not isinstance(font, ImageFont.FreeTypeFont):
        # The bitmap fallback font encodes text as Latin-1 and raises on anything else.
        caption = caption.encode("latin-1", "replace").decode("latin-1")
    draw.text(
        (margin, margin),
        caption,
        font=font,
        fill=(255, 255, 255),
        stroke_width=1,
        stroke_fill=(0, 0, 0),
    )


@functools.lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError):
        # Without FreeType, Pillow has only its fixed-size bitmap font.
        return ImageFont.load_default()


def _colour(digest: bytes, offset: int) -> tuple[int, int, int]:
    return (digest[offset % 32], digest[(offset + 1) % 32], digest[(offset + 2) % 32])
