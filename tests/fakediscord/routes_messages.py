"""REST routes for channel messages and DMs, with the bot's channel permissions enforced."""

from __future__ import annotations

from typing import Any

from tests.fakediscord.errors import ApiError
from tests.fakediscord.message_bodies import MessageOrigin, create_message, edit_message
from tests.fakediscord.messages import FakeMessage
from tests.fakediscord.models import DM, FakeChannel
from tests.fakediscord.ratelimits import BucketKind
from tests.fakediscord.routing import RequestContext, RouteSpec

# How long Discord remembers a nonce sent with enforce_nonce; its docs say "the past few minutes".
# NOTE: the exact window is not published; five minutes is an estimate.
NONCE_WINDOW_S = 300.0


async def post_message(ctx: RequestContext) -> dict[str, Any]:
    """POST /channels/{channel_id}/messages, as JSON or multipart with files.

    With ``enforce_nonce`` and a nonce the same author used in this channel within the window,
    Discord returns that message instead of creating another.
    """
    channel = ctx.channel()
    body = ctx.body.object()
    nonce = body.get("nonce")
    if nonce is not None and body.get("enforce_nonce"):
        for earlier in reversed(channel.messages):
            recent = ctx.state.clock.now() - earlier.created_at <= NONCE_WINDOW_S
            if recent and earlier.nonce == nonce and earlier.author is ctx.state.bot:
                return earlier.payload()
    _check_can_send(channel, has_files=bool(ctx.body.files))
    origin = MessageOrigin(author=ctx.state.bot, upload_limit=channel.effective_upload_limit())
    message = create_message(ctx.state, channel, ctx.body.object(), ctx.body.files, origin)
    return message.payload()


async def get_message(ctx: RequestContext) -> dict[str, Any]:
    """GET /channels/{channel_id}/messages/{message_id}."""
    return _message(ctx).payload()


async def patch_message(ctx: RequestContext) -> dict[str, Any]:
    """PATCH /channels/{channel_id}/messages/{message_id}: edit one of the bot's messages."""
    message = _message(ctx)
    if message.author is not ctx.state.bot:
        raise ApiError(403, 50005)
    if ctx.body.files and message.channel.kind != DM and not message.channel.attach_files:
        raise ApiError(403, 50013)
    limit = message.channel.effective_upload_limit()
    edit_message(ctx.state, message, ctx.body.object(), ctx.body.files, limit)
    return message.payload()


async def delete_message(ctx: RequestContext) -> None:
    """DELETE /channels/{channel_id}/messages/{message_id}: the bot may delete its own."""
    message = _message(ctx)
    if message.author is not ctx.state.bot:
        raise ApiError(403, 50013)
    ctx.state.delete_message(message)


async def list_messages(ctx: RequestContext) -> list[dict[str, Any]]:
    """GET /channels/{channel_id}/messages: the newest ``limit`` messages (1-100), newest first.

    NOTE: before, after and around are not modelled; a caller paging back gets the newest page.
    """
    channel = ctx.channel()
    if channel.kind != DM and not channel.view:
        raise ApiError(403, 50001)
    try:
        limit = int(ctx.request.query.get("limit", "50"))
    except ValueError:
        raise ApiError(400, 50035) from None
    visible = [m for m in channel.messages if not m.deleted and not m.ephemeral]
    return [message.payload() for message in reversed(visible[-max(1, min(limit, 100)) :])]


async def open_dm(ctx: RequestContext) -> dict[str, Any]:
    """POST /users/@me/channels: open the DM channel with ``recipient_id``.

    Opening always works; a user with closed DMs makes the first send fail with 50007.
    """
    recipient_id = str(ctx.body.object().get("recipient_id"))
    user = ctx.state.users.get(int(recipient_id)) if recipient_id.isdigit() else None
    if user is None:
        error = {"code": "INVALID_RECIPIENT", "message": "Invalid Recipient(s)"}
        raise ApiError(400, 50035, errors={"recipient_id": {"_errors": [error]}})
    return ctx.state.open_dm(user).payload()


def _check_can_send(channel: FakeChannel, *, has_files: bool) -> None:
    if channel.kind == DM:
        assert channel.recipient is not None
        if channel.recipient.bot or not channel.recipient.dms_open:
            raise ApiError(403, 50007)
        return
    if not channel.send:
        raise ApiError(403, 50013)
    if has_files and not channel.attach_files:
        raise ApiError(403, 50013)


def _message(ctx: RequestContext) -> FakeMessage:
    channel = ctx.channel()
    message = ctx.state.messages.get(ctx.snowflake("message_id"))
    if message is None or message.deleted or message.channel is not channel or message.ephemeral:
        raise ApiError(404, 10008)
    return message


MESSAGE_ROUTE = "/channels/{channel_id}/messages/{message_id}"
ROUTES = [
    RouteSpec("POST", "/channels/{channel_id}/messages", post_message, BucketKind.CHANNEL_MESSAGES),
    RouteSpec("GET", "/channels/{channel_id}/messages", list_messages, BucketKind.CHANNEL_MESSAGES),
    RouteSpec("GET", MESSAGE_ROUTE, get_message),
    RouteSpec("PATCH", MESSAGE_ROUTE, patch_message, BucketKind.CHANNEL_MESSAGES),
    RouteSpec("DELETE", MESSAGE_ROUTE, delete_message, BucketKind.CHANNEL_MESSAGES),
    RouteSpec("POST", "/users/@me/channels", open_dm, BucketKind.DM_CREATE),
]
