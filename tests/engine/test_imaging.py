"""Upload preparation: grids for batches and re-encoding that never drops an image."""

from __future__ import annotations

import io
import os

from PIL import Image

from engine.imaging import fit_to_limit, make_grid


def png(width: int, height: int, *, noisy: bool = False) -> bytes:
    if noisy:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), "teal")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_fit_keeps_small_image_unchanged() -> None:
    data = png(64, 64)

    upload = fit_to_limit(data, "png", 10_000_000)

    assert upload.data == data
    assert upload.extension == "png"
    assert not upload.reencoded


def test_fit_reencodes_large_image_under_limit() -> None:
    data = png(512, 512, noisy=True)
    limit = 100_000

    upload = fit_to_limit(data, "png", limit)

    assert len(data) > limit
    assert len(upload.data) <= limit
    assert upload.reencoded
    assert upload.extension == "webp"
    assert Image.open(io.BytesIO(upload.data)).format == "WEBP"


def test_fit_downscales_when_quality_is_not_enough() -> None:
    data = png(512, 512, noisy=True)

    upload = fit_to_limit(data, "png", 5_000)

    assert len(upload.data) <= 5_000
    assert Image.open(io.BytesIO(upload.data)).width < 512


def test_grid_of_three_is_two_by_two() -> None:
    grid = Image.open(io.BytesIO(make_grid([png(64, 32)] * 3)))

    assert grid.size == (128, 64)
