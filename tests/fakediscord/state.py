"""Everything the fake Discord stores: users, guilds, channels, messages, interactions, commands."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any, Protocol

from tests.fakediscord.clock import FakeClock, SnowflakeGenerator
from tests.fakediscord.commands import CommandRegistry
from tests.fakediscord.interactions import FakeInteraction
from tests.fakediscord.messages import FakeAttachment, FakeMessage
from tests.fakediscord.models import (
    BOT_PERMISSIONS,
    DEFAULT_UPLOAD_LIMIT,
    DM,
    MEMBER_PERMISSIONS,
    FakeChannel,
    FakeGuild,
    FakeRole,
    FakeUser,
)
from tests.fakediscord.request_body import UploadedFile

# Application flags: APPLICATION_COMMAND_BADGE, as a bot with slash commands has.
APPLICATION_FLAGS = 1 << 23


class EventSink(Protocol):
    """Where gateway events go, such as the connected bots' sessions."""

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send gateway event ``event`` with ``data`` to every identified session."""


class Signal:
    """Wakes every waiter whenever the state changes, such as after each REST request."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def pulse(self) -> None:
        """Wake the current waiters."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self) -> None:
        """Wait for the next pulse."""
        await self._event.wait()


class DiscordState:
    """The fake's world, shared by the REST routes, the gateway and the Python API."""

    def __init__(
        self, clock: FakeClock, *, upload_limit: int = DEFAULT_UPLOAD_LIMIT, bot_name: str
    ) -> None:
        self.clock = clock
        self.ids = SnowflakeGenerator(clock)
        self.upload_limit = upload_limit
        self.bot_token = "fake-bot-token." + secrets.token_urlsafe(24)
        self.users: dict[int, FakeUser] = {}
        # Discord rejects DMs to bots with 50007, so the bot's DMs are closed.
        self.bot = self.create_user(bot_name, bot=True, dms_open=False)
        self.owner = self.create_user("application-owner")
        self.application_id = self.bot.id
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.attachments: dict[int, FakeAttachment] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.commands = CommandRegistry(self.ids, self.application_id)
        self.cdn_url = ""
        self.sinks: list[EventSink] = []
        self.changed = Signal()

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to every connected bot."""
        for sink in self.sinks:
            sink.dispatch(event, data)

    def create_user(self, name: str, *, bot: bool = False, dms_open: bool = True) -> FakeUser:
        """Create a user."""
        user = FakeUser(self.ids.new_id(), name, bot=bot, dms_open=dms_open)
        self.users[user.id] = user
        return user

    def create_guild(self, name: str) -> FakeGuild:
        """Create a guild with an @everyone role, the bot as a member, and send GUILD_CREATE."""
        guild_id = self.ids.new_id()
        guild = FakeGuild(guild_id, name, owner=self.owner, state=self)
        guild.roles.append(FakeRole(guild_id, "@everyone", MEMBER_PERMISSIONS))
        guild.add_member(self.owner)
        guild.add_member(self.bot, permissions=BOT_PERMISSIONS)
        self.guilds[guild_id] = guild
        self.dispatch("GUILD_CREATE", guild.payload())
        return guild

    def open_dm(self, user: FakeUser) -> FakeChannel:
        """Return the bot's DM channel with ``user``, creating it on first use."""
        if user.id not in self.dm_channels:
            channel = FakeChannel(self.ids.new_id(), user.name, DM, self, recipient=user)
            self.dm_channels[user.id] = channel
            self.channels[channel.id] = channel
        return self.dm_channels[user.id]

    def new_attachment(
        self, channel: FakeChannel, upload: UploadedFile, *, filename: str, description: str | None
    ) -> FakeAttachment:
        """Store an uploaded file and give it a URL on the fake's attachment route."""
        attachment_id = self.ids.new_id()
        url = f"{self.cdn_url}/attachments/{channel.id}/{attachment_id}/{filename}"
        attachment = FakeAttachment(
            attachment_id, filename, upload.data, upload.content_type, url, description
        )
        self.attachments[attachment_id] = attachment
        return attachment

    def add_message(self, message: FakeMessage) -> None:
        """Store a new message. Ephemeral ones stay out of the channel's visible history."""
        self.messages[message.id] = message
        if not message.ephemeral:
            message.channel.messages.append(message)

    def delete_message(self, message: FakeMessage) -> None:
        """Mark a message deleted and drop it from its channel's history."""
        message.deleted = True
        if message in message.channel.messages:
            message.channel.messages.remove(message)

    def add_interaction(self, interaction: FakeInteraction) -> None:
        """Store a new interaction so its id and token resolve."""
        self.interactions[interaction.id] = interaction
        self.interactions_by_token[interaction.token] = interaction

    def new_interaction_token(self) -> str:
        """Return a fresh interaction token, as long as Discord's."""
        return "fake-interaction-token." + secrets.token_urlsafe(96)

    def application_payload(self) -> dict[str, Any]:
        """Build the application object of GET /oauth2/applications/@me."""
        return {
            "id": str(self.application_id),
            "name": self.bot.name,
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.owner.payload(),
            "verify_key": "0" * 64,
            "flags": APPLICATION_FLAGS,
            "team": None,
            "summary": "",
            "interactions_endpoint_url": None,
            "bot": self.bot.payload(),
        }

    def bot_user_payload(self) -> dict[str, Any]:
        """Build the user object of GET /users/@me and READY, with the private fields."""
        return {**self.bot.payload(), "verified": True, "mfa_enabled": False, "locale": "en-US"}
