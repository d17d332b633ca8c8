"""Fixtures for the fake WebUI tests: a running server and a small JSON client for it."""

from __future__ import annotations

import asyncio
import base64
import copy
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy
from PIL import Image

from fakewebui import FakeWebUI

# Fast enough that a 512x512, 20-step job takes about 2 ms of simulated time.
FAST_SPEED = 1000.0

# The txt2img payload of A1111's own API tests (test/test_txt2img.py).
A1111_TEST_PAYLOAD: dict[str, Any] = {
    "prompt": "example prompt",
    "negative_prompt": "",
    "seed": -1,
    "subseed": -1,
    "subseed_strength": 0,
    "seed_resize_from_h": -1,
    "seed_resize_from_w": -1,
    "sampler_index": "Euler a",
    "batch_size": 1,
    "n_iter": 1,
    "steps": 3,
    "cfg_scale": 7,
    "width": 64,
    "height": 64,
    "restore_faces": False,
    "tiling": False,
    "do_not_save_samples": False,
    "do_not_save_grid": False,
    "eta": 0,
    "denoising_strength": 0,
    "s_min_uncond": 0,
    "s_churn": 0,
    "s_tmax": 0,
    "s_tmin": 0,
    "s_noise": 0,
    "override_settings": {},
    "override_settings_restore_afterwards": True,
    "refiner_checkpoint": None,
    "refiner_switch_at": 0,
    "disable_extra_networks": False,
    "comments": {},
    "enable_hr": False,
    "firstphase_width": 0,
    "firstphase_height": 0,
    "hr_scale": 2,
    "hr_upscaler": None,
    "hr_second_pass_steps": 0,
    "hr_resize_x": 0,
    "hr_resize_y": 0,
    "hr_checkpoint_name": None,
    "hr_sampler_name": None,
    "hr_prompt": "",
    "hr_negative_prompt": "",
    "script_name": None,
    "script_args": [],
    "send_images": True,
    "save_images": False,
    "alwayson_scripts": {},
}


@dataclass
class Reply:
    """Status, headers and parsed JSON body of one response."""

    status: int
    headers: CIMultiDictProxy[str]
    body: Any


@dataclass
class ApiClient:
    """A JSON client for one fake WebUI, with decoding helpers for its responses."""

    session: aiohttp.ClientSession
    url: str

    async def get(self, path: str, **kwargs: Any) -> Reply:
        """Send a GET and return the reply."""
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, payload: Any = None, **kwargs: Any) -> Reply:
        """Send a POST with ``payload`` as JSON and return the reply."""
        if payload is not None:
            kwargs["json"] = payload
        return await self.request("POST", path, **kwargs)

    async def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        """Send any request and return the reply, with the body parsed as JSON when it is."""
        async with self.session.request(method, self.url + path, **kwargs) as response:
            text = await response.text()
            body = json.loads(text) if response.content_type == "application/json" else text
            return Reply(response.status, response.headers, body)

    async def txt2img(self, payload: dict[str, Any]) -> Reply:
        """POST a txt2img payload."""
        return await self.post("/sdapi/v1/txt2img", payload)

    async def progress(self, **query: str) -> dict[str, Any]:
        """GET progress and return its body after checking for status 200."""
        reply = await self.get("/sdapi/v1/progress", params=query)
        assert reply.status == 200, reply.body
        body: dict[str, Any] = reply.body
        return body

    @staticmethod
    def decode_image(text: str) -> Image.Image:
        """Decode one strict base64 image and load its pixels."""
        image = Image.open(io.BytesIO(base64.b64decode(text, validate=True)))
        image.load()
        return image

    @staticmethod
    def info(body: dict[str, Any]) -> dict[str, Any]:
        """Parse the ``info`` JSON string of a txt2img body."""
        assert isinstance(body["info"], str)
        info: dict[str, Any] = json.loads(body["info"])
        return info

    @staticmethod
    async def wait_until(probe: Callable[[], Awaitable[Any]], timeout_s: float = 20) -> Any:
        """Await ``probe`` every 5 ms until it returns something truthy; fail on timeout."""
        async with asyncio.timeout(timeout_s):
            while True:
                value = await probe()
                if value:
                    return value
                await asyncio.sleep(0.005)


@pytest.fixture
async def webui() -> AsyncIterator[FakeWebUI]:
    async with FakeWebUI(speed=FAST_SPEED) as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as client:
        yield client


@pytest.fixture
def client(webui: FakeWebUI, session: aiohttp.ClientSession) -> ApiClient:
    return ApiClient(session, webui.url)


@pytest.fixture
def a1111_payload() -> dict[str, Any]:
    return copy.deepcopy(A1111_TEST_PAYLOAD)
