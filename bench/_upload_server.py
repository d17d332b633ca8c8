"""A slow upload target on 127.0.0.1, and a queue delivery side that uploads results to it.

The server responds to every upload after a fixed delay, as a slow Discord would, and to status
edits at once. UploadDelivery implements the queue's JobEvents and StatusSender:
it uploads each finished job's images as one multipart POST, then marks the job delivered.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

import aiohttp
from aiohttp import web

from engine import ImageStore, StatusView
from storage import Job, JobStore

_log = logging.getLogger(__name__)


class UploadServer:
    """An aiohttp server that responds to ``POST /upload`` after ``hold_s`` seconds."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.uploads = 0
        self.status_edits = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> UploadServer:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/upload", self._upload)
        app.router.add_patch("/status", self._status)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _upload(self, request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(self.hold_s)
        self.uploads += 1
        return web.json_response({"id": self.uploads})

    async def _status(self, request: web.Request) -> web.Response:
        await request.read()
        self.status_edits += 1
        return web.json_response({})


class UploadDelivery:
    """Delivers finished jobs to an UploadServer; ``all_delivered`` is set after ``expected``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        store: JobStore,
        images: ImageStore,
        expected: int,
    ) -> None:
        self._session = session
        self._url = url
        self._store = store
        self._images = images
        self._expected = expected
        self.delivered = 0
        self.all_delivered = asyncio.Event()

    async def job_started(self, job: Job) -> None:
        return None

    async def job_finished(self, job: Job) -> None:
        """Upload the job's images in one request, then record the delivery."""
        form = aiohttp.FormData()
        for record in (job.result or {}).get("images", []):
            data = await self._images.read(str(record["path"]))
            form.add_field("files", data, filename=f"job-{job.id}.png", content_type="image/png")
        async with self._session.post(f"{self._url}/upload", data=form) as response:
            response.raise_for_status()
            message_id = int((await response.json())["id"])
        await self._store.mark_delivered(job.id, message_id)
        self.delivered += 1
        if self.delivered >= self._expected:
            self.all_delivered.set()

    async def send_status(self, job: Job, view: StatusView, *, via_token: bool) -> None:
        """Send the status edit as a small PATCH, as the Discord side would."""
        body = {"job": job.id, "kind": str(view.kind), "ahead": view.ahead}
        async with self._session.patch(f"{self._url}/status", json=body) as response:
            response.raise_for_status()
