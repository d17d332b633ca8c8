"""Members' own controls: /cancel and the Cancel button."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from storage import Job

from .permissions import is_admin

if TYPE_CHECKING:
    from bot import ImagineBot


async def cancel_job(bot: ImagineBot, user: discord.abc.User, job_id: int | None) -> str:
    """Cancel a job for ``user`` if they own it or are an admin; return what to tell them."""
    store = bot.service.store
    job: Job | None
    if job_id is None:
        active = await store.active_jobs_of(user.id, limit=1_000)
        job = active[-1] if active else None
        if job is None:
            return "You have no job waiting or running to cancel."
    else:
        job = await store.get(job_id)
        if job is None:
            return f"Job {job_id} does not exist. /queue mine lists your jobs."
    if job.user_id != user.id and not is_admin(user, bot.settings.discord):
        return f"Job {job.id} belongs to someone else; only they or an admin can cancel it."
    cancelled = await bot.service.cancel(job.id)
    if cancelled is None:
        return f"Job {job.id} has already ended ({job.status}), so there is nothing to cancel."
    await bot.service.events.job_finished(cancelled)
    by = "" if job.user_id == user.id else " by an admin"
    return f"Job {job.id} was cancelled{by}."


class JobsCog(commands.Cog):
    """Commands members use on their own jobs."""

    def __init__(self, bot: ImagineBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="cancel", description="Cancel one of your jobs (default: the newest)"
    )
    @app_commands.describe(job="Job number, as shown in the status message")
    @app_commands.guild_only()
    async def cancel(
        self, interaction: discord.Interaction, job: app_commands.Range[int, 1] | None = None
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await cancel_job(self.bot, interaction.user, job)
        await interaction.edit_original_response(content=text)

    @app_commands.command(name="notify", description="Get a DM when your images are ready")
    @app_commands.describe(setting="on: a DM with a link to each finished image; off: none")
    async def notify(self, interaction: discord.Interaction, setting: Literal["on", "off"]) -> None:
        store = self.bot.service.store
        enabled = setting == "on"
        await store.set_dm_opt_in(interaction.user.id, enabled)
        if enabled:
            # Trying again is the only way to learn whether the member opened their DMs.
            await store.clear_dm_blocked(interaction.user.id)
            text = "You will get a DM with a link when each of your images is ready."
        else:
            text = "You will get no DMs from the bot about your images."
        await interaction.response.send_message(text, ephemeral=True)


async def setup(bot: ImagineBot) -> None:
    await bot.add_cog(JobsCog(bot))
