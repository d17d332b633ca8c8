"""Buttons under a finished image: Reroll, Variations and Delete; they survive restarts."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from engine import GenerationParams
from storage import Job, JobStatus

from .permissions import is_admin

if TYPE_CHECKING:
    from bot import ImagineBot

# How far a variation strays from its source image, from 0 (identical) to 1 (unrelated).
VARIATION_STRENGTH = 0.3
UPSCALE_FACTOR = 2.0
# Upscalers tried in this order; the first one the backends offer is used.
PREFERRED_UPSCALERS = ("R-ESRGAN 4x+", "ESRGAN_4x", "SwinIR_4x", "ScuNET", "Lanczos")


class ResultButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"imagine:(?P<action>reroll|vary|upscale|delete):(?P<job>\d+)",
):
    """One button of a result message; the custom id carries the action and the source job."""

    LABELS = {"reroll": "Reroll", "vary": "Variations", "upscale": "Upscale", "delete": "Delete"}
    STYLES = {"delete": discord.ButtonStyle.danger}

    def __init__(self, action: str, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=self.LABELS[action],
                style=self.STYLES.get(action, discord.ButtonStyle.secondary),
                custom_id=f"imagine:{action}:{job_id}",
            )
        )
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ResultButton:
        return cls(match["action"], int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: ImagineBot = interaction.client  # type: ignore[assignment]
        source = await bot.service.store.get(self.job_id)
        if source is None or source.status is not JobStatus.SUCCEEDED:
            await interaction.response.send_message(
                f"Job {self.job_id} is no longer available.", ephemeral=True
            )
            return
        if self.action == "delete":
            await _delete(bot, interaction, source.user_id)
            return
        params = GenerationParams.from_dict(source.params)
        if self.action == "upscale":
            params = _upscale_params(bot, source, params)
        elif self.action == "reroll":
            params = replace(params, seed=-1, subseed=-1, subseed_strength=0.0)
        else:
            seeds = [image.get("seed") for image in (source.result or {}).get("images", [])]
            first_seed = seeds[0] if seeds and seeds[0] is not None else params.seed
            params = replace(
                params, seed=int(first_seed), subseed=-1, subseed_strength=VARIATION_STRENGTH
            )
        from .imagine import queue_request

        await queue_request(bot, interaction, params)


async def _delete(bot: ImagineBot, interaction: discord.Interaction, owner_id: int) -> None:
    if interaction.user.id != owner_id and not is_admin(interaction.user, bot.settings.discord):
        await interaction.response.send_message(
            "Only the member who asked for this image or an admin can delete it.", ephemeral=True
        )
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    if interaction.message is not None:
        await interaction.message.delete()
    await interaction.edit_original_response(content="The image was deleted.")


def _upscale_params(bot: ImagineBot, source: Job, params: GenerationParams) -> GenerationParams:
    offered = bot.service.upscalers()
    upscaler = next((name for name in PREFERRED_UPSCALERS if name in offered), None)
    if upscaler is None:
        upscaler = offered[0] if offered else "Lanczos"
    first = (source.result or {}).get("images", [{}])[0]
    return replace(
        params,
        kind="upscale",
        upscaler=upscaler,
        scale=UPSCALE_FACTOR,
        source_image=first.get("path"),
        width=int(int(first.get("width", params.width)) * UPSCALE_FACTOR),
        height=int(int(first.get("height", params.height)) * UPSCALE_FACTOR),
        count=1,
        steps=1,
    )


def result_view(job_id: int, *, upscaled: bool = False) -> discord.ui.View:
    """Return the buttons for a result; an upscaled image can only be deleted."""
    view = discord.ui.View(timeout=None)
    actions = ("delete",) if upscaled else ("reroll", "vary", "upscale", "delete")
    for action in actions:
        view.add_item(ResultButton(action, job_id))
    return view
