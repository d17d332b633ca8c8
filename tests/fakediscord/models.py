"""Users, guilds, roles, members and channels of the fake Discord, with their JSON payloads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakediscord.messages import FakeMessage
    from tests.fakediscord.state import DiscordState

# Discord permission bits.
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_APPLICATION_COMMANDS = 1 << 31

# What @everyone grants in this fake, trimmed to the bits a slash-command bot looks at.
MEMBER_PERMISSIONS = (
    ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_APPLICATION_COMMANDS
)
# The bot gets the member set, which lacks MENTION_EVERYONE, so its @everyone and @here never ping.
BOT_PERMISSIONS = MEMBER_PERMISSIONS

# Discord's default upload limit per file for servers below boost tier 2.
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024

GUILD_TEXT = 0
DM = 1


@dataclass(eq=False)
class FakeUser:
    """A Discord user. ``dms_open`` False makes DMs to them fail with 403/50007."""

    id: int
    name: str
    bot: bool = False
    dms_open: bool = True

    def payload(self) -> dict[str, Any]:
        """Build the user object Discord sends."""
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeRole:
    """A guild role. The @everyone role has the guild's id."""

    id: int
    name: str
    permissions: int
    position: int = 0

    def payload(self) -> dict[str, Any]:
        """Build the role object Discord sends."""
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeMember:
    """A user's membership in a guild, with the permissions it grants everywhere in the guild."""

    user: FakeUser
    joined_at: str
    permissions: int = MEMBER_PERMISSIONS
    role_ids: list[int] = field(default_factory=list)

    def payload(self, *, with_permissions: bool = False) -> dict[str, Any]:
        """Build the guild member object, with ``permissions`` as interactions carry it."""
        data: dict[str, Any] = {
            "user": self.user.payload(),
            "roles": [str(role_id) for role_id in self.role_ids],
            "joined_at": self.joined_at,
            "nick": None,
            "avatar": None,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_permissions:
            data["permissions"] = str(self.permissions)
        return data


@dataclass(eq=False)
class FakeChannel:
    """A guild text channel or a DM channel, with switches for the bot's permissions in it.

    ``view`` False gives 403/50001 on every channel route. ``send`` False gives 403/50013 on
    message creation, and ``attach_files`` False gives 403/50013 on uploads. ``upload_limit``
    overrides the guild's per-file limit in bytes.
    """

    id: int
    name: str
    kind: int
    state: DiscordState = field(repr=False)
    guild: FakeGuild | None = None
    recipient: FakeUser | None = None
    view: bool = True
    send: bool = True
    attach_files: bool = True
    upload_limit: int | None = None
    position: int = 0
    messages: list[FakeMessage] = field(default_factory=list, repr=False)

    def bot_permissions(self) -> int:
        """Return the bot's permission bits in this channel after the switches."""
        if not self.view:
            return 0
        permissions = BOT_PERMISSIONS
        if not self.send:
            permissions &= ~SEND_MESSAGES
        if not self.attach_files:
            permissions &= ~ATTACH_FILES
        return permissions

    def effective_upload_limit(self) -> int:
        """Return the maximum size in bytes of one uploaded file in this channel."""
        if self.upload_limit is not None:
            return self.upload_limit
        if self.guild is not None:
            return self.guild.upload_limit
        return self.state.upload_limit

    def set_permissions(
        self,
        *,
        view: bool | None = None,
        send: bool | None = None,
        attach_files: bool | None = None,
    ) -> None:
        """Change the bot's permission switches and send CHANNEL_UPDATE to the bot."""
        self.view = self.view if view is None else view
        self.send = self.send if send is None else send
        self.attach_files = self.attach_files if attach_files is None else attach_files
        if self.guild is not None:
            self.state.dispatch("CHANNEL_UPDATE", self.payload())

    def payload(self) -> dict[str, Any]:
        """Build the channel object Discord sends."""
        if self.kind == DM:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": DM,
                "recipients": [self.recipient.payload()],
                "last_message_id": None,
                "flags": 0,
            }
        assert self.guild is not None
        denied = BOT_PERMISSIONS & ~self.bot_permissions()
        overwrites = [{"id": str(self.state.bot.id), "type": 1, "allow": "0", "deny": str(denied)}]
        return {
            "id": str(self.id),
            "type": GUILD_TEXT,
            "guild_id": str(self.guild.id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": overwrites if denied else [],
            "nsfw": False,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeGuild:
    """A guild (server) with roles, text channels and members. The bot is always a member."""

    id: int
    name: str
    owner: FakeUser
    state: DiscordState = field(repr=False)
    upload_limit: int = DEFAULT_UPLOAD_LIMIT
    roles: list[FakeRole] = field(default_factory=list)
    channels: list[FakeChannel] = field(default_factory=list)
    members: dict[int, FakeMember] = field(default_factory=dict)

    def create_channel(
        self,
        name: str,
        *,
        view: bool = True,
        send: bool = True,
        attach_files: bool = True,
        upload_limit: int | None = None,
    ) -> FakeChannel:
        """Create a text channel with the bot's permission switches and announce it to the bot."""
        channel = FakeChannel(
            id=self.state.ids.new_id(),
            name=name,
            kind=GUILD_TEXT,
            state=self.state,
            guild=self,
            view=view,
            send=send,
            attach_files=attach_files,
            upload_limit=upload_limit,
            position=len(self.channels),
        )
        self.channels.append(channel)
        self.state.channels[channel.id] = channel
        self.state.dispatch("CHANNEL_CREATE", channel.payload())
        return channel

    def add_member(self, user: FakeUser, *, permissions: int = MEMBER_PERMISSIONS) -> FakeMember:
        """Add ``user`` as a member with guild-wide ``permissions``, or return the membership."""
        if user.id not in self.members:
            joined_at = self.state.clock.isoformat()
            self.members[user.id] = FakeMember(user, joined_at, permissions)
        return self.members[user.id]

    def payload(self) -> dict[str, Any]:
        """Build the full guild object of a GUILD_CREATE event for a guild the bot joins.

        The GUILD_CREATE burst after READY adds ``unavailable: false``. discord.py reads that
        as a known guild becoming available, and its absence as the bot joining a new guild.
        """
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner.id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "features": [],
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "joined_at": self.members[self.state.bot.id].joined_at,
            "large": False,
            "member_count": len(self.members),
            "roles": [role.payload() for role in self.roles],
            "channels": [channel.payload() for channel in self.channels],
            "members": [member.payload() for member in self.members.values()],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "threads": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }
