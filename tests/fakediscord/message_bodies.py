"""Message create and edit bodies applied to stored messages, with limits and mentions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fakediscord.errors import ApiError
from tests.fakediscord.interactions import FakeInteraction
from tests.fakediscord.limits import FormErrors, check_message_body, check_upload_sizes
from tests.fakediscord.mentions import resolve_mentions
from tests.fakediscord.messages import DEFAULT, EPHEMERAL, LOADING, FakeAttachment, FakeMessage
from tests.fakediscord.models import MENTION_EVERYONE, FakeChannel, FakeUser
from tests.fakediscord.request_body import UploadedFile
from tests.fakediscord.state import DiscordState


@dataclass(frozen=True)
class MessageOrigin:
    """Who creates a message and under which rules.

    ``webhook_id`` and ``interaction`` are set for messages sent with an interaction token.
    ``upload_limit`` is the maximum bytes per file: the channel's, or the interaction's
    ``attachment_size_limit``. ``ephemeral_allowed`` is True only for interaction responses.
    """

    author: FakeUser
    upload_limit: int
    webhook_id: int | None = None
    interaction: FakeInteraction | None = None
    message_type: int = DEFAULT
    ephemeral_allowed: bool = False


def create_message(
    state: DiscordState,
    channel: FakeChannel,
    payload: dict[str, Any],
    files: list[UploadedFile],
    origin: MessageOrigin,
    *,
    extra_flags: int = 0,
) -> FakeMessage:
    """Create, store and return a message from a create-message body.

    Raises:
        ApiError: 400/50035 or 400/50006 for a body over Discord's limits, 413/40005 for a
            file over ``origin.upload_limit``.
    """
    if extra_flags & LOADING == 0:
        check_message_body(payload, creating=True, file_count=len(files))
    check_upload_sizes([upload.size for upload in files], origin.upload_limit)
    flags = int(payload.get("flags") or 0) | extra_flags
    if not origin.ephemeral_allowed:
        flags &= ~EPHEMERAL
    message = FakeMessage(
        id=state.ids.new_id(),
        channel=channel,
        author=origin.author,
        created_at=state.clock.now(),
        content=payload.get("content") or "",
        embeds=payload.get("embeds") or [],
        components=payload.get("components") or [],
        allowed_mentions=payload.get("allowed_mentions"),
        nonce=payload.get("nonce"),
        flags=flags,
        tts=bool(payload.get("tts")),
        type=origin.message_type,
        message_reference=_reference(state, payload.get("message_reference")),
        webhook_id=origin.webhook_id,
        interaction=origin.interaction,
    )
    message.attachments = _attachments(state, channel, payload.get("attachments"), files, [])
    _resolve_pings(state, message)
    state.add_message(message)
    return message


def edit_message(
    state: DiscordState,
    message: FakeMessage,
    payload: dict[str, Any],
    files: list[UploadedFile],
    upload_limit: int,
) -> None:
    """Apply an edit-message body to ``message`` and record the edit.

    Fields missing from ``payload`` keep their value. An edit ends the "thinking" state of a
    deferred response. Without an ``attachments`` list, new files are added to the old ones.

    Raises:
        ApiError: as ``create_message`` does.
    """
    check_message_body(payload, creating=False, file_count=len(files))
    check_upload_sizes([upload.size for upload in files], upload_limit)
    if "content" in payload:
        message.content = payload["content"] or ""
    if "embeds" in payload:
        message.embeds = payload["embeds"] or []
    if "components" in payload:
        message.components = payload["components"] or []
    if "allowed_mentions" in payload:
        message.allowed_mentions = payload["allowed_mentions"]
    if payload.get("flags") is not None:
        # Ephemerality is fixed when the message is created.
        message.flags = (message.flags & EPHEMERAL) | (int(payload["flags"]) & ~EPHEMERAL)
    message.flags &= ~LOADING
    refs = payload.get("attachments")
    message.attachments = _attachments(state, message.channel, refs, files, message.attachments)
    _resolve_pings(state, message)
    message.record_edit(state.clock.now(), payload)


def _attachments(
    state: DiscordState,
    channel: FakeChannel,
    refs: list[dict[str, Any]] | None,
    files: list[UploadedFile],
    existing: list[FakeAttachment],
) -> list[FakeAttachment]:
    """Resolve an ``attachments`` list: old attachments by id, new uploads by file index."""
    uploads = {upload.index: upload for upload in files}
    existing_by_id = {attachment.id: attachment for attachment in existing}
    result = list(existing) if refs is None else []
    used: set[int] = set()
    errors = FormErrors()
    for position, ref in enumerate(refs or []):
        ref_id = int(ref.get("id", -1))
        if ref_id in existing_by_id:
            result.append(existing_by_id[ref_id])
        elif ref_id in uploads:
            used.add(ref_id)
            upload = uploads[ref_id]
            filename = ref.get("filename") or upload.filename
            description = ref.get("description")
            result.append(
                state.new_attachment(channel, upload, filename=filename, description=description)
            )
        else:
            message = f"Attachment {ref_id} is neither an old attachment nor an uploaded file."
            errors.add(("attachments", position, "id"), "ATTACHMENT_NOT_FOUND", message)
    errors.raise_if_any()
    for upload in files:
        if upload.index not in used:
            attachment = state.new_attachment(
                channel, upload, filename=upload.filename, description=None
            )
            result.append(attachment)
    return result


def _reference(state: DiscordState, reference: dict[str, Any] | None) -> dict[str, Any] | None:
    if not reference or reference.get("message_id") is None:
        return reference
    target = state.messages.get(int(reference["message_id"]))
    if target is None or target.deleted:
        error = {"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}
        raise ApiError(400, 50035, errors={"message_reference": {"_errors": [error]}})
    return {
        "type": 0,
        "message_id": str(target.id),
        "channel_id": str(target.channel.id),
        **({"guild_id": str(target.channel.guild.id)} if target.channel.guild else {}),
    }


def _resolve_pings(state: DiscordState, message: FakeMessage) -> None:
    channel = message.channel
    guild = channel.guild
    known_roles = {role.id for role in guild.roles} if guild is not None else set()
    # Webhooks may ping @everyone, while a bot needs MENTION_EVERYONE in the channel.
    can_mention_everyone = guild is not None and (
        message.webhook_id is not None or bool(channel.bot_permissions() & MENTION_EVERYONE)
    )
    replied_user = None
    if message.message_reference is not None and "message_id" in message.message_reference:
        replied_user = state.messages[int(message.message_reference["message_id"])].author.id
    mentions = resolve_mentions(
        message.content,
        message.allowed_mentions,
        known_users=state.users,
        known_roles=known_roles,
        can_mention_everyone=can_mention_everyone,
        replied_user=replied_user,
    )
    message.mentions = mentions.users
    message.mention_roles = mentions.roles
    message.mention_everyone = mentions.everyone
