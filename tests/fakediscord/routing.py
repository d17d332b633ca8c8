"""The REST route table and what a route handler receives."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakediscord.errors import ApiError
from tests.fakediscord.models import FakeChannel
from tests.fakediscord.ratelimits import BucketKind
from tests.fakediscord.request_body import RequestBody
from tests.fakediscord.state import DiscordState

API_PREFIX = "/api/v10"
TRUE_VALUES = frozenset({"1", "true", "True"})


@dataclass(frozen=True)
class RequestContext:
    """What a route handler gets: the state, the request, its path parameters and its body."""

    state: DiscordState
    request: web.Request
    params: dict[str, str]
    body: RequestBody
    now: float

    def snowflake(self, name: str) -> int:
        """Return path parameter ``name`` as an id, or raise 400/50035 if it is not a snowflake."""
        value = self.params[name]
        if not value.isdigit():
            error = {"code": "NUMBER_TYPE_COERCE", "message": f'Value "{value}" is not snowflake.'}
            raise ApiError(400, 50035, errors={name: {"_errors": [error]}})
        return int(value)

    def flag(self, name: str) -> bool:
        """Return whether query parameter ``name`` is set to a true value."""
        return self.request.query.get(name) in TRUE_VALUES

    def channel(self) -> FakeChannel:
        """Return the channel of the ``channel_id`` parameter, or raise 404/10003 or 403/50001."""
        channel = self.state.channels.get(self.snowflake("channel_id"))
        if channel is None:
            raise ApiError(404, 10003)
        if not channel.view:
            raise ApiError(403, 50001)
        return channel


# A handler returns a JSON value to send with 200, or None for 204 No Content.
Handler = Callable[[RequestContext], Awaitable[Any]]


@dataclass(frozen=True)
class RouteSpec:
    """One REST route.

    ``interaction`` marks routes that an interaction token authorises: they need no bot token
    and are exempt from the global rate limit.
    """

    method: str
    template: str
    handler: Handler
    bucket: BucketKind = BucketKind.OTHER
    interaction: bool = False


@dataclass(frozen=True)
class RouteMatch:
    """The route template a path matched, its parameters and the routes by method."""

    template: str
    params: dict[str, str]
    routes: dict[str, RouteSpec]


class RouteTable:
    """Matches paths (relative to /api/v10) to routes, literal segments before parameters."""

    def __init__(self, routes: Iterable[RouteSpec]) -> None:
        by_template: dict[str, dict[str, RouteSpec]] = {}
        for route in routes:
            by_template.setdefault(route.template, {})[route.method] = route
        ranked = sorted(by_template.items(), key=lambda item: item[0].count("{"))
        self._entries = [
            (template_pattern(template), template, methods) for template, methods in ranked
        ]

    @property
    def templates(self) -> list[str]:
        """Every route template served."""
        return [template for _, template, _ in self._entries]

    def match(self, path: str) -> RouteMatch | None:
        """Return the route match for ``path``, or None if no template matches."""
        for pattern, template, methods in self._entries:
            found = pattern.fullmatch(path)
            if found is not None:
                return RouteMatch(template, found.groupdict(), methods)
        return None


def template_pattern(template: str) -> re.Pattern[str]:
    """Compile a template such as ``/channels/{channel_id}`` to a regex with named groups."""
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(
        f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part) for part in parts
    )
    return re.compile(regex)


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """Build a JSON response with Content-Type exactly ``application/json``.

    discord.py 2.7 parses a body as JSON only for that exact value, and aiohttp's
    ``json_response`` would append ``; charset=utf-8``.
    """
    response = web.Response(status=status, body=json.dumps(data).encode())
    response.headers["Content-Type"] = "application/json"
    response.headers.update(headers or {})
    return response


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> web.Response:
    """Build Discord's JSON error response for ``error``."""
    return json_response(error.body(), status=error.status, headers=headers)
