"""Connection failures, time budgets and the access log, seen through SDClient."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from sdclient import (
    BackendDisconnectedError,
    BackendRejectedError,
    BackendTimeoutError,
    BackendUnreachableError,
    SDClient,
    SDError,
    Txt2ImgRequest,
)

REQUEST = Txt2ImgRequest("a secret prompt", width=64, height=64)


@pytest.fixture
async def hang_up_url() -> AsyncIterator[str]:
    """Yield the URL of a raw server that reads a whole request and then closes the connection."""

    async def read_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                await reader.readexactly(int(value))
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(read_then_close, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def test_txt2img_refused_connection(session, refused_url) -> None:
    client = SDClient(session, refused_url)

    with pytest.raises(BackendUnreachableError) as caught:
        await client.txt2img(REQUEST)

    error = caught.value
    assert type(error) is BackendUnreachableError
    assert isinstance(error, ConnectionError)
    assert error.may_have_run is False
    assert error.url == f"{refused_url}/sdapi/v1/txt2img"
    assert refused_url in str(error)


async def test_txt2img_server_closes_connection(session, hang_up_url) -> None:
    client = SDClient(session, hang_up_url)

    with pytest.raises(BackendDisconnectedError) as caught:
        await client.txt2img(REQUEST)

    assert caught.value.may_have_run is True
    assert isinstance(caught.value, BackendUnreachableError)
    assert "may have run" in str(caught.value)


async def test_txt2img_times_out(webui, session) -> None:
    async def stall(request: web.Request) -> web.Response:
        await webui.release.wait()
        return web.json_response({})

    webui.handle("POST", "/sdapi/v1/txt2img", stall)
    client = SDClient(session, webui.base_url)

    with pytest.raises(BackendTimeoutError) as caught:
        await client.txt2img(REQUEST, timeout_s=0.2)

    error = caught.value
    assert isinstance(error, TimeoutError)
    assert error.budget_s == 0.2
    assert error.elapsed_s >= 0.2
    assert "0.2 s budget" in str(error)


async def test_progress_times_out(webui, session) -> None:
    async def stall(request: web.Request) -> web.Response:
        await webui.release.wait()
        return web.json_response({})

    webui.handle("GET", "/sdapi/v1/progress", stall)
    client = SDClient(session, webui.base_url, request_timeout_s=0.2)

    with pytest.raises(BackendTimeoutError):
        await client.progress()

    assert webui.count("GET", "/sdapi/v1/progress") == 1


async def test_access_log_line(webui, session, encode_image, caplog) -> None:
    webui.reply_txt2img([encode_image(64, 64)])
    client = SDClient(session, webui.base_url)

    with caplog.at_level(logging.DEBUG, logger="sdclient"):
        await client.txt2img(REQUEST)

    info = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    debug = [record.getMessage() for record in caplog.records if record.levelno == logging.DEBUG]
    assert len(info) == 1
    assert info[0].startswith("POST /sdapi/v1/txt2img 200 ")
    assert "a secret prompt" not in info[0]
    assert any("a secret prompt" in message for message in debug)


async def test_access_log_failed_request(session, refused_url, caplog) -> None:
    client = SDClient(session, refused_url)

    with caplog.at_level(logging.INFO, logger="sdclient"), pytest.raises(SDError):
        await client.interrupt()

    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 1
    assert messages[0].startswith("POST /sdapi/v1/interrupt failed (ClientConnectorError")


async def test_basic_auth_sent(webui, session) -> None:
    headers: list[str | None] = []

    async def record_auth(request: web.Request) -> web.Response:
        headers.append(request.headers.get("Authorization"))
        return web.json_response([])

    webui.handle("GET", "/sdapi/v1/samplers", record_auth)
    client = SDClient(session, webui.base_url, auth=("bot", "hunter2"))

    await client.samplers()

    assert headers == ["Basic Ym90Omh1bnRlcjI="]


async def test_url_credentials_hidden(webui, session) -> None:
    base_url = webui.base_url.replace("http://", "http://bot:hunter2@")
    webui.reply("GET", "/sdapi/v1/samplers", status=401, body={"detail": "Not authenticated"})
    client = SDClient(session, base_url)

    with pytest.raises(BackendRejectedError) as caught:
        await client.samplers()

    assert "hunter2" not in str(caught.value)
    assert caught.value.url == webui.base_url.rstrip("/") + "/sdapi/v1/samplers"


async def test_redirect_not_followed(webui, session) -> None:
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("https://webui.example/sdapi/v1/samplers")

    webui.handle("GET", "/sdapi/v1/samplers", redirect)
    client = SDClient(session, webui.base_url)

    with pytest.raises(BackendRejectedError) as caught:
        await client.samplers()

    assert caught.value.status == 302
    assert caught.value.reason is not None
    assert "https://webui.example/sdapi/v1/samplers" in caught.value.reason
    assert webui.count("GET", "/sdapi/v1/samplers") == 1
