"""Errors raised by the dashboard package.

DashboardError
├── InvalidTokenError        the setting dashboard.token is empty
└── ServerNotStartedError    the server's URL was read before start() or after stop()
"""

from __future__ import annotations


class DashboardError(Exception):
    """Base class for every error raised by the dashboard package."""


class InvalidTokenError(DashboardError, ValueError):
    """The dashboard token is empty or only whitespace."""

    def __init__(self) -> None:
        super().__init__(
            "The setting dashboard.token is empty; set it to a long random string, for example "
            'the output of python -c "import secrets; print(secrets.token_urlsafe(32))".'
        )


class ServerNotStartedError(DashboardError, RuntimeError):
    """The dashboard server has no URL because it is not listening."""

    def __init__(self) -> None:
        super().__init__(
            "The dashboard server is not listening, so it has no URL; call start() first."
        )
