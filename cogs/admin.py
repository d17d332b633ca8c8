"""Admin commands: view, remove, clear, pause, resume and retry jobs.

They live in their own top-level command, /queue-admin, because Discord hides commands from
members by top-level command only: members keep /queue mine, and only members with Manage
Server see these. Every command also checks the admin roles and users from the settings when
it runs, and every action is logged with who did what to which jobs.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from storage import InvalidTransitionError, Job, JobStatus

from . import formatting
from .permissions import is_admin

if TYPE_CHECKING:
    from bot import ImagineBot

_log = logging.getLogger(__name__)

PAGE_SIZE = 15
CONFIRM_TIMEOUT_S = 60.0


class AdminCog(commands.Cog):
    """Commands for the people who run the queue."""

    admin = app_commands.Group(
        name="queue-admin",
        description="Run the image queue (admins)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: ImagineBot) -> None:
        self.bot = bot

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        if is_admin(interaction.user, self.bot.settings.discord):
            return True
        _log.warning(
            "rejected /%s from user %d: not an admin", _name(interaction), interaction.user.id
        )
        # The tree's error handler replies with this message, visible only to the member.
        raise app_commands.CheckFailure(
            "Only the bot's admins can run this; ask someone with Manage Server."
        )

    @admin.command(name="view", description="The running and waiting jobs, a page at a time")
    @app_commands.describe(page="Page number, from 1")
    async def view(
        self, interaction: discord.Interaction, page: app_commands.Range[int, 1] = 1
    ) -> None:
        store = self.bot.service.store
        counts = await store.counts()
        total = counts[JobStatus.RUNNING] + counts[JobStatus.QUEUED]
        pages = max(1, -(-total // PAGE_SIZE))
        offset = (page - 1) * PAGE_SIZE
        jobs = await store.queue_page(limit=PAGE_SIZE, offset=offset)
        state = " The queue is paused." if self.bot.service.paused else ""
        lines = [f"{total} jobs running or waiting; page {page} of {pages}.{state}"]
        for index, job in enumerate(jobs, start=offset):
            ahead = index if job.status is JobStatus.QUEUED else None
            lines.append(job_line(job, ahead))
        await interaction.response.send_message(
            formatting.shorten("\n".join(lines), formatting.CONTENT_MAX_CHARS), ephemeral=True
        )

    @admin.command(name="remove", description="Remove one job from the queue")
    @app_commands.describe(job="Job number")
    async def remove(
        self, interaction: discord.Interaction, job: app_commands.Range[int, 1]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        removed = await self._cancel(interaction.user, [job], "remove")
        text = f"Job {job} was removed." if removed else f"Job {job} is not waiting or running."
        await interaction.edit_original_response(content=text)

    @admin.command(name="clear", description="Remove every waiting job (asks to confirm)")
    async def clear(self, interaction: discord.Interaction) -> None:
        waiting = (await self.bot.service.store.counts())[JobStatus.QUEUED]
        view = _ConfirmClear(self, interaction.user.id)
        await interaction.response.send_message(
            f"Remove all {waiting} waiting jobs? Running jobs finish. Their owners are told.",
            view=view,
            ephemeral=True,
        )

    @admin.command(name="pause", description="Finish the running jobs, then start no new ones")
    async def pause(self, interaction: discord.Interaction) -> None:
        await self.bot.service.pause()
        _log.info("admin %d paused the queue", interaction.user.id)
        await interaction.response.send_message(
            "The queue is paused: running jobs finish, and waiting ones wait until /queue-admin "
            "resume.",
            ephemeral=True,
        )

    @admin.command(name="resume", description="Start jobs again after a pause")
    async def resume(self, interaction: discord.Interaction) -> None:
        await self.bot.service.resume()
        _log.info("admin %d resumed the queue", interaction.user.id)
        await interaction.response.send_message("The queue runs again.", ephemeral=True)

    @admin.command(name="retry", description="Queue a failed job again")
    @app_commands.describe(job="Job number")
    async def retry(
        self, interaction: discord.Interaction, job: app_commands.Range[int, 1]
    ) -> None:
        try:
            retried = await self.bot.service.retry(job)
        except InvalidTransitionError as exc:
            await interaction.response.send_message(
                f"Job {job} cannot be retried: it is {exc.status}; only failed jobs can.",
                ephemeral=True,
            )
            return
        _log.info("admin %d retried job %d", interaction.user.id, retried.id)
        ahead = await self.bot.service.store.tasks_ahead(retried.id) or 0
        await interaction.response.send_message(
            f"Job {retried.id} is queued again, {formatting.tasks_ahead_text(ahead)}.",
            ephemeral=True,
        )

    async def _cancel(self, admin: discord.abc.User, job_ids: list[int], action: str) -> list[int]:
        cancelled = []
        for job_id in job_ids:
            job = await self.bot.service.cancel(job_id)
            if job is not None:
                cancelled.append(job_id)
                await self.bot.service.events.job_finished(job)
        _log.info("admin %d (%s) %s: jobs %s", admin.id, admin.name, action, cancelled)
        return cancelled

    async def clear_waiting(self, admin: discord.abc.User) -> int:
        store = self.bot.service.store
        waiting = await store.list_jobs([JobStatus.QUEUED], limit=1_000_000)
        return len(await self._cancel(admin, [job.id for job in waiting], "clear"))


class _ConfirmClear(discord.ui.View):
    """The confirmation for /queue-admin clear; only the admin who asked may press it."""

    def __init__(self, cog: AdminCog, admin_id: int) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT_S)
        self.cog = cog
        self.admin_id = admin_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.admin_id

    @discord.ui.button(label="Remove them", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.edit_message(content="Removing the waiting jobs…", view=None)
        removed = await self.cog.clear_waiting(interaction.user)
        await interaction.edit_original_response(content=f"{removed} waiting jobs were removed.")
        self.stop()

    @discord.ui.button(label="Keep them", style=discord.ButtonStyle.secondary)
    async def keep(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(content="Nothing was removed.", view=None)
        self.stop()


def job_line(job: Job, ahead: int | None) -> str:
    prompt = formatting.quote_prompt(str(job.params.get("prompt", "")), 40)
    size = f"{job.params.get('width')}×{job.params.get('height')}"
    age_min = (time.time() - job.enqueued_at) / 60
    where = f"running on {job.backend}" if job.status is JobStatus.RUNNING else f"{ahead} ahead"
    who = formatting.quote_prompt(job.requester_name or str(job.user_id), 32)
    return f"job {job.id} · {where} · {who} · “{prompt}” · {size} · {age_min:.0f} min"


def _name(interaction: discord.Interaction) -> str:
    return interaction.command.qualified_name if interaction.command else "?"


async def setup(bot: ImagineBot) -> None:
    await bot.add_cog(AdminCog(bot))
