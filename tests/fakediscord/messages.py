"""Messages stored by the fake Discord: content, embeds, attachments, mentions and edit history."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakediscord.models import FakeChannel, FakeUser

if TYPE_CHECKING:
    from tests.fakediscord.interactions import FakeInteraction

# Message flags, and the message types this fake creates.
EPHEMERAL = 1 << 6
LOADING = 1 << 7

DEFAULT = 0
CHAT_INPUT_COMMAND = 20


@dataclass(eq=False)
class FakeAttachment:
    """An uploaded file, kept with its bytes. ``url`` serves the bytes from the fake."""

    id: int
    filename: str
    data: bytes = field(repr=False)
    content_type: str | None
    url: str
    description: str | None = None

    @property
    def size(self) -> int:
        """Size of the file in bytes."""
        return len(self.data)

    def payload(self) -> dict[str, Any]:
        """Build the attachment object Discord sends."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type is not None:
            data["content_type"] = self.content_type
        if self.description is not None:
            data["description"] = self.description
        return data


@dataclass(frozen=True)
class MessageEdit:
    """A message's state right after one edit, with the fake time of the edit."""

    timestamp: float
    content: str
    embeds: list[dict[str, Any]]
    attachments: list[str]
    components: list[dict[str, Any]]
    flags: int
    mentions: list[int]
    request: dict[str, Any]


@dataclass(eq=False)
class FakeMessage:
    """A message as Discord stores it.

    ``allowed_mentions`` is the object the client sent (None if it sent none). ``mentions``,
    ``mention_roles`` and ``mention_everyone`` are the pings Discord would deliver given
    that object, so an empty ``mentions`` means that no user was pinged.
    """

    id: int
    channel: FakeChannel
    author: FakeUser
    created_at: float
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    allowed_mentions: dict[str, Any] | None = None
    nonce: int | str | None = None
    flags: int = 0
    tts: bool = False
    type: int = DEFAULT
    mentions: list[int] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    message_reference: dict[str, Any] | None = None
    webhook_id: int | None = None
    interaction: FakeInteraction | None = field(default=None, repr=False)
    edits: list[MessageEdit] = field(default_factory=list, repr=False)
    edited_at: float | None = None
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        """Whether only the invoking user can see the message."""
        return bool(self.flags & EPHEMERAL)

    def custom_ids(self) -> list[str]:
        """Return the custom_id of every component on the message, in layout order."""
        return [component["custom_id"] for component in self._walk_components()]

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        """Return the component with ``custom_id``, or None."""
        for component in self._walk_components():
            if component["custom_id"] == custom_id:
                return component
        return None

    def _walk_components(self) -> Iterator[dict[str, Any]]:
        pending = list(self.components)
        while pending:
            component = pending.pop(0)
            if "custom_id" in component:
                yield component
            pending.extend(component.get("components", []))
            accessory = component.get("accessory")
            if accessory is not None:
                pending.append(accessory)

    def record_edit(self, timestamp: float, request: dict[str, Any]) -> None:
        """Append the message's current state to ``edits`` as the result of ``request``."""
        self.edited_at = timestamp
        edit = MessageEdit(
            timestamp=timestamp,
            content=self.content,
            embeds=list(self.embeds),
            attachments=[attachment.filename for attachment in self.attachments],
            components=list(self.components),
            flags=self.flags,
            mentions=list(self.mentions),
            request=request,
        )
        self.edits.append(edit)

    def payload(self) -> dict[str, Any]:
        """Build the message object Discord sends."""
        state = self.channel.state
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel.id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": state.clock.isoformat(self.created_at),
            "edited_timestamp": None,
            "tts": self.tts,
            "mention_everyone": self.mention_everyone,
            "mentions": [state.users[user_id].payload() for user_id in self.mentions],
            "mention_roles": [str(role_id) for role_id in self.mention_roles],
            "attachments": [attachment.payload() for attachment in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
        }
        if self.edited_at is not None:
            data["edited_timestamp"] = state.clock.isoformat(self.edited_at)
        if self.channel.guild is not None:
            data["guild_id"] = str(self.channel.guild.id)
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        if self.interaction is not None:
            data.update(self.interaction.message_fields(self))
        return data
