"""REST routes for login, command sync, the gateway URL and channel reads."""

from __future__ import annotations

from typing import Any

from tests.fakediscord.errors import ApiError
from tests.fakediscord.routing import RequestContext, RouteSpec


async def get_current_user(ctx: RequestContext) -> dict[str, Any]:
    """GET /users/@me: the bot's own user, the first call of a login."""
    return ctx.state.bot_user_payload()


async def get_application(ctx: RequestContext) -> dict[str, Any]:
    """GET /oauth2/applications/@me: the application, read right after /users/@me."""
    return ctx.state.application_payload()


async def get_global_commands(ctx: RequestContext) -> list[dict[str, Any]]:
    """GET /applications/{application_id}/commands."""
    _check_application(ctx)
    return ctx.state.commands.listed(None)


async def put_global_commands(ctx: RequestContext) -> list[dict[str, Any]]:
    """PUT /applications/{application_id}/commands: bulk overwrite, echoed with ids."""
    _check_application(ctx)
    return ctx.state.commands.overwrite(None, _command_list(ctx))


async def get_guild_commands(ctx: RequestContext) -> list[dict[str, Any]]:
    """GET /applications/{application_id}/guilds/{guild_id}/commands."""
    _check_application(ctx)
    return ctx.state.commands.listed(_guild_id(ctx))


async def put_guild_commands(ctx: RequestContext) -> list[dict[str, Any]]:
    """PUT /applications/{application_id}/guilds/{guild_id}/commands: bulk overwrite."""
    _check_application(ctx)
    return ctx.state.commands.overwrite(_guild_id(ctx), _command_list(ctx))


async def get_gateway(ctx: RequestContext) -> dict[str, Any]:
    """GET /gateway: the gateway URL."""
    return {"url": _gateway_url(ctx)}


async def get_gateway_bot(ctx: RequestContext) -> dict[str, Any]:
    """GET /gateway/bot: the gateway URL and shard advice, used by AutoShardedClient."""
    session_start_limit = {
        "total": 1000,
        "remaining": 1000,
        "reset_after": 86_400_000,
        "max_concurrency": 1,
    }
    return {"url": _gateway_url(ctx), "shards": 1, "session_start_limit": session_start_limit}


async def get_channel(ctx: RequestContext) -> dict[str, Any]:
    """GET /channels/{channel_id}."""
    return ctx.channel().payload()


def _check_application(ctx: RequestContext) -> None:
    if ctx.snowflake("application_id") != ctx.state.application_id:
        raise ApiError(404, 10002)


def _guild_id(ctx: RequestContext) -> int:
    guild_id = ctx.snowflake("guild_id")
    if guild_id not in ctx.state.guilds:
        raise ApiError(404, 10004)
    return guild_id


def _command_list(ctx: RequestContext) -> list[dict[str, Any]]:
    commands = ctx.body.payload or []
    if not isinstance(commands, list):
        raise ApiError(400, 50035, message="Invalid Form Body: expected a list of commands.")
    return commands


def _gateway_url(ctx: RequestContext) -> str:
    host = ctx.request.host
    return f"ws://{host}/"


ROUTES = [
    RouteSpec("GET", "/users/@me", get_current_user),
    RouteSpec("GET", "/oauth2/applications/@me", get_application),
    RouteSpec("GET", "/applications/{application_id}/commands", get_global_commands),
    RouteSpec("PUT", "/applications/{application_id}/commands", put_global_commands),
    RouteSpec(
        "GET", "/applications/{application_id}/guilds/{guild_id}/commands", get_guild_commands
    ),
    RouteSpec(
        "PUT", "/applications/{application_id}/guilds/{guild_id}/commands", put_guild_commands
    ),
    RouteSpec("GET", "/gateway", get_gateway),
    RouteSpec("GET", "/gateway/bot", get_gateway_bot),
    RouteSpec("GET", "/channels/{channel_id}", get_channel),
]
