"""The admin check for members of a guild."""

from __future__ import annotations

import discord

from settings import DiscordSettings


def is_admin(member: discord.abc.User, settings: DiscordSettings) -> bool:
    """Return whether ``member`` may manage other members' jobs.

    Admins are the users and role holders listed in the settings, and anyone with the Manage
    Server permission, who could change the bot's command permissions anyway.
    """
    if member.id in settings.admin_user_ids:
        return True
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    return any(role.id in settings.admin_role_ids for role in member.roles)
