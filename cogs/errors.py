"""Turn errors raised by commands into one reply the member can act on."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from storage import InvalidJobError, JobNotFoundError, StorageError

_log = logging.getLogger(__name__)

GENERIC_REPLY = (
    "Something went wrong on the bot's side. Try again later; the owner can check the logs."
)


async def reply_to_error(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    """Reply to ``interaction`` once with what went wrong; log what the member cannot fix."""
    original = getattr(error, "original", error)
    if isinstance(error, app_commands.CheckFailure):
        text = str(error) or "You cannot use this command here."
    elif isinstance(original, JobNotFoundError):
        text = f"Job {original.job_id} does not exist. Check the job number and try again."
    elif isinstance(original, InvalidJobError):
        _log.warning(
            "command %s: the job store rejected the request: %s", _name(interaction), original
        )
        text = (
            "The request contains characters that cannot be stored, such as a lone surrogate. "
            "Remove them and send it again."
        )
    elif isinstance(original, StorageError):
        _log.error("command %s failed in storage: %s", _name(interaction), original)
        text = "The queue could not store your request. Try again in a minute."
    else:
        _log.error("command %s failed", _name(interaction), exc_info=original)
        text = GENERIC_REPLY
    try:
        if interaction.response.is_done():
            await interaction.edit_original_response(content=text)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException as exc:
        _log.warning("could not tell the member about the error: %s", exc)


def _name(interaction: discord.Interaction) -> str:
    return interaction.command.qualified_name if interaction.command else "?"
