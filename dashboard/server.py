"""DashboardServer: the dashboard application listening on its own host and port."""

from __future__ import annotations

import logging

from aiohttp import web

from engine import QueueService

from .app import create_dashboard_app
from .errors import ServerNotStartedError

_log = logging.getLogger(__name__)

# Open requests are short reads of the job store, so this only bounds stragglers at stop().
SHUTDOWN_TIMEOUT_S = 2.0


class DashboardServer:
    """Serves create_dashboard_app() on ``host`` and ``port``, where port 0 picks a free port.

    The access log is off, because the page's address carries the token in its query string.
    """

    def __init__(
        self, service: QueueService, *, token: str, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._app = create_dashboard_app(service, token=token)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """Base URL such as ``http://127.0.0.1:8080``, without the token or a trailing slash.

        Raises:
            ServerNotStartedError: the server is not listening.
        """
        if self._url is None:
            raise ServerNotStartedError()
        return self._url

    async def start(self) -> None:
        """Start listening and set ``url``. A second call does nothing.

        Raises:
            OSError: the address cannot be bound, for example because the port is in use.
        """
        if self._runner is not None:
            return
        runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._url = f"http://{host}:{port}"
        _log.info("dashboard listening on %s", self._url)

    async def stop(self) -> None:
        """Stop listening and close open connections. A call on a stopped server does nothing."""
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        await runner.cleanup()
        _log.info("dashboard on %s stopped", self._url)
        self._url = None
