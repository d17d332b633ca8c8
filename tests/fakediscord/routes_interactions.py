"""REST routes that use an interaction token: the callback and the interaction webhook."""

from __future__ import annotations

from typing import Any

from tests.fakediscord.errors import ApiError
from tests.fakediscord.interactions import (
    APPLICATION_COMMAND,
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_UPDATE_MESSAGE,
    UPDATE_MESSAGE,
    FakeInteraction,
)
from tests.fakediscord.message_bodies import MessageOrigin, create_message, edit_message
from tests.fakediscord.messages import CHAT_INPUT_COMMAND, DEFAULT, EPHEMERAL, LOADING, FakeMessage
from tests.fakediscord.ratelimits import BucketKind
from tests.fakediscord.routing import RequestContext, RouteSpec

# InteractionCallbackTypes in discord-openapi.json. This fake acts on types 4 to 7 and keeps
# the others only in ``interaction.callbacks``.
CALLBACK_TYPES = frozenset({1, 4, 5, 6, 7, 8, 9, 12, 13})
COMPONENT_ONLY_TYPES = frozenset({DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE})
MESSAGE_RESPONSE_TYPES = frozenset(
    {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, UPDATE_MESSAGE}
)


async def post_callback(ctx: RequestContext) -> dict[str, Any] | None:
    """POST /interactions/{interaction_id}/{interaction_token}/callback: the initial response.

    Replies 200 with the callback response when ``with_response`` is true (discord.py 2.7
    always sets it), else 204.
    """
    interaction = ctx.state.interactions.get(ctx.snowflake("interaction_id"))
    if interaction is None or interaction.token != ctx.params["interaction_token"]:
        raise ApiError(404, 10062)
    if interaction.token_expired(ctx.now):
        raise ApiError(401, 50027)
    if interaction.response_type is not None:
        raise ApiError(400, 40060)
    if interaction.past_deadline(ctx.now):
        raise ApiError(404, 10062)
    body = ctx.body.object()
    response_type = body.get("type")
    if not isinstance(response_type, int) or response_type not in CALLBACK_TYPES:
        raise ApiError(400, 50035, message=f"Invalid Form Body: unknown type {response_type!r}.")
    _respond(ctx, interaction, response_type, body.get("data") or {})
    interaction.acknowledge(response_type, ctx.now, body)
    if not ctx.flag("with_response"):
        return None
    return _callback_response(interaction, response_type)


async def post_followup(ctx: RequestContext) -> dict[str, Any] | None:
    """POST /webhooks/{webhook_id}/{webhook_token}: a followup message.

    The first followup after a type 5 defer edits the "thinking" placeholder instead, which
    Discord keeps as legacy behaviour.
    """
    interaction = _interaction(ctx)
    payload = ctx.body.object()
    original = interaction.original
    if original is not None and original.flags & LOADING:
        limit = interaction.attachment_size_limit
        edit_message(ctx.state, original, payload, ctx.body.files, limit)
        message = original
    else:
        message = create_message(
            ctx.state, interaction.channel, payload, ctx.body.files, _origin(ctx, interaction)
        )
        interaction.followups.append(message)
    return message.payload() if ctx.flag("wait") else None


async def get_webhook_message(ctx: RequestContext) -> dict[str, Any]:
    """GET /webhooks/{webhook_id}/{webhook_token}/messages/@original or /{message_id}."""
    return _webhook_message(ctx, _interaction(ctx)).payload()


async def patch_webhook_message(ctx: RequestContext) -> dict[str, Any]:
    """PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original or /{message_id}."""
    interaction = _interaction(ctx)
    message = _webhook_message(ctx, interaction)
    limit = interaction.attachment_size_limit
    edit_message(ctx.state, message, ctx.body.object(), ctx.body.files, limit)
    return message.payload()


async def delete_webhook_message(ctx: RequestContext) -> None:
    """DELETE /webhooks/{webhook_id}/{webhook_token}/messages/@original or /{message_id}."""
    ctx.state.delete_message(_webhook_message(ctx, _interaction(ctx)))


def _respond(
    ctx: RequestContext, interaction: FakeInteraction, response_type: int, data: dict[str, Any]
) -> None:
    """Apply an initial response of ``response_type`` to the interaction's messages."""
    is_command = interaction.type == APPLICATION_COMMAND
    if response_type in COMPONENT_ONLY_TYPES and (is_command or interaction.message is None):
        raise ApiError(400, 50035, message="Invalid Form Body: type needs a component interaction.")
    origin = _origin(ctx, interaction)
    if response_type == CHANNEL_MESSAGE_WITH_SOURCE:
        interaction.original = create_message(
            ctx.state, interaction.channel, data, ctx.body.files, origin
        )
    elif response_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
        placeholder = {"flags": int(data.get("flags") or 0) & EPHEMERAL}
        interaction.original = create_message(
            ctx.state, interaction.channel, placeholder, [], origin, extra_flags=LOADING
        )
    elif response_type == DEFERRED_UPDATE_MESSAGE:
        interaction.original = interaction.message
    elif response_type == UPDATE_MESSAGE:
        assert interaction.message is not None
        limit = interaction.attachment_size_limit
        edit_message(ctx.state, interaction.message, data, ctx.body.files, limit)
        interaction.original = interaction.message


def _callback_response(interaction: FakeInteraction, response_type: int) -> dict[str, Any]:
    original = interaction.original
    summary: dict[str, Any] = {
        "id": str(interaction.id),
        "type": interaction.type,
        "response_message_loading": response_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
        "response_message_ephemeral": interaction.ephemeral,
    }
    resource: dict[str, Any] = {"type": response_type}
    if original is not None and response_type in MESSAGE_RESPONSE_TYPES:
        summary["response_message_id"] = str(original.id)
        resource["message"] = original.payload()
    return {"interaction": summary, "resource": resource}


def _origin(ctx: RequestContext, interaction: FakeInteraction) -> MessageOrigin:
    is_first = interaction.original is None
    is_command = interaction.type == APPLICATION_COMMAND
    return MessageOrigin(
        author=ctx.state.bot,
        upload_limit=interaction.attachment_size_limit,
        webhook_id=interaction.application_id,
        interaction=interaction,
        message_type=CHAT_INPUT_COMMAND if is_first and is_command else DEFAULT,
        ephemeral_allowed=True,
    )


def _interaction(ctx: RequestContext) -> FakeInteraction:
    """Return the interaction whose token the webhook route names, or raise its error.

    An unknown token gives 404/10015 and a token older than 15 minutes 401/50027. A token
    whose interaction was never acknowledged gives 404/10015, or 404/10062 once the 3 s
    window has passed.
    """
    interaction = ctx.state.interactions_by_token.get(ctx.params["webhook_token"])
    if interaction is None or ctx.snowflake("webhook_id") != interaction.application_id:
        raise ApiError(404, 10015)
    if interaction.token_expired(ctx.now):
        raise ApiError(401, 50027)
    if interaction.response_type is None:
        raise ApiError(404, 10062 if interaction.past_deadline(ctx.now) else 10015)
    return interaction


def _webhook_message(ctx: RequestContext, interaction: FakeInteraction) -> FakeMessage:
    if "message_id" in ctx.params:
        message = ctx.state.messages.get(ctx.snowflake("message_id"))
        owned = message is interaction.original or message in interaction.followups
        if message is None or not owned:
            raise ApiError(404, 10008)
    else:
        message = interaction.original
    if message is None or message.deleted:
        raise ApiError(404, 10008)
    return message


WEBHOOK = "/webhooks/{webhook_id}/{webhook_token}"
ORIGINAL = WEBHOOK + "/messages/@original"
BY_ID = WEBHOOK + "/messages/{message_id}"
TOKEN = BucketKind.INTERACTION_TOKEN
ROUTES = [
    RouteSpec(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        post_callback,
        TOKEN,
        interaction=True,
    ),
    RouteSpec("POST", WEBHOOK, post_followup, TOKEN, interaction=True),
    *(
        RouteSpec(method, template, handler, TOKEN, interaction=True)
        for template in (ORIGINAL, BY_ID)
        for method, handler in (
            ("GET", get_webhook_message),
            ("PATCH", patch_webhook_message),
            ("DELETE", delete_webhook_message),
        )
    ),
]
