"""DashboardServer: listening on 127.0.0.1, its URL, and stopping."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from dashboard import DashboardServer, ServerNotStartedError
from engine import QueueService
from tests.dashboard.scenario import TOKEN


async def test_server_url_before_start(service: QueueService) -> None:
    server = DashboardServer(service, token=TOKEN)

    with pytest.raises(ServerNotStartedError, match="start"):
        _ = server.url


async def test_server_listens_on_loopback(service, session: aiohttp.ClientSession) -> None:
    server = DashboardServer(service, token=TOKEN)
    await server.start()
    try:
        url = server.url
        async with session.get(f"{url}/metrics", params={"token": TOKEN}) as response:
            assert response.status == 200
    finally:
        await server.stop()

    assert url.startswith("http://127.0.0.1:")
    assert TOKEN not in url
    assert not url.endswith("/")


async def test_server_stop_closes_port(service, session: aiohttp.ClientSession) -> None:
    server = DashboardServer(service, token=TOKEN)
    await server.start()
    url = server.url
    await server.stop()
    await server.stop()

    with pytest.raises(aiohttp.ClientConnectionError):
        async with session.get(f"{url}/metrics", params={"token": TOKEN}):
            pass
    with pytest.raises(ServerNotStartedError):
        _ = server.url


async def test_server_start_twice_keeps_url(service) -> None:
    server = DashboardServer(service, token=TOKEN)
    await server.start()
    try:
        first = server.url
        await server.start()
        assert server.url == first
    finally:
        await server.stop()


async def test_server_port_in_use(service, dashboard: DashboardServer) -> None:
    port = int(dashboard.url.rsplit(":", 1)[1])
    second = DashboardServer(service, token=TOKEN, port=port)

    with pytest.raises(OSError):
        await second.start()
    with pytest.raises(ServerNotStartedError):
        _ = second.url


async def test_server_no_access_log(service, session, caplog) -> None:
    server = DashboardServer(service, token=TOKEN)
    with caplog.at_level(logging.DEBUG):
        await server.start()
        try:
            async with session.get(f"{server.url}/", params={"token": TOKEN}):
                pass
        finally:
            await server.stop()

    assert not [record for record in caplog.records if record.name == "aiohttp.access"]
    assert TOKEN not in " ".join(record.getMessage() for record in caplog.records)
