"""Each fault kind, armed through the Python API and through /fake/faults."""

from __future__ import annotations

import asyncio
import base64
import binascii
import io

import aiohttp
import pytest
from PIL import Image, UnidentifiedImageError

from fakewebui import FAULT_KINDS, FakeWebUI
from fakewebui.errors import InvalidFaultCountError, UnknownFaultError

PAYLOAD = {"prompt": "fault", "steps": 2, "width": 64, "height": 64}


async def _received(webui, count: int) -> bool:
    return len(webui.requests) >= count


async def test_fault_error_500(client, webui) -> None:
    webui.fail_next("error_500")

    failed = await client.txt2img(PAYLOAD)
    recovered = await client.txt2img(PAYLOAD)

    assert failed.status == 500
    assert failed.body["error"] == "Exception"
    assert failed.body["detail"] == ""
    assert failed.body["body"] == ""
    assert failed.body["errors"]
    assert recovered.status == 200


async def test_fault_oom_count_two(client, webui) -> None:
    webui.fail_next("oom", count=2)

    replies = [await client.txt2img(PAYLOAD) for _ in range(3)]
    memory = await client.get("/sdapi/v1/memory")

    assert [reply.status for reply in replies] == [500, 500, 200]
    assert replies[0].body["error"] == "OutOfMemoryError"
    assert replies[0].body["errors"].startswith("CUDA out of memory. Tried to allocate")
    assert memory.body["cuda"]["events"]["oom"] == 2
    assert webui.generated == 1


async def test_fault_broken_image(client, webui) -> None:
    webui.fail_next("broken_image")

    reply = await client.txt2img(PAYLOAD)

    text = reply.body["images"][0]
    assert reply.status == 200
    with pytest.raises(binascii.Error):
        base64.b64decode(text, validate=True)
    data = base64.b64decode(text)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises((OSError, UnidentifiedImageError)):
        Image.open(io.BytesIO(data)).load()


async def test_fault_wrong_size(client, webui) -> None:
    webui.fail_next("wrong_size")

    reply = await client.txt2img({**PAYLOAD, "width": 128, "height": 96})

    assert reply.status == 200
    assert client.decode_image(reply.body["images"][0]).size == (64, 48)


async def test_fault_empty_images(client, webui) -> None:
    webui.fail_next("empty_images")

    reply = await client.txt2img(PAYLOAD)

    assert reply.status == 200
    assert reply.body["images"] == []
    assert client.info(reply.body)["all_seeds"]


async def test_fault_disconnect(client, webui) -> None:
    webui.fail_next("disconnect")

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.txt2img(PAYLOAD)
    recovered = await client.txt2img(PAYLOAD)

    assert len(webui.requests) == 2
    assert recovered.status == 200


async def test_fault_hang_until_cleared(client, webui) -> None:
    webui.fail_next("hang")
    hanging = asyncio.create_task(client.txt2img(PAYLOAD))
    await client.wait_until(lambda: _received(webui, 1))

    others = await client.txt2img(PAYLOAD)
    still_hanging = not hanging.done()
    webui.clear_faults()
    released = await hanging

    assert others.status == 200
    assert still_hanging
    assert released.status == 200


async def test_fault_hang_ends_on_stop(session) -> None:
    webui = FakeWebUI(speed=1000)
    await webui.start()
    webui.fail_next("hang")
    url = f"{webui.url}/sdapi/v1/txt2img"
    hanging = asyncio.create_task(session.post(url, json=PAYLOAD))
    await _wait_received(webui)

    await asyncio.wait_for(webui.stop(), timeout=20)

    with pytest.raises(aiohttp.ClientError):
        response = await hanging
        response.release()


async def _wait_received(webui) -> None:
    async with asyncio.timeout(20):
        while True:
            if webui.requests:
                return
            await asyncio.sleep(0.005)


async def test_fault_armed_in_order(client, webui) -> None:
    webui.fail_next("empty_images")
    webui.fail_next("error_500")

    first = await client.txt2img(PAYLOAD)
    second = await client.txt2img(PAYLOAD)

    assert first.status == 200
    assert first.body["images"] == []
    assert second.status == 500


async def test_fault_not_used_by_invalid_request(client, webui) -> None:
    webui.fail_next("error_500")

    invalid = await client.txt2img({"steps": "x"})
    failed = await client.txt2img(PAYLOAD)

    assert invalid.status == 422
    assert failed.status == 500


def test_fail_next_rejects_bad_arguments() -> None:
    webui = FakeWebUI()

    with pytest.raises(UnknownFaultError) as unknown:
        webui.fail_next("meteor")
    with pytest.raises(InvalidFaultCountError):
        webui.fail_next("oom", count=0)

    assert isinstance(unknown.value, ValueError)
    assert unknown.value.kind == "meteor"
    assert "error_500" in str(unknown.value)


async def test_fault_route_arm_and_clear(client) -> None:
    armed = await client.post("/fake/faults", {"kind": "oom", "count": 2})
    listed = await client.get("/fake/faults")
    failed = await client.txt2img(PAYLOAD)
    cleared = await client.request("DELETE", "/fake/faults")
    recovered = await client.txt2img(PAYLOAD)

    assert armed.status == 200
    assert armed.body["pending"] == ["oom", "oom"]
    assert listed.body["kinds"] == list(FAULT_KINDS)
    assert failed.status == 500
    assert cleared.body["pending"] == []
    assert recovered.status == 200


@pytest.mark.parametrize(
    ("payload", "field"), [({"kind": "meteor"}, "kind"), ({"kind": "oom", "count": 0}, "count")]
)
async def test_fault_route_rejects(client, payload, field) -> None:
    reply = await client.post("/fake/faults", payload)

    assert reply.status == 422
    assert reply.body["detail"][0]["loc"] == ["body", field]


async def test_fault_route_works_without_api(client, webui) -> None:
    webui.api_enabled = False

    reply = await client.post("/fake/faults", {"kind": "hang"})

    assert reply.status == 200
    assert reply.body["pending"] == ["hang"]


async def test_settings_route_changes_switches(client, webui) -> None:
    changed = await client.post(
        "/fake/settings", {"speed": 250, "api_enabled": False, "api_auth": ["u", "p"]}
    )
    speed = webui.speed
    api_enabled = webui.api_enabled
    api_auth = webui.api_auth
    reset = await client.post("/fake/settings", {"api_enabled": True, "api_auth": None})
    invalid = await client.post("/fake/settings", {"speed": 0})

    assert changed.status == 200
    assert changed.body["speed"] == 250
    assert speed == 250
    assert api_enabled is False
    assert api_auth == ("u", "p")
    assert reset.body["api_enabled"] is True
    assert reset.body["api_auth"] is False
    assert reset.body["speed"] == 250
    assert invalid.status == 422
