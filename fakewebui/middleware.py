"""Middlewares: the X-Process-Time header, A1111 error bodies, the --api and --api-auth gates."""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from fakewebui.errors import (
    APIHTTPError,
    ConnectionDropped,
    RequestValidationError,
    SimulatedServerError,
)
from fakewebui.responses import (
    detail_response,
    http_exception_response,
    server_error_response,
)
from fakewebui.state import STATE_KEY

logger = logging.getLogger(__name__)

API_PREFIX = "/sdapi/"


@web.middleware
async def process_time_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Add ``X-Process-Time`` (seconds as text), which A1111 sends on every response."""
    started = time.perf_counter()
    response = await handler(request)
    response.headers["X-Process-Time"] = str(time.perf_counter() - started)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn exceptions into the body shapes of FastAPI and A1111."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        return _fastapi_error(exc)
    except RequestValidationError as exc:
        return detail_response(422, exc.errors)
    except APIHTTPError as exc:
        return http_exception_response(exc.status, exc.detail)
    except SimulatedServerError as exc:
        logger.warning("%s %s failed: %s: %s", request.method, request.path, exc.error_name, exc)
        return server_error_response(exc.error_name, exc.message)
    except ConnectionDropped:
        logger.info(
            "%s %s: closing the connection without a response", request.method, request.path
        )
        if request.protocol is not None:
            request.protocol.force_close()
        return web.Response(status=500)
    except Exception as exc:
        logger.exception("%s %s raised an unexpected error", request.method, request.path)
        return server_error_response(type(exc).__name__, str(exc))


@web.middleware
async def api_gate_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Hide ``/sdapi`` when the API is off and check HTTP Basic credentials when set."""
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    state = request.app[STATE_KEY]
    if not state.api_enabled:
        return detail_response(404, "Not Found")
    # FastAPI returns 404 or 405 for an unknown route or method before any dependency runs.
    if state.api_auth is not None and request.match_info.http_exception is None:
        check_basic_auth(request.headers.get("Authorization"), state.api_auth)
    return await handler(request)


def check_basic_auth(header: str | None, expected: tuple[str, str]) -> None:
    """Check an Authorization header like FastAPI's HTTPBasic and A1111's comparison.

    Raises:
        APIHTTPError: 401 "Not authenticated" without Basic credentials, "Invalid authentication
            credentials" when they cannot be decoded, "Incorrect username or password" otherwise.
    """
    scheme, _, encoded = (header or "").partition(" ")
    if not header or not encoded or scheme.lower() != "basic":
        raise APIHTTPError(401, "Not authenticated")
    try:
        username, separator, password = base64.b64decode(encoded).decode("ascii").partition(":")
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise APIHTTPError(401, "Invalid authentication credentials") from None
    if not separator:
        raise APIHTTPError(401, "Invalid authentication credentials")
    user_ok = secrets.compare_digest(username.encode(), expected[0].encode())
    password_ok = secrets.compare_digest(password.encode(), expected[1].encode())
    if not (user_ok and password_ok):
        raise APIHTTPError(401, "Incorrect username or password")


def _fastapi_error(exc: web.HTTPException) -> web.Response:
    if exc.status == 404:
        return detail_response(404, "Not Found")
    if exc.status == 405:
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return detail_response(405, "Method Not Allowed", headers=allow)
    return detail_response(exc.status, exc.reason)
