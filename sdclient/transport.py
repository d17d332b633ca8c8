"""Single HTTP exchanges with the WebUI: timeouts, the access log and translation of failures."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from yarl import URL

from sdclient.errors import (
    BackendDisconnectedError,
    BackendTimeoutError,
    BackendUnreachableError,
    SDError,
)
from sdclient.responses import error_for_response

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RawResponse:
    """A 2xx response read in full; `url` has any credentials removed so it can be shown."""

    url: str
    status: int
    body: bytes
    elapsed_s: float


class Transport:
    """Sender of requests to one WebUI through a session that the caller owns."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        auth: tuple[str, str] | None,
        connect_timeout_s: float,
    ) -> None:
        self._session = session
        self._base_url = base_url
        # Error messages and access-log lines use this form, so the URL they show has no password.
        self._display_base_url = str(URL(base_url).with_user(None))
        # aiohttp 3.14 deprecates BasicAuth and the auth= argument, so the header is built here.
        self._headers = {"Authorization": basic_auth_header(*auth)} if auth is not None else None
        self._connect_timeout_s = connect_timeout_s

    async def request(
        self,
        method: str,
        path: str,
        *,
        total_s: float,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> RawResponse:
        """Send one request and return its response if the status is 2xx.

        Raises:
            SDError: a subclass for the failed connection, time budget or status.
        """
        target = f"{path}?{urlencode(params)}" if params else path
        url = self._display_base_url + target
        if json_body is not None:
            logger.debug("%s %s payload %r", method, target, json_body)
        started = time.monotonic()
        try:
            status, reason, location, body = await self._exchange(
                method, path, params, json_body, total_s
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            elapsed_s = time.monotonic() - started
            logger.info("%s %s failed (%s) %.3fs", method, target, type(exc).__name__, elapsed_s)
            raise _translate(exc, url, elapsed_s, total_s) from exc
        elapsed_s = time.monotonic() - started
        logger.info("%s %s %d %.3fs", method, target, status, elapsed_s)
        logger.debug("%s %s returned %d bytes", method, target, len(body))
        if not 200 <= status < 300:
            raise error_for_response(
                url=url, path=path, status=status, http_reason=reason, body=body, location=location
            )
        return RawResponse(url=url, status=status, body=body, elapsed_s=elapsed_s)

    async def _exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        json_body: Any,
        total_s: float,
    ) -> tuple[int, str, str | None, bytes]:
        # The connect limits are short so a stopped WebUI shows up in seconds, while total_s
        # bounds the whole exchange including reading the body.
        timeout = aiohttp.ClientTimeout(
            total=total_s, connect=self._connect_timeout_s, sock_connect=self._connect_timeout_s
        )
        async with self._session.request(
            method,
            self._base_url + path,
            params=params,
            json=json_body,
            headers=self._headers,
            timeout=timeout,
            allow_redirects=False,
        ) as response:
            body = await response.read()
            return response.status, response.reason or "", response.headers.get("Location"), body


def _translate(exc: BaseException, url: str, elapsed_s: float, budget_s: float) -> SDError:
    """Map an aiohttp failure to the SDError subclass that tells whether the request ran."""
    reason = str(exc) or type(exc).__name__
    # ConnectionTimeoutError is also a TimeoutError, so it has to be checked first.
    if isinstance(exc, aiohttp.ConnectionTimeoutError | aiohttp.ClientConnectorError):
        return BackendUnreachableError(url=url, reason=reason)
    if isinstance(exc, TimeoutError):
        return BackendTimeoutError(url=url, elapsed_s=elapsed_s, budget_s=budget_s)
    # What is left of the connection errors happened after connecting (disconnect, reset,
    # truncated body), and the request may have reached the handler.
    if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        return BackendDisconnectedError(url=url, reason=reason)
    return SDError(
        f"The request to {url} failed ({reason}), so check the base URL and the WebUI.",
        url=url,
        reason=reason,
    )


def basic_auth_header(username: str, password: str) -> str:
    """Return the HTTP Basic ``Authorization`` value for a WebUI started with ``--api-auth``."""
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {credentials}"
