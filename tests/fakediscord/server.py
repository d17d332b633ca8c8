"""``FakeDiscord``: the loopback server and the Python API that tests and benchmarks drive."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from tests.fakediscord import routes_app, routes_interactions, routes_messages
from tests.fakediscord.clock import FakeClock, snowflake_timestamp
from tests.fakediscord.commands import build_command_data
from tests.fakediscord.errors import (
    BotNotConnectedError,
    ServerNotStartedError,
    UnknownComponentError,
    WaitTimeoutError,
)
from tests.fakediscord.faults import Fault
from tests.fakediscord.gateway import Gateway
from tests.fakediscord.interactions import (
    APPLICATION_COMMAND,
    MESSAGE_COMPONENT,
    RESPONSE_DEADLINE_S,
    FakeInteraction,
)
from tests.fakediscord.messages import FakeMessage
from tests.fakediscord.models import DEFAULT_UPLOAD_LIMIT, FakeChannel, FakeGuild, FakeUser
from tests.fakediscord.pipeline import Hold, Pipeline
from tests.fakediscord.ratelimits import BucketConfig
from tests.fakediscord.records import RecordedRequest, Stats
from tests.fakediscord.routing import API_PREFIX, RouteTable
from tests.fakediscord.state import DiscordState

logger = logging.getLogger(__name__)

T = TypeVar("T")

ROUTES = [*routes_app.ROUTES, *routes_messages.ROUTES, *routes_interactions.ROUTES]
# Discord's usual heartbeat interval. discord.py beats at once after HELLO, then on this period.
DEFAULT_HEARTBEAT_INTERVAL_MS = 41_250
# aiohttp rejects bodies over 1 MiB by default. Files over the upload limit must reach the
# handler so that it can respond with 413/40005 the way Discord does.
MAX_REQUEST_BYTES = 256 * 1024 * 1024
SHUTDOWN_TIMEOUT_S = 1.0
WAIT_POLL_S = 0.02
# Component types whose interaction data carries the chosen ``values``: the select menus.
SELECT_COMPONENT_TYPES = frozenset({3, 5, 6, 7, 8})


class FakeDiscord:
    """A fake Discord on 127.0.0.1 that a real, unmodified discord.py client talks to.

    It serves the REST API under ``/api/v10`` and the gateway websocket at ``/``. Every
    Discord duration (token lifetime, rate-limit windows, the 3 s deadline, Retry-After) runs
    on ``clock``, which is ``time_scale`` times faster than real time. Use
    ``redirect_discord`` to point discord.py at it.
    """

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        buckets: BucketConfig | None = None,
        upload_limit: int = DEFAULT_UPLOAD_LIMIT,
        bot_name: str = "imagine-bot",
        heartbeat_interval_ms: int = DEFAULT_HEARTBEAT_INTERVAL_MS,
        clock: FakeClock | None = None,
    ) -> None:
        self.clock = clock if clock is not None else FakeClock(time_scale=time_scale)
        self.state = DiscordState(self.clock, upload_limit=upload_limit, bot_name=bot_name)
        self.gateway = Gateway(self.state, heartbeat_interval_ms=heartbeat_interval_ms)
        self.state.sinks.append(self.gateway)
        self.pipeline = Pipeline(self.state, RouteTable(ROUTES), buckets or BucketConfig())
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    async def start(self) -> None:
        """Start listening on a free port of 127.0.0.1."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_get("/", self.gateway.handle)
        attachment_route = "/attachments/{channel_id}/{attachment_id}/{filename}"
        app.router.add_get(attachment_route, self._serve_attachment)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self.pipeline.handle)
        runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_TIMEOUT_S, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        self.state.cdn_url = self._url
        self.gateway.url = self.gateway_url
        logger.info(
            "fake Discord listening on %s (time scale %g)", self._url, self.clock.time_scale
        )

    async def stop(self) -> None:
        """Close gateway connections and stop the server."""
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        await self.gateway.close()
        await runner.cleanup()
        logger.info("fake Discord on %s stopped", self._url)

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Root URL such as ``http://127.0.0.1:54321``."""
        if self._url is None:
            raise ServerNotStartedError()
        return self._url

    @property
    def base_url(self) -> str:
        """REST base URL, the value for ``discord.http.Route.BASE``."""
        return self.url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """Gateway URL, the value for ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        return self.url.replace("http://", "ws://", 1) + "/"

    @property
    def bot(self) -> FakeUser:
        """The bot's user. Its id is also the application id."""
        return self.state.bot

    @property
    def bot_token(self) -> str:
        """The token the bot must log in with."""
        return self.state.bot_token

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every REST request in arrival order, rejected ones included."""
        return self.pipeline.requests

    @property
    def violations(self) -> list[str]:
        """Ways in which requests broke Discord's OpenAPI spec, one message each."""
        return self.pipeline.violations

    @property
    def handler_errors(self) -> list[str]:
        """Exceptions raised by the fake's own route handlers, which are bugs in the fake."""
        return self.pipeline.handler_errors

    @property
    def stats(self) -> Stats:
        """Counters: calls by route, 429s, calls with expired interaction tokens."""
        return self.pipeline.stats

    def create_guild(self, name: str) -> FakeGuild:
        """Create a guild that the bot is in. Add channels with ``guild.create_channel``."""
        return self.state.create_guild(name)

    def create_user(self, name: str, *, dms_open: bool = True) -> FakeUser:
        """Create a user. With ``dms_open`` False, DMs to them fail with 403/50007."""
        return self.state.create_user(name, dms_open=dms_open)

    def open_dm(self, user: FakeUser) -> FakeChannel:
        """Return the bot's DM channel with ``user``, creating it if needed."""
        return self.state.open_dm(user)

    def dm_messages(self, user: FakeUser) -> list[FakeMessage]:
        """Return the messages in the bot's DM channel with ``user``."""
        channel = self.state.dm_channels.get(user.id)
        return [] if channel is None else list(channel.messages)

    def message(self, message_id: int) -> FakeMessage:
        """Return a stored message by id, ephemeral and deleted ones included."""
        return self.state.messages[message_id]

    def inject(
        self,
        method: str,
        route: str,
        *,
        status: int,
        code: int | None = None,
        count: int = 1,
        retry_after: float | None = None,
    ) -> Fault:
        """Respond to the next ``count`` requests on ``route`` with an error, skipping the handler.

        ``route`` is a template such as ``/channels/{channel_id}/messages``, a concrete path,
        or an fnmatch pattern; ``method`` may be ``"*"``. A 429 carries Via, Retry-After and
        ``retry_after`` (fake seconds, default 1). Other statuses carry ``code`` (default 0).
        A faulted request uses the route's rate-limit budget like any other, and a request
        that the bucket rejects with 429 leaves the fault armed.
        """
        return self.pipeline.faults.arm(
            method, route, status=status, code=code, count=count, retry_after=retry_after
        )

    def hold(self, method: str, route: str) -> Hold:
        """Hold back responses on ``route`` (a template) after they take effect, until released."""
        hold = Hold(method, route)
        self.pipeline.holds.append(hold)
        return hold

    def clear_faults(self) -> None:
        """Disarm every injected fault."""
        self.pipeline.faults.clear()

    def request_reconnect(self) -> None:
        """Ask connected bots to reconnect (op 7); discord.py then resumes the session."""
        self.gateway.request_reconnect()

    async def slash(
        self,
        guild: FakeGuild | None,
        channel: FakeChannel,
        user: FakeUser,
        name: str,
        **options: Any,
    ) -> FakeInteraction:
        """Run slash command ``name`` as ``user`` and wait for the bot's acknowledgement.

        ``name`` may name a subcommand ("group sub"). The wait ends when the bot acknowledges
        or 3 fake seconds pass, whichever is first. Pass ``guild`` None for a DM channel.
        """
        self._require_connected()
        command_name, *subcommands = name.split()
        command = self.state.commands.find(command_name, guild.id if guild is not None else None)
        data = build_command_data(command, subcommands, options, guild)
        interaction = self._new_interaction(APPLICATION_COMMAND, channel, user, data)
        return await self._deliver(interaction)

    async def click(self, message: FakeMessage, custom_id: str, user: FakeUser) -> FakeInteraction:
        """Click the component ``custom_id`` on ``message`` and wait for the acknowledgement."""
        self._require_connected()
        component = message.find_component(custom_id)
        if component is None:
            raise UnknownComponentError(message.id, custom_id)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] in SELECT_COMPONENT_TYPES:
            data["values"] = []
        interaction = self._new_interaction(
            MESSAGE_COMPONENT, message.channel, user, data, message=message
        )
        return await self._deliver(interaction)

    async def wait_for(self, predicate: Callable[[], T], *, timeout_s: float = 10.0) -> T:
        """Wait until ``predicate()`` is truthy and return its value.

        It is checked after every REST request, and every 20 ms for conditions on the bot's side.
        """
        try:
            async with asyncio.timeout(timeout_s):
                while not (value := predicate()):
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(WAIT_POLL_S):
                            await self.state.changed.wait()
        except TimeoutError:
            raise WaitTimeoutError(timeout_s, len(self.requests)) from None
        return value

    async def wait_until_connected(self, *, timeout_s: float = 10.0) -> None:
        """Wait until a bot has identified on the gateway."""
        try:
            async with asyncio.timeout(timeout_s):
                await self.gateway.identified.wait()
        except TimeoutError:
            raise WaitTimeoutError(timeout_s, len(self.requests)) from None

    def _require_connected(self) -> None:
        if not self.gateway.connected:
            raise BotNotConnectedError()

    def _new_interaction(
        self,
        kind: int,
        channel: FakeChannel,
        user: FakeUser,
        data: dict[str, Any],
        *,
        message: FakeMessage | None = None,
    ) -> FakeInteraction:
        if channel.guild is not None:
            channel.guild.add_member(user)
        interaction_id = self.state.ids.new_id()
        return FakeInteraction(
            id=interaction_id,
            token=self.state.new_interaction_token(),
            type=kind,
            application_id=self.state.application_id,
            channel=channel,
            user=user,
            data=data,
            # The id's timestamp, so the fake and discord.py agree on the token's age.
            created_at=snowflake_timestamp(interaction_id),
            attachment_size_limit=channel.effective_upload_limit(),
            guild=channel.guild,
            message=message,
        )

    async def _deliver(self, interaction: FakeInteraction) -> FakeInteraction:
        self.state.add_interaction(interaction)
        self.gateway.dispatch("INTERACTION_CREATE", interaction.payload())
        deadline = interaction.created_at + RESPONSE_DEADLINE_S
        # The callback is a REST request, and every request wakes this loop, so a late
        # callback after clock.advance() ends the wait as well as a timely one.
        while interaction.response_type is None:
            remaining = deadline - self.clock.now()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.clock.to_real(remaining)):
                    await self.state.changed.wait()
        return interaction

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        attachment_id = request.match_info["attachment_id"]
        attachment = (
            self.state.attachments.get(int(attachment_id)) if attachment_id.isdigit() else None
        )
        if attachment is None:
            return web.Response(status=404, text="404: Not Found")
        content_type = attachment.content_type or "application/octet-stream"
        return web.Response(body=attachment.data, headers={"Content-Type": content_type})
