"""The dashboard's aiohttp application: the page, its JSON API and /metrics."""

from __future__ import annotations

import logging

from aiohttp import web

from engine import QueueService
from storage import StorageError

from .auth import token_middleware
from .metrics import CONTENT_TYPE, render_metrics
from .overview import build_overview
from .page import Page, load_page

_log = logging.getLogger(__name__)

SERVICE_KEY = web.AppKey("service", QueueService)
PAGE_KEY = web.AppKey("page", Page)


def create_dashboard_app(service: QueueService, *, token: str) -> web.Application:
    """Build the dashboard application for ``service``, which responds with 401 without ``token``.

    Routes: ``/`` is the page, ``/api/overview`` its JSON and ``/metrics`` the Prometheus
    exposition. The page's address carries the token in its query string, so serve the app
    with access logging off (DashboardServer does) or with a log format without the query.

    Raises:
        InvalidTokenError: ``token`` is empty. It subclasses ValueError and names dashboard.token.
    """
    app = web.Application(middlewares=[token_middleware(token)])
    app[SERVICE_KEY] = service
    app[PAGE_KEY] = load_page()
    app.router.add_get("/", _page)
    app.router.add_get("/api/overview", _overview)
    app.router.add_get("/metrics", _metrics)
    return app


async def _page(request: web.Request) -> web.Response:
    page = request.app[PAGE_KEY]
    return web.Response(text=page.html, content_type="text/html", headers=page.headers)


async def _overview(request: web.Request) -> web.Response:
    try:
        overview = await build_overview(request.app[SERVICE_KEY])
    except StorageError as exc:
        return _store_unavailable(request, exc)
    return web.json_response(overview, headers={"Cache-Control": "no-store"})


async def _metrics(request: web.Request) -> web.Response:
    try:
        body = await render_metrics(request.app[SERVICE_KEY])
    except StorageError as exc:
        return _store_unavailable(request, exc)
    # Response(content_type=...) rejects parameters, so the full header is set directly.
    return web.Response(body=body.encode(), headers={"Content-Type": CONTENT_TYPE})


def _store_unavailable(request: web.Request, exc: StorageError) -> web.Response:
    _log.warning("dashboard %s failed to read the job store: %s", request.path, exc)
    return web.Response(
        status=503, text="503: Reading the job store failed. See the bot's log, then retry."
    )
