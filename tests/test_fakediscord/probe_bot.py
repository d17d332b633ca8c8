"""A discord.py bot with a probe cog that exercises the transport, for the fake Discord tests."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeMessage,
    FakeUser,
)

# on_ready fires this long after the last GUILD_CREATE; discord.py's default is 2 s.
GUILD_READY_TIMEOUT_S = 0.05


def file_bytes(size: int) -> bytes:
    """Return ``size`` bytes of a repeating 0..255 pattern, so corruption shows."""
    return (bytes(range(256)) * (size // 256 + 1))[:size]


class PressView(discord.ui.View):
    """A persistent view with one button, custom_id "press"."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Press", custom_id="press")
    async def press(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(content="pressed", view=None)


class ProbeCog(commands.Cog):
    """Slash commands that exercise discord.py's transport against the fake.

    ``interactions`` keeps every discord.py Interaction received and ``errors`` every
    HTTPException a command caught. ``stall`` runs before ``/late`` responds.
    """

    def __init__(self) -> None:
        self.interactions: list[discord.Interaction] = []
        self.errors: list[discord.HTTPException] = []
        self.stall: Callable[[], None] | None = None

    @app_commands.command(name="ping", description="Defer, then edit the original response")
    async def ping(self, interaction: discord.Interaction) -> None:
        self.interactions.append(interaction)
        await interaction.response.defer()
        await interaction.edit_original_response(content="pong")

    @app_commands.command(name="upload", description="Post a file to the channel")
    @app_commands.describe(size="File size in bytes")
    async def upload(self, interaction: discord.Interaction, size: int) -> None:
        self.interactions.append(interaction)
        await interaction.response.defer(ephemeral=True)
        assert isinstance(interaction.channel, discord.TextChannel)
        upload = discord.File(io.BytesIO(file_bytes(size)), filename="blob.bin")
        await interaction.channel.send(file=upload)
        await interaction.followup.send("posted", ephemeral=True)

    @app_commands.command(name="button", description="Reply with a button")
    async def button(self, interaction: discord.Interaction) -> None:
        self.interactions.append(interaction)
        await interaction.response.send_message("press it", view=PressView())

    @app_commands.command(name="dm", description="DM the invoking user")
    async def dm(self, interaction: discord.Interaction) -> None:
        self.interactions.append(interaction)
        await interaction.response.defer(ephemeral=True)
        channel = await interaction.client.create_dm(discord.Object(interaction.user.id))
        try:
            await channel.send("your result")
        except discord.HTTPException as error:
            self.errors.append(error)
        await interaction.edit_original_response(content="done")

    @app_commands.command(name="late", description="Respond after the stall hook ran")
    async def late(self, interaction: discord.Interaction) -> None:
        self.interactions.append(interaction)
        if self.stall is not None:
            self.stall()
        try:
            await interaction.response.send_message("too late?")
        except discord.HTTPException as error:
            self.errors.append(error)


@dataclass
class Probe:
    """A running bot with the probe cog, and a guild with one channel and a user, alice."""

    fake: FakeDiscord
    bot: commands.Bot
    cog: ProbeCog
    guild: FakeGuild
    channel: FakeChannel
    alice: FakeUser

    def text_channel(self) -> discord.TextChannel:
        """Return the bot's cached object for ``channel``."""
        channel = self.bot.get_channel(self.channel.id)
        assert isinstance(channel, discord.TextChannel)
        return channel


async def wait_for_edit(fake: FakeDiscord, interaction: FakeInteraction) -> FakeMessage:
    """Wait until the interaction's original response has been edited, and return it."""

    def edited_original() -> FakeMessage | None:
        original = interaction.original
        return original if original is not None and original.edits else None

    original = await fake.wait_for(edited_original)
    assert original is not None
    return original


def build_bot() -> tuple[commands.Bot, ProbeCog]:
    """Build a bot with default intents, a short guild_ready_timeout and the probe cog."""
    intents = discord.Intents.default()
    bot = commands.Bot(
        command_prefix=commands.when_mentioned,
        intents=intents,
        guild_ready_timeout=GUILD_READY_TIMEOUT_S,
    )
    return bot, ProbeCog()
