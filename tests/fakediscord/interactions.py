"""Interactions: the INTERACTION_CREATE payload, the 3 s and 15 min limits, and the responses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fakediscord.messages import FakeMessage
from tests.fakediscord.models import FakeChannel, FakeGuild, FakeUser

# An interaction token works for 15 minutes; after that every use returns 401/50027.
TOKEN_LIFETIME_S = 15 * 60
# The initial response must arrive within 3 seconds, or the interaction is gone (404/10062).
RESPONSE_DEADLINE_S = 3.0

# Interaction types, callback types, context types and integration types, as in the
# InteractionTypes, InteractionCallbackTypes, InteractionContextType and
# ApplicationIntegrationType schemas of discord-openapi.json.
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3

PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9

GUILD_CONTEXT = 0
BOT_DM_CONTEXT = 1
GUILD_INSTALL = "0"
USER_INSTALL = "1"


@dataclass(eq=False)
class FakeInteraction:
    """One interaction and how the bot responded to it.

    ``response_type`` is the callback type of the acknowledgement (None until then).
    ``original`` is the message that ``@original`` names: the response message for a
    command, or the clicked message after a component's type 6 or 7 response.
    ``followups`` are the messages created through the followup webhook.
    """

    id: int
    token: str
    type: int
    application_id: int
    channel: FakeChannel
    user: FakeUser
    data: dict[str, Any]
    created_at: float
    attachment_size_limit: int
    guild: FakeGuild | None = None
    message: FakeMessage | None = None
    response_type: int | None = None
    acknowledged_at: float | None = None
    original: FakeMessage | None = None
    followups: list[FakeMessage] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The command name, or the custom_id of the clicked component."""
        return str(self.data.get("name") or self.data.get("custom_id"))

    @property
    def ephemeral(self) -> bool:
        """Whether the response message is ephemeral."""
        return self.original is not None and self.original.ephemeral

    def token_expired(self, now: float) -> bool:
        """Whether the token is older than 15 minutes at fake time ``now``."""
        return now - self.created_at > TOKEN_LIFETIME_S

    def past_deadline(self, now: float) -> bool:
        """Whether the 3 s window for the initial response has passed at fake time ``now``."""
        return now - self.created_at > RESPONSE_DEADLINE_S

    def acknowledge(self, response_type: int, now: float, body: dict[str, Any]) -> None:
        """Record the accepted initial response."""
        self.response_type = response_type
        self.acknowledged_at = now
        self.callbacks.append(body)

    def payload(self) -> dict[str, Any]:
        """Build the INTERACTION_CREATE payload with every field discord.py 2.7 reads."""
        channel = self.channel.payload()
        data: dict[str, Any] = {
            "id": str(self.id),
            "application_id": str(self.application_id),
            "type": self.type,
            "token": self.token,
            "version": 1,
            "channel_id": str(self.channel.id),
            "channel": channel,
            "app_permissions": str(self.channel.bot_permissions()),
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": self._integration_owners(),
            "attachment_size_limit": self.attachment_size_limit,
            "data": self.data,
        }
        if self.guild is not None:
            member = self.guild.members[self.user.id]
            channel["permissions"] = str(member.permissions)
            data["guild_id"] = str(self.guild.id)
            data["guild"] = {"id": str(self.guild.id), "locale": "en-US", "features": []}
            data["guild_locale"] = "en-US"
            data["member"] = member.payload(with_permissions=True)
            data["context"] = GUILD_CONTEXT
        else:
            data["user"] = self.user.payload()
            data["context"] = BOT_DM_CONTEXT
        if self.message is not None:
            data["message"] = self.message.payload()
        return data

    def message_fields(self, message: FakeMessage) -> dict[str, Any]:
        """Build the ``interaction_metadata`` and ``interaction`` fields of a response message."""
        metadata: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "user": self.user.payload(),
            "authorizing_integration_owners": self._integration_owners(),
        }
        if self.original is not None and message is not self.original:
            metadata["original_response_message_id"] = str(self.original.id)
        if self.message is not None:
            metadata["interacted_message_id"] = str(self.message.id)
        fields: dict[str, Any] = {"interaction_metadata": metadata}
        if self.type == APPLICATION_COMMAND:
            fields["interaction"] = {
                "id": str(self.id),
                "type": self.type,
                "name": self.name,
                "user": self.user.payload(),
            }
        return fields

    def _integration_owners(self) -> dict[str, str]:
        if self.guild is not None:
            return {GUILD_INSTALL: str(self.guild.id)}
        return {USER_INSTALL: str(self.user.id)}
