"""The gateway handshake, guild state in discord.py's cache, reconnects and bad tokens."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest

from tests.fakediscord import FakeDiscord
from tests.test_fakediscord.probe_bot import Probe, build_bot


async def test_ready_fills_bot_cache(probe: Probe) -> None:
    guild = probe.bot.get_guild(probe.guild.id)

    assert probe.bot.user is not None
    assert probe.bot.user.id == probe.fake.bot.id
    assert probe.bot.application_id == probe.fake.bot.id
    assert guild is not None
    assert guild.default_role.id == probe.guild.id
    assert guild.me is not None
    assert guild.member_count == 2
    assert [channel.id for channel in guild.text_channels] == [probe.channel.id]


async def test_identify_sends_default_intents(probe: Probe) -> None:
    session = next(iter(probe.fake.gateway.sessions))

    assert probe.fake.gateway.identifies[0]["intents"] == discord.Intents.default().value
    assert "token" not in probe.fake.gateway.identifies[0]
    assert session.query["v"] == "10"
    assert session.query["encoding"] == "json"


async def test_heartbeat_is_acknowledged(probe: Probe) -> None:
    latency = await probe.fake.wait_for(
        lambda: probe.bot.latency != float("inf") and probe.bot.latency
    )

    assert latency >= 0


async def test_guild_created_after_ready_reaches_bot(probe: Probe) -> None:
    joined = asyncio.ensure_future(probe.bot.wait_for("guild_join", timeout=5))

    late = probe.fake.create_guild("late guild")
    guild = await joined

    assert guild.id == late.id


async def test_reconnect_resumes_session(probe: Probe) -> None:
    resumed = asyncio.ensure_future(probe.bot.wait_for("resumed", timeout=5))

    probe.fake.request_reconnect()
    await resumed
    interaction = await probe.fake.slash(probe.guild, probe.channel, probe.alice, "ping")

    assert probe.fake.gateway.resumes == 1
    assert len(probe.fake.gateway.identifies) == 1
    assert interaction.response_type is not None


async def test_login_with_wrong_token_fails(fake_discord: FakeDiscord) -> None:
    bot, _ = build_bot()

    with pytest.raises(discord.LoginFailure):
        await bot.login("not-the-token")
    await bot.close()

    assert fake_discord.requests[-1].status == 401


async def test_gateway_bot_returns_fake_url(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    async with http.get("gateway/bot") as response:
        body = await response.json()

    assert body["url"] == fake_discord.gateway_url
    assert body["shards"] == 1
