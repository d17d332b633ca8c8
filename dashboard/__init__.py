"""A token-protected web dashboard and Prometheus metrics for the bot's job queue."""

from __future__ import annotations

from .app import create_dashboard_app
from .errors import DashboardError, InvalidTokenError, ServerNotStartedError
from .server import DashboardServer

__all__ = [
    "DashboardError",
    "DashboardServer",
    "InvalidTokenError",
    "ServerNotStartedError",
    "create_dashboard_app",
]
