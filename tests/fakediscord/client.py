"""Pointing a real discord.py client at a fake Discord, and running it for a test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TypeVar

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.fakediscord.errors import WaitTimeoutError
from tests.fakediscord.server import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)

READY_POLL_S = 0.01


@contextmanager
def redirect_discord(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST and gateway URLs at ``fake`` and restore them on exit.

    Every REST call, webhook and interaction callbacks included, builds its URL from
    ``Route.BASE``. A plain Client connects to ``DiscordWebSocket.DEFAULT_GATEWAY`` without
    asking ``GET /gateway/bot``, and reconnects to READY's ``resume_gateway_url``.
    """
    old_base = Route.BASE
    old_gateway = DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.base_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        Route.BASE = old_base
        DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@asynccontextmanager
async def running_bot(
    bot: ClientT, fake: FakeDiscord, *, timeout_s: float = 10.0
) -> AsyncIterator[ClientT]:
    """Start ``bot`` with the fake's token, wait for on_ready, and close it on exit.

    Call it inside ``redirect_discord``. An error during login or connect is raised here.
    """
    task = asyncio.create_task(bot.start(fake.bot_token))
    try:
        await _wait_ready(bot, task, fake, timeout_s)
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _wait_ready(
    bot: discord.Client, task: asyncio.Task[None], fake: FakeDiscord, timeout_s: float
) -> None:
    # wait_until_ready() raises before login, so poll is_ready() and watch the start task.
    try:
        async with asyncio.timeout(timeout_s):
            while not bot.is_ready():
                if task.done():
                    task.result()
                    raise RuntimeError("The bot stopped before it became ready.")
                await asyncio.sleep(READY_POLL_S)
    except TimeoutError:
        raise WaitTimeoutError(timeout_s, len(fake.requests)) from None
