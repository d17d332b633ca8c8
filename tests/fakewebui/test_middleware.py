"""Error bodies for unknown routes and methods, X-Process-Time, and the --api gates."""

from __future__ import annotations

import base64

import pytest

from fakewebui import FakeWebUI


async def test_unknown_route_404(client) -> None:
    reply = await client.get("/sdapi/v1/does-not-exist")

    assert reply.status == 404
    assert reply.body == {"detail": "Not Found"}
    assert reply.headers["Content-Type"].startswith("application/json")


async def test_wrong_method_405(client) -> None:
    reply = await client.get("/sdapi/v1/txt2img")

    assert reply.status == 405
    assert reply.body == {"detail": "Method Not Allowed"}


@pytest.mark.parametrize("path", ["/", "/sdapi/v1/progress", "/nowhere", "/internal/ping"])
async def test_process_time_header_everywhere(client, path) -> None:
    reply = await client.get(path)

    assert float(reply.headers["X-Process-Time"]) >= 0


async def test_home_page_not_5xx(client) -> None:
    reply = await client.get("/")

    assert reply.status == 200
    assert "Stable Diffusion" in reply.body


async def test_internal_ping_empty_object(client) -> None:
    reply = await client.get("/internal/ping")

    assert reply.status == 200
    assert reply.body == {}


async def test_api_disabled_hides_sdapi(client, webui) -> None:
    webui.api_enabled = False

    options = await client.get("/sdapi/v1/options")
    txt2img = await client.txt2img({"prompt": "cat"})
    ping = await client.get("/internal/ping")
    webui.api_enabled = True
    restored = await client.get("/sdapi/v1/options")

    assert options.status == 404
    assert options.body == {"detail": "Not Found"}
    assert txt2img.status == 404
    assert webui.requests == []
    assert ping.status == 200
    assert restored.status == 200


def _basic(credentials: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Not authenticated"),
        ({"Authorization": "Bearer token"}, "Not authenticated"),
        ({"Authorization": "Basic !!!"}, "Invalid authentication credentials"),
        (_basic(b"no-colon"), "Invalid authentication credentials"),
        (_basic(b"user:wrong"), "Incorrect username or password"),
        (_basic(b"other:pass"), "Incorrect username or password"),
    ],
)
async def test_api_auth_rejects(session, headers, detail) -> None:
    async with FakeWebUI(api_auth=("user", "pass")) as webui:
        async with session.get(f"{webui.url}/sdapi/v1/progress", headers=headers) as response:
            body = await response.json()

    assert response.status == 401
    assert body == {"error": "HTTPException", "detail": detail, "body": "", "errors": ""}
    assert "WWW-Authenticate" not in response.headers


async def test_api_auth_accepts(session) -> None:
    auth = _basic(b"user:pass")
    async with FakeWebUI(api_auth=("user", "pass"), speed=1000) as webui:
        async with session.get(f"{webui.url}/sdapi/v1/options", headers=auth) as options:
            options_status = options.status
        async with session.get(f"{webui.url}/internal/ping") as ping:
            ping_status = ping.status
        async with session.get(f"{webui.url}/sdapi/v1/missing") as missing:
            missing_status = missing.status

    assert options_status == 200
    assert ping_status == 200
    assert missing_status == 404


async def test_api_auth_settable(client, webui) -> None:
    webui.api_auth = ("admin", "secret")
    locked = await client.get("/sdapi/v1/options")
    webui.api_auth = None
    open_again = await client.get("/sdapi/v1/options")

    assert locked.status == 401
    assert open_again.status == 200
