"""The /imagine command: validate, queue, and reply with the number of tasks ahead."""

# No ``from __future__ import annotations`` here: the option ranges come from the settings at run
# time, and discord.py reads them from annotations evaluated when the command is built.

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from engine import GenerationParams
from storage import CooldownError, NewJob, QueueLimitError

from . import formatting
from .validation import MAX_SEED, ImagineOptions, InvalidOptionError, validate
from .views import status_view

if TYPE_CHECKING:
    from bot import ImagineBot

_log = logging.getLogger(__name__)

_DESCRIPTIONS = {
    "prompt": "What to draw",
    "negative_prompt": "What to keep out of the image",
    "width": "Image width in pixels, a multiple of 8",
    "height": "Image height in pixels, a multiple of 8",
    "steps": "Sampling steps: more is slower and often finer",
    "cfg_scale": "How closely to follow the prompt",
    "seed": "Seed for a repeatable image; -1 picks one at random",
    "sampler": "Sampling method",
    "count": "How many images to make",
    "model": "Checkpoint to draw with; leave empty for the image server's current one",
}
# Discord shows at most 25 suggestions, each at most 100 characters long.
_MAX_CHOICES = 25
_MAX_CHOICE_CHARS = 100


class ImagineCog(commands.Cog):
    """Queues image requests."""

    def __init__(self, bot: "ImagineBot") -> None:
        self.bot = bot
        self.command = _build_command(self)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.command)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.command.name)

    async def imagine(self, interaction: discord.Interaction, options: ImagineOptions) -> None:
        service = self.bot.service
        try:
            params = validate(
                options, self.bot.settings.limits, service.samplers(), service.models()
            )
        except InvalidOptionError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        await queue_request(self.bot, interaction, params)

    async def sampler_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        wanted = current.casefold()
        names = [name for name in self.bot.service.samplers() if wanted in name.casefold()]
        return [app_commands.Choice(name=name, value=name) for name in names[:_MAX_CHOICES]]

    async def model_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        typed = current.strip().casefold()
        # A longer name cannot be a choice, but a member can still type it in full.
        names = [
            name
            for name in self.bot.service.models()
            if typed in name.casefold() and len(name) <= _MAX_CHOICE_CHARS
        ]
        return [app_commands.Choice(name=name, value=name) for name in names[:_MAX_CHOICES]]


async def queue_request(
    bot: "ImagineBot", interaction: discord.Interaction, params: GenerationParams
) -> None:
    """Queue ``params`` for the member behind ``interaction`` and reply with their place."""
    service = bot.service
    # Queued before the reply, so the reply can give the real number of tasks ahead. One
    # SQLite transaction takes milliseconds, well inside Discord's 3-second deadline.
    try:
        job, ahead = await service.enqueue(_new_job(bot, interaction, params))
    except QueueLimitError as exc:
        await interaction.response.send_message(
            f"You already have {exc.active} jobs waiting or running, and the limit is "
            f"{exc.limit}. You can queue again when one of them finishes; /queue mine lists them.",
            ephemeral=True,
        )
        return
    except CooldownError as exc:
        await interaction.response.send_message(
            f"You are sending requests too quickly. You can queue again "
            f"{formatting.relative_time(exc.retry_at)}.",
            ephemeral=True,
        )
        return
    eta = service.notifier.eta_for(ahead)
    text = formatting.queued_text(interaction.user.id, job.id, ahead, params.prompt, eta)
    hints = [formatting.permission_warning(interaction.app_permissions)]
    prefs = await service.store.user_prefs(interaction.user.id)
    if prefs.dm_opt_in and prefs.dm_blocked_at is not None:
        hints.append(formatting.DM_BLOCKED_HINT)
    for hint in filter(None, hints):
        text = formatting.shorten(f"{text}\n{hint}", formatting.CONTENT_MAX_CHARS)
    try:
        response = await interaction.response.send_message(
            text,
            view=status_view(job.id),
            allowed_mentions=discord.AllowedMentions(
                everyone=False, roles=False, users=[interaction.user]
            ),
        )
    except discord.NotFound:
        # The interaction expired before the reply (Discord allows 3 seconds), so Discord showed
        # the member that the command failed. The member may send it again, so cancel this job.
        _log.warning(
            "job %d: the reply came too late for Discord, so the job was withdrawn", job.id
        )
        await service.cancel(job.id)
        return
    if response.message_id is not None and interaction.channel_id is not None:
        await service.store.set_status_message(job.id, interaction.channel_id, response.message_id)
        if bot.delivery is not None:
            # A fast job may have been delivered before the reply existed to show it.
            await bot.delivery.reply_stored(job.id)


def _new_job(
    bot: "ImagineBot", interaction: discord.Interaction, params: GenerationParams
) -> NewJob:
    return NewJob(
        user_id=interaction.user.id,
        channel_id=interaction.channel_id or 0,
        guild_id=interaction.guild_id,
        params=params.to_dict(),
        requester_name=interaction.user.display_name,
        application_id=interaction.application_id,
        interaction_token=interaction.token,
        # Our clock, not the id's timestamp, decides when the token is too old to use.
        interaction_created_at=bot.service.clock(),
        attachment_size_limit=interaction.filesize_limit,
        app_permissions=interaction.app_permissions.value,
        model=params.required_model,
    )


def _build_command(cog: ImagineCog) -> app_commands.Command:
    limits = cog.bot.settings.limits

    @app_commands.command(name="imagine", description="Draw an image from a text prompt")
    @app_commands.guild_only()
    @app_commands.describe(**_DESCRIPTIONS)
    @app_commands.autocomplete(sampler=cog.sampler_autocomplete, model=cog.model_autocomplete)
    async def imagine(
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, limits.prompt_max_chars],
        negative_prompt: app_commands.Range[str, 1, limits.negative_prompt_max_chars] | None = None,
        width: app_commands.Range[int, limits.width_min, limits.width_max] | None = None,
        height: app_commands.Range[int, limits.height_min, limits.height_max] | None = None,
        steps: app_commands.Range[int, limits.steps_min, limits.steps_max] | None = None,
        cfg_scale: app_commands.Range[float, limits.cfg_scale_min, limits.cfg_scale_max]
        | None = None,
        seed: app_commands.Range[int, -1, MAX_SEED] | None = None,
        sampler: str | None = None,
        count: app_commands.Range[int, 1, limits.count_max] | None = None,
        model: str | None = None,
    ) -> None:
        options = ImagineOptions(
            prompt=prompt,
            negative_prompt=negative_prompt,
            width=width,
            height=height,
            steps=steps,
            cfg_scale=cfg_scale,
            seed=seed,
            sampler=sampler,
            count=count,
            model=model,
        )
        await cog.imagine(interaction, options)

    return imagine


async def setup(bot: "ImagineBot") -> None:
    await bot.add_cog(ImagineCog(bot))
