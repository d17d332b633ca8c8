"""The dashboard rejects every route, method and path spelling without its token.

The routes are read from the application itself, so a route added later is checked too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot import open_service
from dashboard import create_dashboard_app
from tests.conftest import make_settings

TOKEN = "dashboard-token-for-security-tests"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# Spellings of a path that a router or a proxy might treat as the same route.
SPELLINGS = ("{path}", "{path}/", "/{path}", "{path}?", "{path}#x", "/.{path}", "{upper}")


@pytest.fixture
async def dashboard(tmp_path) -> AsyncIterator[tuple[str, web.Application]]:
    # No worker starts, so the backend address is never contacted.
    settings = make_settings(tmp_path, "http://127.0.0.1:9")
    async with aiohttp.ClientSession() as session, open_service(settings, session) as service:
        app = create_dashboard_app(service, token=TOKEN)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            yield f"http://127.0.0.1:{runner.addresses[0][1]}", app
        finally:
            await runner.cleanup()


def route_paths(app: web.Application) -> list[str]:
    paths = {route.resource.canonical for route in app.router.routes() if route.resource}
    return sorted(paths)


async def status_of(url: str, method: str, **headers: str) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, headers=headers, allow_redirects=False) as reply:
            return reply.status


async def test_dashboard_serves_expected_routes(dashboard) -> None:
    _, app = dashboard

    assert route_paths(app) == ["/", "/api/overview", "/metrics"]


async def test_dashboard_every_route_and_method_needs_token(dashboard) -> None:
    url, app = dashboard

    for path in route_paths(app):
        for method in METHODS:
            for spelling in SPELLINGS:
                target = url + spelling.format(path=path, upper=path.upper())
                assert await status_of(target, method) == 401, (method, target)


async def test_dashboard_token_in_wrong_place_rejected(dashboard) -> None:
    url, app = dashboard
    wrong_places = [
        {"Cookie": f"token={TOKEN}"},
        {"X-Token": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ]

    for path in route_paths(app):
        for headers in wrong_places:
            assert await status_of(url + path, "GET", **headers) == 401, (path, headers)
        right = await status_of(url + path, "GET", Authorization=f"Bearer {TOKEN}")
        assert right == 200, path
