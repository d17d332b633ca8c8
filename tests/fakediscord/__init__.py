"""A loopback fake of Discord for transport-level tests and benchmarks.

A real, unmodified discord.py client talks to it over HTTP and WebSocket on 127.0.0.1, once
``redirect_discord`` has pointed ``discord.http.Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY`` at it. It keeps messages, uploads, edits and pings,
returns Discord's error shapes and codes, enforces rate limits with Discord's headers, and
checks every request against Discord's OpenAPI spec (``discord-openapi.json``, MIT licence
in ``discord-openapi.LICENSE``). All Discord durations run on a fake clock that tests can
advance or speed up.
"""

from __future__ import annotations

from tests.fakediscord.client import redirect_discord, running_bot
from tests.fakediscord.clock import FakeClock
from tests.fakediscord.errors import (
    ApiError,
    BotNotConnectedError,
    FakeDiscordError,
    InvalidAdvanceError,
    InvalidOptionError,
    InvalidTimeScaleError,
    ServerNotStartedError,
    UnknownCommandError,
    UnknownComponentError,
    UnknownRouteError,
    WaitTimeoutError,
)
from tests.fakediscord.faults import Fault
from tests.fakediscord.interactions import RESPONSE_DEADLINE_S, TOKEN_LIFETIME_S, FakeInteraction
from tests.fakediscord.messages import FakeAttachment, FakeMessage, MessageEdit
from tests.fakediscord.models import (
    DEFAULT_UPLOAD_LIMIT,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
)
from tests.fakediscord.ratelimits import BucketConfig, BucketLimit
from tests.fakediscord.records import RecordedRequest, Stats
from tests.fakediscord.server import FakeDiscord

__all__ = [
    "DEFAULT_UPLOAD_LIMIT",
    "RESPONSE_DEADLINE_S",
    "TOKEN_LIFETIME_S",
    "ApiError",
    "BotNotConnectedError",
    "BucketConfig",
    "BucketLimit",
    "FakeAttachment",
    "FakeChannel",
    "FakeClock",
    "FakeDiscord",
    "FakeDiscordError",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "Fault",
    "InvalidAdvanceError",
    "InvalidOptionError",
    "InvalidTimeScaleError",
    "MessageEdit",
    "RecordedRequest",
    "ServerNotStartedError",
    "Stats",
    "UnknownCommandError",
    "UnknownComponentError",
    "UnknownRouteError",
    "WaitTimeoutError",
    "redirect_discord",
    "running_bot",
]
