"""extra-single-image upscaling and png-info parsing."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo


def _png_base64(size: tuple[int, int] = (32, 16), parameters: str | None = None) -> str:
    metadata = PngInfo()
    if parameters is not None:
        metadata.add_text("parameters", parameters)
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG", pnginfo=metadata)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


async def test_extras_a1111_test_payload(client) -> None:
    payload = {
        "resize_mode": 0,
        "show_extras_results": True,
        "gfpgan_visibility": 0,
        "codeformer_visibility": 0,
        "codeformer_weight": 0,
        "upscaling_resize": 2,
        "upscaling_resize_w": 128,
        "upscaling_resize_h": 128,
        "upscaling_crop": True,
        "upscaler_1": "Lanczos",
        "upscaler_2": "None",
        "extras_upscaler_2_visibility": 0,
        "image": "data:image/png;base64," + _png_base64(),
    }

    reply = await client.post("/sdapi/v1/extra-single-image", payload)

    assert reply.status == 200
    assert client.decode_image(reply.body["image"]).size == (64, 32)
    assert "Lanczos" in reply.body["html_info"]


async def test_extras_resize_to_size_cropped(client) -> None:
    payload = {
        "resize_mode": 1,
        "upscaling_resize_w": 50,
        "upscaling_resize_h": 50,
        "upscaler_1": "Nearest",
        "upscaler_2": "R-ESRGAN 4x+",
        "extras_upscaler_2_visibility": 0.5,
        "image": _png_base64(),
    }

    reply = await client.post("/sdapi/v1/extra-single-image", payload)

    assert reply.status == 200
    assert client.decode_image(reply.body["image"]).size == (50, 50)


async def test_extras_upscaler_none_unchanged(client) -> None:
    reply = await client.post("/sdapi/v1/extra-single-image", {"image": _png_base64()})

    assert reply.status == 200
    assert client.decode_image(reply.body["image"]).size == (32, 16)


async def test_extras_unknown_upscaler_500(client) -> None:
    payload = {"image": _png_base64(), "upscaler_1": "Magic"}

    reply = await client.post("/sdapi/v1/extra-single-image", payload)

    assert reply.status == 500
    assert reply.body == {
        "error": "AssertionError",
        "detail": "",
        "body": "",
        "errors": "could not find upscaler named Magic",
    }


@pytest.mark.parametrize("image", ["", "bm90IGFuIGltYWdl", "%%%"])
async def test_extras_invalid_image_500(client, image) -> None:
    reply = await client.post("/sdapi/v1/extra-single-image", {"image": image})

    assert reply.status == 500
    assert reply.body["error"] == "HTTPException"
    assert reply.body["detail"] == "Invalid encoded image"


async def test_extras_out_of_range_422(client) -> None:
    payload = {"image": _png_base64(), "resize_mode": 3, "gfpgan_visibility": 2}

    reply = await client.post("/sdapi/v1/extra-single-image", payload)

    assert reply.status == 422
    assert [error["loc"] for error in reply.body["detail"]] == [
        ["body", "resize_mode"],
        ["body", "gfpgan_visibility"],
    ]


async def test_png_info_of_generated_image(client) -> None:
    generated = await client.txt2img(
        {"prompt": "a teapot", "negative_prompt": "blurry", "seed": 77, "steps": 3, "width": 64}
    )

    reply = await client.post("/sdapi/v1/png-info", {"image": generated.body["images"][0]})

    assert reply.status == 200
    assert reply.body["info"] == client.info(generated.body)["infotexts"][0]
    assert reply.body["parameters"]["Prompt"] == "a teapot"
    assert reply.body["parameters"]["Negative prompt"] == "blurry"
    assert reply.body["parameters"]["Seed"] == "77"
    assert reply.body["parameters"]["Size-1"] == "64"


async def test_png_info_without_parameters(client) -> None:
    reply = await client.post("/sdapi/v1/png-info", {"image": _png_base64()})
    empty = await client.post("/sdapi/v1/png-info", {"image": ""})

    assert reply.body == {"info": "", "items": {}, "parameters": {}}
    assert empty.body == {"info": "", "items": {}, "parameters": {}}


async def test_png_info_missing_image_422(client) -> None:
    reply = await client.post("/sdapi/v1/png-info", {})

    assert reply.status == 422
    assert reply.body["detail"] == [
        {"loc": ["body", "image"], "msg": "field required", "type": "value_error.missing"}
    ]
