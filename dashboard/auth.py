"""Token check in front of every dashboard route, /metrics included."""

from __future__ import annotations

import hmac
import logging

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .errors import InvalidTokenError

_log = logging.getLogger(__name__)

TOKEN_QUERY_KEY = "token"
_BEARER = "bearer"
_UNAUTHORIZED_TEXT = "401: Unauthorized. Send the dashboard token as a Bearer token or ?token=."


def token_middleware(token: str) -> Middleware:
    """Build a middleware that responds with 401 unless the request carries ``token``.

    The token comes as ``Authorization: Bearer <token>`` or as the ``token`` query parameter.
    When both are present only the header counts. An Authorization header of another scheme,
    such as Basic from a proxy in front of the bot, is ignored.

    Raises:
        InvalidTokenError: ``token`` is empty or only whitespace.
    """
    if not token.strip():
        raise InvalidTokenError()
    expected = token.encode()

    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        problem = token_problem(request, expected)
        if problem is not None:
            # The path has no query string, so a wrong token in ?token= stays out of the log.
            _log.warning(
                "dashboard rejected %s %s from %s: %s",
                request.method,
                request.path,
                request.remote,
                problem,
            )
            return web.Response(
                status=401,
                text=_UNAUTHORIZED_TEXT,
                headers={"WWW-Authenticate": 'Bearer realm="imagine-bot dashboard"'},
            )
        return await handler(request)

    return require_token


def token_problem(request: web.Request, expected: bytes) -> str | None:
    """Return why the request's token is not accepted, or None if it matches ``expected``."""
    presented = presented_token(request)
    if presented is None:
        return "no token"
    # compare_digest takes time independent of where the strings differ.
    if not hmac.compare_digest(presented.encode(), expected):
        return "wrong token"
    return None


def presented_token(request: web.Request) -> str | None:
    """Return the Bearer token from the Authorization header, else the query's, else None."""
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == _BEARER:
        return credentials.strip()
    return request.query.get(TOKEN_QUERY_KEY)
