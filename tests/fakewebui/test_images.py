"""Stand-in image drawing: exact sizes, determinism, prompt-dependent looks, encodings."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from fakewebui import images


@pytest.mark.parametrize("size", [(8, 8), (64, 128), (1024, 1024), (513, 77)])
def test_render_exact_size(size) -> None:
    image = images.render("a castle", 1, *size)

    assert image.size == size
    assert image.mode == "RGB"


def test_render_deterministic_per_prompt_and_seed() -> None:
    first = images.render("a castle", 5, 128, 128).tobytes()
    again = images.render("a castle", 5, 128, 128).tobytes()
    other_seed = images.render("a castle", 6, 128, 128).tobytes()
    other_prompt = images.render("a forest", 5, 128, 128).tobytes()

    assert first == again
    assert first != other_seed
    assert first != other_prompt


def test_render_prompts_differ_in_colour() -> None:
    first = images.render("a castle", 5, 64, 64).resize((1, 1)).getpixel((0, 0))
    second = images.render("a forest", 5, 64, 64).resize((1, 1)).getpixel((0, 0))

    assert first != second


def test_render_non_latin_prompt() -> None:
    image = images.render("東京の夜景 🌃, ünïcödé", 3, 64, 64)

    assert image.size == (64, 64)


def test_render_partial_blends_towards_final() -> None:
    final = images.render("a boat", 2, 64, 64)

    start = images.render_partial("a boat", 2, 64, 64, 0.0)
    done = images.render_partial("a boat", 2, 64, 64, 1.0)

    assert done.tobytes() == final.tobytes()
    assert start.tobytes() != final.tobytes()
    assert start.size == (64, 64)


def test_render_preview_small_png() -> None:
    data = images.render_preview("a boat", 2, 1024, 512, 0.5)

    preview = Image.open(io.BytesIO(data))
    assert preview.format == "PNG"
    assert preview.size == (128, 64)


def test_make_grid_layout() -> None:
    tiles = [images.render("tile", seed, 30, 20) for seed in range(5)]

    grid = images.make_grid(tiles)

    assert grid.size == (90, 40)


@pytest.mark.parametrize(("image_format", "pillow_format"), [("png", "PNG"), ("jpg", "JPEG")])
def test_encode_formats(image_format, pillow_format) -> None:
    data = images.encode(images.render("x", 1, 16, 16), image_format, "infotext")

    decoded = Image.open(io.BytesIO(data))
    assert decoded.format == pillow_format


def test_encode_png_parameters_chunk() -> None:
    data = images.encode(images.render("x", 1, 16, 16), "png", "x\nSteps: 3, Seed: 1")

    assert Image.open(io.BytesIO(data)).info["parameters"] == "x\nSteps: 3, Seed: 1"
