"""Slash commands, buttons and interaction-token rules, driven through a real discord.py bot."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from tests.fakediscord import (
    TOKEN_LIFETIME_S,
    BotNotConnectedError,
    FakeDiscord,
    InvalidOptionError,
    UnknownCommandError,
    UnknownComponentError,
)
from tests.fakediscord.interactions import (
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    UPDATE_MESSAGE,
)
from tests.fakediscord.messages import CHAT_INPUT_COMMAND, LOADING
from tests.test_fakediscord.probe_bot import Probe, wait_for_edit

MIB = 1024 * 1024


async def test_slash_defer_then_edit_original(probe: Probe) -> None:
    interaction = await probe.fake.slash(probe.guild, probe.channel, probe.alice, "ping")
    original = await wait_for_edit(probe.fake, interaction)

    assert interaction.response_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
    assert original.content == "pong"
    assert original.flags & LOADING == 0
    assert original.type == CHAT_INPUT_COMMAND
    assert original.webhook_id == probe.fake.bot.id
    assert [edit.content for edit in original.edits] == ["pong"]
    assert original in probe.channel.messages


async def test_slash_interaction_fields_reach_discord_py(probe: Probe) -> None:
    interaction = await probe.fake.slash(probe.guild, probe.channel, probe.alice, "ping")
    received = probe.cog.interactions[-1]

    assert received.id == interaction.id
    assert received.filesize_limit == 10 * MIB
    assert received.app_permissions.send_messages
    assert received.app_permissions.attach_files
    assert received.permissions.use_application_commands
    assert received.context.guild
    assert received.guild_id == probe.guild.id
    assert received.channel is not None
    assert received.channel.id == probe.channel.id
    assert received.user.id == probe.alice.id
    assert received.created_at.timestamp() == pytest.approx(interaction.created_at, abs=0.001)


async def test_slash_synced_commands_echoed_with_ids(probe: Probe) -> None:
    synced = probe.fake.state.commands.listed(None)

    assert sorted(command["name"] for command in synced) == [
        "button",
        "dm",
        "late",
        "ping",
        "upload",
    ]
    assert all(command["id"].isdigit() for command in synced)
    assert all(command["application_id"] == str(probe.fake.bot.id) for command in synced)


async def test_slash_unknown_command_raises(probe: Probe) -> None:
    with pytest.raises(UnknownCommandError) as raised:
        await probe.fake.slash(probe.guild, probe.channel, probe.alice, "nope")

    assert "ping" in raised.value.known


async def test_slash_missing_required_option_raises(probe: Probe) -> None:
    with pytest.raises(InvalidOptionError):
        await probe.fake.slash(probe.guild, probe.channel, probe.alice, "upload")


async def test_slash_without_bot_raises(fake_discord: FakeDiscord) -> None:
    guild = fake_discord.create_guild("guild")
    channel = guild.create_channel("general")
    user = fake_discord.create_user("alice")

    with pytest.raises(BotNotConnectedError):
        await fake_discord.slash(guild, channel, user, "ping")


async def test_slash_in_dm_channel(probe: Probe) -> None:
    channel = probe.fake.open_dm(probe.alice)

    interaction = await probe.fake.slash(None, channel, probe.alice, "ping")
    original = await wait_for_edit(probe.fake, interaction)

    assert probe.cog.interactions[-1].guild_id is None
    assert probe.cog.interactions[-1].context.dm_channel
    assert original.content == "pong"
    assert probe.fake.dm_messages(probe.alice) == [original]


async def test_followup_after_defer_edits_placeholder(probe: Probe) -> None:
    interaction = await probe.fake.slash(
        probe.guild, probe.channel, probe.alice, "upload", size=1000
    )
    await wait_for_edit(probe.fake, interaction)

    assert interaction.original is not None
    assert interaction.original.content == "posted"
    assert interaction.original.ephemeral
    assert interaction.original not in probe.channel.messages
    assert interaction.followups == []


async def test_click_button_updates_message(probe: Probe) -> None:
    command = await probe.fake.slash(probe.guild, probe.channel, probe.alice, "button")
    assert command.response_type == CHANNEL_MESSAGE_WITH_SOURCE
    assert command.original is not None
    assert command.original.custom_ids() == ["press"]

    click = await probe.fake.click(command.original, "press", probe.alice)

    assert click.response_type == UPDATE_MESSAGE
    assert command.original.content == "pressed"
    assert command.original.components == []
    assert click.original is command.original


async def test_click_unknown_custom_id_raises(probe: Probe) -> None:
    command = await probe.fake.slash(probe.guild, probe.channel, probe.alice, "button")
    assert command.original is not None

    with pytest.raises(UnknownComponentError):
        await probe.fake.click(command.original, "missing", probe.alice)


async def test_callback_after_deadline_gets_10062(probe: Probe) -> None:
    probe.cog.stall = lambda: probe.fake.clock.advance(3.5)

    interaction = await probe.fake.slash(probe.guild, probe.channel, probe.alice, "late")
    await probe.fake.wait_for(lambda: probe.cog.errors)

    assert interaction.response_type is None
    assert isinstance(probe.cog.errors[0], discord.NotFound)
    assert probe.cog.errors[0].code == 10062


async def test_callback_second_acknowledgement_gets_40060(
    probe: Probe, http: aiohttp.ClientSession
) -> None:
    interaction = await probe.fake.slash(probe.guild, probe.channel, probe.alice, "ping")
    path = f"interactions/{interaction.id}/{interaction.token}/callback"

    async with http.post(path, json={"type": 5}) as response:
        body = await response.json()

    assert response.status == 400
    assert body == {"message": "Interaction has already been acknowledged.", "code": 40060}


async def test_token_older_than_15_minutes_gets_50027(probe: Probe) -> None:
    interaction = await probe.fake.slash(probe.guild, probe.channel, probe.alice, "ping")
    await wait_for_edit(probe.fake, interaction)
    received = probe.cog.interactions[-1]
    probe.fake.clock.advance(TOKEN_LIFETIME_S + 1)

    with pytest.raises(discord.HTTPException) as raised:
        await received.edit_original_response(content="too late")

    assert raised.value.status == 401
    assert raised.value.code == 50027
    assert not isinstance(raised.value, discord.NotFound)
    assert probe.fake.stats.expired_token_calls == 1


async def test_token_inside_15_minutes_still_works(probe: Probe) -> None:
    interaction = await probe.fake.slash(probe.guild, probe.channel, probe.alice, "ping")
    await wait_for_edit(probe.fake, interaction)
    probe.fake.clock.advance(TOKEN_LIFETIME_S - 5)

    await probe.cog.interactions[-1].edit_original_response(content="still here")

    assert interaction.original is not None
    assert interaction.original.content == "still here"
    assert probe.fake.stats.expired_token_calls == 0


async def test_webhook_unknown_token_gets_10015(probe: Probe, http: aiohttp.ClientSession) -> None:
    path = f"webhooks/{probe.fake.bot.id}/not-a-token/messages/@original"

    async with http.get(path) as response:
        body = await response.json()

    assert response.status == 404
    assert body["code"] == 10015
