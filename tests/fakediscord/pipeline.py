"""The path of every REST request: log, spec check, auth, rate limits, faults, then the handler."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakediscord.errors import ApiError
from tests.fakediscord.faults import Fault, FaultTable
from tests.fakediscord.openapi import OpenApiValidator
from tests.fakediscord.ratelimits import (
    VIA,
    BucketConfig,
    BucketKind,
    RateLimiter,
    Verdict,
    rate_limited_body,
    retry_after_header,
)
from tests.fakediscord.records import RecordedRequest, Stats
from tests.fakediscord.request_body import RequestBody, read_body
from tests.fakediscord.routing import (
    API_PREFIX,
    RequestContext,
    RouteMatch,
    RouteSpec,
    RouteTable,
    error_response,
    json_response,
)
from tests.fakediscord.state import DiscordState

logger = logging.getLogger(__name__)


@dataclass
class Hold:
    """Keeps responses to one route back after they were handled, until released.

    The request has taken effect (a message is created) but its sender has not heard back,
    which is the moment a crash test wants to kill the sender.
    """

    method: str
    route: str
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, method: str, route: str) -> bool:
        return method == self.method and route == self.route and not self.released.is_set()

    async def stop_here(self) -> None:
        self.reached.set()
        await self.released.wait()


@dataclass(frozen=True)
class Outcome:
    """A response, its Discord error code (0 for none) and its rate-limit scope, if a 429."""

    response: web.Response
    code: int = 0
    scope: str | None = None


class Pipeline:
    """Serves REST requests and keeps the request log, the spec violations and the counters."""

    def __init__(self, state: DiscordState, routes: RouteTable, buckets: BucketConfig) -> None:
        self.state = state
        self.routes = routes
        self.buckets = buckets
        self.limiter = RateLimiter(buckets, state.clock)
        self.faults = FaultTable(routes.templates)
        self.validator = OpenApiValidator()
        self.requests: list[RecordedRequest] = []
        self.violations: list[str] = []
        self.handler_errors: list[str] = []
        self.stats = Stats()
        self.holds: list[Hold] = []

    async def handle(self, request: web.Request) -> web.Response:
        """Handle one request under /api/v10 and record it."""
        path = request.path[len(API_PREFIX) :]
        now = self.state.clock.now()
        body_error: ApiError | None = None
        try:
            body = await read_body(request)
        except ApiError as error:
            body, body_error = RequestBody(), error
        match = self.routes.match(path)
        record = RecordedRequest(
            method=request.method,
            route=match.template if match is not None else path,
            path=path,
            query=dict(request.query),
            payload=body.payload,
            files=[(upload.filename, upload.size) for upload in body.files],
            time=now,
        )
        self.requests.append(record)
        self._validate(request, path, body)
        self._count_expired_token(match, now)
        outcome = await self._respond(request, path, match, body, body_error, now)
        record.status = outcome.response.status
        record.code = outcome.code
        self.stats.count(record, scope=outcome.scope)
        logger.debug("%s %s: %d, code %d", record.method, path, record.status, record.code)
        self.state.changed.pulse()
        for hold in self.holds:
            if hold.matches(request.method, record.route):
                await hold.stop_here()
        return outcome.response

    async def _respond(
        self,
        request: web.Request,
        path: str,
        match: RouteMatch | None,
        body: RequestBody,
        body_error: ApiError | None,
        now: float,
    ) -> Outcome:
        if body_error is not None:
            return _error(body_error)
        if match is None:
            return _error(ApiError(404))
        route = match.routes.get(request.method)
        if route is None:
            return _error(ApiError(405))
        if not route.interaction:
            if request.headers.get("Authorization") != f"Bot {self.state.bot_token}":
                return _error(ApiError(401))
            global_verdict = self.limiter.take_global(self.state.bot_token)
            if not global_verdict.allowed:
                return self._rate_limited(global_verdict)
        verdict = self._take_bucket(route, match)
        if not verdict.allowed:
            return self._rate_limited(verdict)
        fault = self.faults.take(request.method, match.template, path)
        if fault is not None:
            return self._injected(fault, verdict.headers)
        context = RequestContext(self.state, request, match.params, body, now)
        return await self._run_handler(route, context, verdict.headers)

    async def _run_handler(
        self, route: RouteSpec, context: RequestContext, headers: dict[str, str]
    ) -> Outcome:
        try:
            result = await route.handler(context)
        except ApiError as error:
            return Outcome(error_response(error, headers), error.code)
        except Exception as error:
            logger.exception("fake Discord handler for %s %s failed", route.method, route.template)
            self.handler_errors.append(f"{route.method} {route.template}: {error!r}")
            # Not a 500: discord.py retries 500s with 1, 3, 5 and 7 s back-off, which would turn
            # a bug in the fake into a slow test instead of a failing one.
            message = f"The fake Discord handler failed with {error!r}. Fix the fake."
            return _error(ApiError(400, message=message))
        if result is None:
            return Outcome(web.Response(status=204, headers=headers))
        return Outcome(json_response(result, headers=headers))

    def _validate(self, request: web.Request, path: str, body: RequestBody) -> None:
        problems = self.validator.check(request.method, path, request.query, body)
        for problem in problems:
            logger.warning("request breaks Discord's OpenAPI spec: %s", problem)
        self.violations.extend(problems)

    def _count_expired_token(self, match: RouteMatch | None, now: float) -> None:
        if match is None:
            return
        token = match.params.get("interaction_token") or match.params.get("webhook_token")
        interaction = self.state.interactions_by_token.get(token) if token else None
        if interaction is not None and interaction.token_expired(now):
            self.stats.expired_token_calls += 1

    def _take_bucket(self, route: RouteSpec, match: RouteMatch) -> Verdict:
        kind = route.bucket
        params = match.params
        if kind is BucketKind.CHANNEL_MESSAGES:
            name, key = kind.value, params["channel_id"]
        elif kind is BucketKind.INTERACTION_TOKEN:
            owner = params.get("interaction_id") or params["webhook_id"]
            token = params.get("interaction_token") or params["webhook_token"]
            # Callbacks and webhook calls are separate buckets, each keyed by id and token.
            name = f"{kind.value}:{match.template.split('/')[1]}"
            key = f"{owner}:{token}"
        elif kind is BucketKind.DM_CREATE:
            name, key = kind.value, str(self.state.bot.id)
        else:
            name = f"{route.method} {route.template}"
            key = "+".join(params.get(major, "") for major in ("channel_id", "guild_id"))
        return self.limiter.take(name, self.buckets.for_kind(kind), key)

    def _rate_limited(self, verdict: Verdict) -> Outcome:
        retry_after = self.limiter.real_seconds(verdict.retry_after_s)
        headers = {**verdict.headers, "Retry-After": retry_after_header(retry_after), "Via": VIA}
        headers.setdefault("X-RateLimit-Scope", verdict.scope)
        body = rate_limited_body(retry_after, is_global=verdict.is_global)
        response = json_response(body, status=429, headers=headers)
        return Outcome(response, 0, verdict.scope)

    def _injected(self, fault: Fault, headers: dict[str, str]) -> Outcome:
        if fault.status == 429:
            verdict = Verdict(False, {**headers, "X-RateLimit-Scope": "user"}, fault.retry_after_s)
            return self._rate_limited(verdict)
        error = ApiError(fault.status, fault.code)
        return Outcome(error_response(error, headers), error.code)


def _error(error: ApiError) -> Outcome:
    return Outcome(error_response(error), error.code)
