"""Fixtures: the scenario's store, a queue service over it, and the dashboard in front.

The store's clock and the service's clock are one FakeClock, so every wait and run time in the
overview and in /metrics is known exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from dashboard import DashboardServer
from engine import Backend, ImageStore, QueueService
from fakewebui import FakeWebUI
from sdclient import SDClient
from storage import JobStore
from tests.dashboard.scenario import TOKEN, FakeClock, Scenario, fill_store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def scenario(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Scenario]:
    store = await JobStore.open(tmp_path / "jobs.db", clock=clock)
    try:
        yield await fill_store(store, clock)
    finally:
        await store.close()


@pytest.fixture
async def service(
    scenario: Scenario, session: aiohttp.ClientSession, tmp_path: Path
) -> QueueService:
    """A queue service whose workers are not started, so every job stays where it is."""
    backends = [
        Backend("gpu-a", SDClient(session, "http://admin:hunter2@127.0.0.1:7860/")),
        Backend("gpu-b", SDClient(session, "http://127.0.0.1:7861")),
    ]
    return QueueService(
        scenario.store, backends, ImageStore(tmp_path / "images"), clock=scenario.clock
    )


@pytest.fixture
async def dashboard(service: QueueService) -> AsyncIterator[DashboardServer]:
    server = DashboardServer(service, token=TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _bad_gateway(request: web.Request) -> web.Response:
    return web.Response(status=502, text="Bad Gateway")


@pytest.fixture
async def unreachable_url() -> AsyncIterator[str]:
    """URL of a proxy on 127.0.0.1 whose WebUI is down: it responds to every request with 502."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _bad_gateway)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@dataclass
class LiveQueue:
    """A started service: gpu-a hangs on its job, and gpu-b is down."""

    service: QueueService
    scenario: Scenario
    dashboard: DashboardServer


@pytest.fixture
async def live(
    scenario: Scenario,
    session: aiohttp.ClientSession,
    unreachable_url: str,
    tmp_path: Path,
) -> AsyncIterator[LiveQueue]:
    """Start the workers: gpu-a takes the first job and hangs on it, gpu-b is found down.

    Recovery at start puts the job left running back at the head of the queue, so gpu-a runs it
    again while gpu-b gives its own job back and waits out its backoff.
    """
    async with FakeWebUI(speed=1000.0) as webui:
        webui.fail_next("hang")
        backends = [
            Backend("gpu-a", SDClient(session, webui.url)),
            Backend("gpu-b", SDClient(session, unreachable_url)),
        ]
        service = QueueService(
            scenario.store,
            backends,
            ImageStore(tmp_path / "images"),
            backoff_initial_s=3600.0,
            backoff_max_s=3600.0,
            clock=scenario.clock,
        )
        await service.start()
        server = DashboardServer(service, token=TOKEN)
        await server.start()
        try:
            await _wait_settled(service)
            yield LiveQueue(service, scenario, server)
        finally:
            await server.stop()
            await service.stop(grace_s=2.0)
            webui.clear_faults()


async def _wait_settled(service: QueueService) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20.0
    while True:
        running = await service.store.running()
        if len(running) == 1 and service.backends_down() == ["gpu-b"]:
            return
        assert loop.time() < deadline, f"running {running}, down {service.backends_down()}"
        await asyncio.sleep(0.02)
