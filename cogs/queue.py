"""/queue commands and the replies to "Where am I?"."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from storage import JobStatus

from . import formatting

if TYPE_CHECKING:
    from bot import ImagineBot

# The maximum number of jobs listed in one reply, to stay under Discord's 2,000 characters.
MAX_LISTED_JOBS = 10
# Discord takes at most this many attachments on one message.
MAX_ATTACHMENTS = 10


async def describe_queue_for(
    bot: ImagineBot, user_id: int, *, focus_job_id: int | None = None
) -> str:
    """Return the member's own jobs with their exact places and start estimates."""
    service = bot.service
    store = service.store
    lines: list[str] = []
    if focus_job_id is not None:
        focus = await store.get(focus_job_id)
        if focus is None:
            lines.append(f"Job {focus_job_id} is not in the queue.")
        elif focus.status is JobStatus.QUEUED:
            ahead = await store.tasks_ahead(focus.id) or 0
            eta = formatting.relative_time(service.notifier.eta_for(ahead))
            lines.append(
                f"Job {focus.id}: {formatting.tasks_ahead_text(ahead)}, estimated start {eta}."
            )
        elif focus.status is JobStatus.RUNNING:
            lines.append(f"Job {focus.id} is being generated on {focus.backend} now.")
        else:
            lines.append(f"Job {focus.id} has ended: {focus.status}.")
    active = await store.active_jobs_of(user_id, limit=MAX_LISTED_JOBS + 2)
    mine = [job for job in active if job.id != focus_job_id]
    for job in mine[:MAX_LISTED_JOBS]:
        prompt = formatting.quote_prompt(str(job.params.get("prompt", "")), 60)
        if job.status is JobStatus.RUNNING:
            lines.append(f"Job {job.id}: generating now. “{prompt}”")
        else:
            ahead = await store.tasks_ahead(job.id) or 0
            lines.append(f"Job {job.id}: {formatting.tasks_ahead_text(ahead)}. “{prompt}”")
    if len(mine) > MAX_LISTED_JOBS:
        lines.append("…and more: the oldest are listed first.")
    if not lines:
        lines.append("You have no jobs in the queue. Use /imagine to start one.")
    return formatting.shorten("\n".join(lines), formatting.CONTENT_MAX_CHARS)


async def kept_images_for(bot: ImagineBot, user_id: int) -> tuple[str, list[discord.File]]:
    """Return the member's recent images that could not be posted, as files to hand over."""
    kept = [
        job
        for job in await bot.service.store.latest_results_of(user_id, limit=5)
        if job.result_message_id is None
    ]
    files: list[discord.File] = []
    for job in kept:
        for index, record in enumerate((job.result or {}).get("images", [])):
            if len(files) < MAX_ATTACHMENTS:
                path = bot.service.images.path(record)
                data = await asyncio.to_thread(path.read_bytes)
                name = f"imagine-{job.id}-{index}{path.suffix}"
                files.append(discord.File(io.BytesIO(data), filename=name))
    if not files:
        return "", []
    ids = ", ".join(str(job.id) for job in kept)
    return f"Images that could not be posted for you (jobs {ids}) are attached.", files


async def answer_with_queue(
    bot: ImagineBot, interaction: discord.Interaction, focus: int | None
) -> None:
    """Answer privately with the member's places in the queue and any images kept for them."""
    text = await describe_queue_for(bot, interaction.user.id, focus_job_id=focus)
    kept_text, files = await kept_images_for(bot, interaction.user.id)
    if kept_text:
        text = formatting.shorten(f"{text}\n{kept_text}", formatting.CONTENT_MAX_CHARS)
    await interaction.response.send_message(text, files=files, ephemeral=True)


class QueueCog(commands.Cog):
    """Commands about the queue."""

    queue = app_commands.Group(name="queue", description="See the image queue", guild_only=True)

    def __init__(self, bot: ImagineBot) -> None:
        self.bot = bot

    @queue.command(
        name="mine", description="Your jobs, their places in the queue and start estimates"
    )
    async def mine(self, interaction: discord.Interaction) -> None:
        await answer_with_queue(self.bot, interaction, None)


async def setup(bot: ImagineBot) -> None:
    await bot.add_cog(QueueCog(bot))
