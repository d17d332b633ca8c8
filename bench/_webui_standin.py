"""A minimal AUTOMATIC1111 API stand-in for the benchmarks, run as a helper process.

It serves the routes that the bot's SDClient calls: txt2img, progress, interrupt, samplers,
upscalers and sd-models, which lists one checkpoint. Each txt2img request holds a FIFO lock, as
A1111's generation lock does, sleeps for its service time and then returns ready-made PNGs of
the requested size. These are one flat colour by default. With --noise they are random noise,
which PNG cannot compress, so a 512x512 image is about 0.79 MB, or 1.05 MB as base64.

The n-th txt2img request after a POST to /bench/durations sleeps for the n-th number of that
list, in seconds, and for --job-ms once the list runs out. GET /bench/stats returns the
intervals spent sleeping, which the benchmarks count as the backend's busy time.

Run ``python bench/_webui_standin.py [--job-ms MS] [--noise]``. The process writes
``{"url": ...}`` as its first stdout line and exits when its stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import logging
import os
import time
from collections import deque
from typing import Any

import aiohttp
from _helper_process import read_messages, write_message
from aiohttp import web
from PIL import Image

_log = logging.getLogger(__name__)

SAMPLERS = ("Euler a", "Euler", "DPM++ 2M", "DPM++ SDE", "DDIM")
FLAT_COLOUR = (40, 90, 160)
MODEL = {
    "title": "stand-in.safetensors [0123456789]",
    "model_name": "stand-in",
    "hash": "0123456789",
    "sha256": None,
    "filename": "/models/Stable-diffusion/stand-in.safetensors",
    "config": None,
}


class StandIn:
    """The stand-in's state: the service times to use, the busy intervals and the images."""

    def __init__(self, default_s: float, noise: bool) -> None:
        self.default_s = default_s
        self.noise = noise
        self.lock = asyncio.Lock()
        self.durations: deque[float] = deque()
        # (start, end) of every sleep, in this process's time.monotonic() seconds.
        self.intervals: list[tuple[float, float]] = []
        self.running_steps: int | None = None
        self.job_timestamp = "0"
        self.response_bytes = 0
        self._encoded: dict[tuple[int, int, int], str] = {}

    def create_app(self) -> web.Application:
        """Build the aiohttp application with the A1111 routes and the control routes."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/sdapi/v1/txt2img", self.txt2img)
        app.router.add_get("/sdapi/v1/progress", self.progress)
        app.router.add_post("/sdapi/v1/interrupt", self.interrupt)
        app.router.add_get("/sdapi/v1/samplers", self.samplers)
        app.router.add_get("/sdapi/v1/upscalers", self.upscalers)
        app.router.add_get("/sdapi/v1/sd-models", self.sd_models)
        app.router.add_post("/bench/durations", self.set_durations)
        app.router.add_get("/bench/stats", self.stats)
        return app

    async def txt2img(self, request: web.Request) -> web.Response:
        payload = await request.json()
        width, height = int(payload.get("width", 512)), int(payload.get("height", 512))
        count = int(payload.get("batch_size", 1)) * int(payload.get("n_iter", 1))
        async with self.lock:
            seconds = self.durations.popleft() if self.durations else self.default_s
            self.running_steps = int(payload.get("steps", 20))
            self.job_timestamp = time.strftime("%Y%m%d%H%M%S")
            started = time.monotonic()
            try:
                await asyncio.sleep(seconds)
            finally:
                self.intervals.append((started, time.monotonic()))
                self.running_steps = None
        images = [self._image(width, height, index) for index in range(count)]
        info = {
            "all_seeds": [1000 + index for index in range(count)],
            "index_of_first_image": 0,
            "sampler_name": payload.get("sampler_name") or SAMPLERS[0],
            "sd_model_name": MODEL["model_name"],
            "sd_model_hash": MODEL["hash"],
            "job_timestamp": self.job_timestamp,
        }
        body = json.dumps({"images": images, "parameters": payload, "info": json.dumps(info)})
        self.response_bytes = len(body)
        return web.Response(text=body, content_type="application/json")

    async def progress(self, request: web.Request) -> web.Response:
        steps = self.running_steps
        state = {
            "skipped": False,
            "interrupted": False,
            "job": "scripts_txt2img" if steps is not None else "",
            "job_count": 1 if steps is not None else 0,
            "job_timestamp": self.job_timestamp,
            "job_no": 0,
            "sampling_step": 0,
            "sampling_steps": steps or 0,
        }
        body = {"progress": 0.0, "eta_relative": 0.0, "state": state, "current_image": None}
        return web.json_response({**body, "textinfo": None})

    async def interrupt(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def samplers(self, request: web.Request) -> web.Response:
        return web.json_response(
            [{"name": name, "aliases": [], "options": {}} for name in SAMPLERS]
        )

    async def upscalers(self, request: web.Request) -> web.Response:
        return web.json_response([])

    async def sd_models(self, request: web.Request) -> web.Response:
        return web.json_response([MODEL])

    async def set_durations(self, request: web.Request) -> web.Response:
        payload = await request.json()
        self.durations = deque(float(seconds) for seconds in payload["seconds"])
        self.intervals.clear()
        return web.json_response({"queued_durations": len(self.durations)})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "intervals": self.intervals,
                "jobs": len(self.intervals),
                "response_bytes": self.response_bytes,
            }
        )

    def _image(self, width: int, height: int, index: int) -> str:
        key = (width, height, index if self.noise else 0)
        if key not in self._encoded:
            if self.noise:
                picture = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
            else:
                picture = Image.new("RGB", (width, height), FLAT_COLOUR)
            buffer = io.BytesIO()
            picture.save(buffer, "PNG")
            self._encoded[key] = base64.b64encode(buffer.getvalue()).decode("ascii")
        return self._encoded[key]


async def post_durations(session: aiohttp.ClientSession, url: str, seconds: list[float]) -> None:
    """Give the stand-in at ``url`` the service times of the next requests and reset its stats."""
    async with session.post(f"{url}/bench/durations", json={"seconds": seconds}) as response:
        response.raise_for_status()


async def fetch_stats(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """Return the stand-in's busy intervals, job count and last response size."""
    async with session.get(f"{url}/bench/stats") as response:
        response.raise_for_status()
        stats: dict[str, Any] = await response.json()
        return stats


async def serve(job_ms: float, noise: bool) -> None:
    """Serve on a free port of 127.0.0.1 until stdin closes."""
    standin = StandIn(job_ms / 1000, noise)
    runner = web.AppRunner(standin.create_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    write_message({"url": f"http://127.0.0.1:{port}", "pid": os.getpid()})
    try:
        async for _ in read_messages():
            pass
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--job-ms", type=float, default=500.0, help="service time once the list runs out, in ms"
    )
    parser.add_argument("--noise", action="store_true", help="return incompressible noise PNGs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.job_ms, args.noise))


if __name__ == "__main__":
    main()
