"""Fixtures for sdclient tests: a canned WebUI on 127.0.0.1, a client session and test images."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ImageEncoder = Callable[..., str]

# The exact body FastAPI sends for a route that does not exist.
NOT_FOUND_BODY = {"detail": "Not Found"}


class StubWebUI:
    """A WebUI stand-in that serves canned responses per method and path and records requests."""

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.requests: list[tuple[str, str]] = []
        self.json_bodies: list[Any] = []
        self.release = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.server = TestServer(app, host="127.0.0.1", port=0)

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("/"))

    def handle(self, method: str, path: str, handler: Handler) -> None:
        self.handlers[(method, path)] = handler

    def reply(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        body: Any = None,
        text: str | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Respond to `method path` with a fixed status and a JSON body, or a raw text body."""
        raw = text if text is not None else json.dumps(body)

        async def canned(request: web.Request) -> web.Response:
            if status == 204:
                return web.Response(status=204)
            return web.Response(status=status, text=raw, content_type=content_type)

        self.handle(method, path, canned)

    def reply_txt2img(self, images: list[str], **info: Any) -> None:
        """Respond to txt2img with the documented A1111 body, `info` being a JSON string."""
        info = {"seed": 1000, "all_seeds": [1000 + i for i in range(len(images))]} | info
        body = {"images": images, "parameters": {"prompt": "a cat"}, "info": json.dumps(info)}
        self.reply("POST", "/sdapi/v1/txt2img", body=body)

    def count(self, method: str, path: str) -> int:
        return sum(1 for seen in self.requests if seen[0] == method and seen[1] == path)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if request.can_read_body:
            self.json_bodies.append(await request.json())
        handler = self.handlers.get((request.method, request.path))
        if handler is None:
            return web.json_response(NOT_FOUND_BODY, status=404)
        return await handler(request)


@pytest.fixture
async def webui() -> AsyncIterator[StubWebUI]:
    stub = StubWebUI()
    await stub.server.start_server()
    yield stub
    stub.release.set()
    await stub.server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def refused_url() -> Iterator[str]:
    """Yield a URL of a 127.0.0.1 port that is bound but not listening, so connects are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def encode_image() -> ImageEncoder:
    """Return a function that encodes a solid image of a given size as base64."""

    def encode(width: int, height: int, image_format: str = "PNG") -> str:
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), (200, 40, 90)).save(buffer, format=image_format)
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    return encode
