"""txt2img bodies that decode, and 200 bodies that are unusable and raise InvalidResultError."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from sdclient import EmptyResultError, InvalidResultError, SDClient, Txt2ImgRequest

REQUEST = Txt2ImgRequest("a cat", width=64, height=64)


async def generate(webui: Any, session: Any, request: Txt2ImgRequest = REQUEST) -> Any:
    client = SDClient(session, webui.base_url)
    return await client.txt2img(request)


async def expect_invalid(webui: Any, session: Any, request: Txt2ImgRequest = REQUEST) -> str:
    with pytest.raises(InvalidResultError) as caught:
        await generate(webui, session, request)
    assert caught.value.status == 200
    assert caught.value.reason is not None
    return caught.value.reason


async def test_txt2img_data_url_prefix(webui, session, encode_image) -> None:
    webui.reply_txt2img(["data:image/png;base64," + encode_image(64, 64)])

    result = await generate(webui, session)

    assert result.images[0].format == "png"
    assert result.images[0].data.startswith(b"\x89PNG")


@pytest.mark.parametrize(("pillow_format", "expected"), [("JPEG", "jpeg"), ("WEBP", "webp")])
async def test_txt2img_other_formats(
    webui, session, encode_image, pillow_format: str, expected: str
) -> None:
    webui.reply_txt2img([encode_image(64, 64, pillow_format)])

    result = await generate(webui, session)

    assert result.images[0].format == expected
    assert (result.images[0].width, result.images[0].height) == (64, 64)


async def test_txt2img_info_empty_string(webui, session, encode_image) -> None:
    body = {"images": [encode_image(64, 64)], "parameters": {}, "info": ""}
    webui.reply("POST", "/sdapi/v1/txt2img", body=body)

    result = await generate(webui, session)

    assert result.info == {}
    assert result.seeds == []
    assert result.images[0].seed is None


async def test_txt2img_info_invalid_json(webui, session, encode_image) -> None:
    body = {"images": [encode_image(64, 64)], "parameters": None, "info": "{not json"}
    webui.reply("POST", "/sdapi/v1/txt2img", body=body)

    result = await generate(webui, session)

    assert result.info == {}
    assert result.parameters == {}


async def test_txt2img_seed_without_all_seeds(webui, session, encode_image) -> None:
    body = {
        "images": [encode_image(64, 64)] * 2,
        "parameters": {},
        "info": json.dumps({"seed": 42}),
    }
    webui.reply("POST", "/sdapi/v1/txt2img", body=body)

    result = await generate(
        webui, session, Txt2ImgRequest("a cat", width=64, height=64, batch_size=2)
    )

    assert [image.seed for image in result.images] == [42, None]


async def test_txt2img_extra_images_dropped(webui, session, encode_image) -> None:
    webui.reply_txt2img([encode_image(64, 64), encode_image(32, 32)], all_seeds=[5])

    result = await generate(webui, session)

    assert len(result.images) == 1
    assert result.seeds == [5]


async def test_txt2img_empty_images_sdnext(webui, session) -> None:
    webui.reply("POST", "/sdapi/v1/txt2img", body={"images": [], "parameters": {}, "info": ""})

    with pytest.raises(EmptyResultError) as caught:
        await generate(webui, session)

    assert isinstance(caught.value, InvalidResultError)
    assert caught.value.status == 200
    assert caught.value.reason == "the response contained no images"
    assert "SD.Next does when it has no model loaded" in str(caught.value)


async def test_txt2img_broken_base64(webui, session) -> None:
    webui.reply_txt2img(["iVBORw0KGgo!!!not-base64"])

    reason = await expect_invalid(webui, session)

    assert reason.startswith("image 1: the image is not valid base64")


async def test_txt2img_bytes_not_image(webui, session) -> None:
    webui.reply_txt2img(["aGVsbG8gd29ybGQ="])

    reason = await expect_invalid(webui, session)

    assert reason.startswith("image 1: the bytes are not a PNG, JPEG or WEBP image")


async def test_txt2img_truncated_png(webui, session, encode_image) -> None:
    data = base64.b64decode(encode_image(64, 64))
    webui.reply_txt2img([base64.b64encode(data[: len(data) // 2]).decode()])

    reason = await expect_invalid(webui, session)

    assert reason.startswith("image 1: the png image does not decode")


async def test_txt2img_wrong_size(webui, session, encode_image) -> None:
    webui.reply_txt2img([encode_image(64, 64), encode_image(32, 64)])

    reason = await expect_invalid(
        webui, session, Txt2ImgRequest("a cat", width=64, height=64, batch_size=2)
    )

    assert reason == "image 2 is 32x64 but 64x64 was requested"


async def test_txt2img_too_few_images(webui, session, encode_image) -> None:
    webui.reply_txt2img([encode_image(64, 64)] * 3)

    reason = await expect_invalid(
        webui, session, Txt2ImgRequest("a cat", width=64, height=64, n_iter=4)
    )

    assert reason == "the response contained 3 images but the job makes 4"


async def test_txt2img_grid_counts_against_images(webui, session, encode_image) -> None:
    webui.reply_txt2img([encode_image(128, 64), encode_image(64, 64)], index_of_first_image=1)

    reason = await expect_invalid(
        webui, session, Txt2ImgRequest("a cat", width=64, height=64, batch_size=2)
    )

    assert reason == "the response contained 1 images but the job makes 2"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("<html>ok</html>", "the body is not JSON", id="html"),
        pytest.param("", "the body has no images list", id="empty"),
        pytest.param('{"detail": "done"}', "the body has no images list", id="no-images"),
    ],
)
async def test_txt2img_unusable_body(webui, session, text: str, reason: str) -> None:
    webui.reply("POST", "/sdapi/v1/txt2img", text=text)

    assert await expect_invalid(webui, session) == reason
