"""Fixtures: a real discord.py bot with a probe cog, connected to the fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.fakediscord import FakeDiscord, running_bot
from tests.fakediscord.fixtures import fake_discord, fake_discord_options
from tests.test_fakediscord.probe_bot import Probe, build_bot

__all__ = ["fake_discord", "fake_discord_options"]


@pytest.fixture
async def probe(fake_discord: FakeDiscord) -> AsyncIterator[Probe]:
    guild = fake_discord.create_guild("test guild")
    channel = guild.create_channel("general")
    alice = fake_discord.create_user("alice")
    bot, cog = build_bot()
    await bot.add_cog(cog)
    async with running_bot(bot, fake_discord):
        await bot.tree.sync()
        yield Probe(fake_discord, bot, cog, guild, channel, alice)


@pytest.fixture
async def http(fake_discord: FakeDiscord) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain aiohttp session that sends the bot's Authorization header, for hand-made requests."""
    headers = {"Authorization": f"Bot {fake_discord.bot_token}"}
    async with aiohttp.ClientSession(fake_discord.base_url + "/", headers=headers) as session:
        yield session
