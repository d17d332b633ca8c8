"""Buttons under a finished image: Reroll, Variations and Delete; they survive restarts."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord

from engine import GenerationParams
from storage import JobStatus

from .permissions import is_admin

if TYPE_CHECKING:
    from bot import ImagineBot

# How far a variation strays from its source image, from 0 (identical) to 1 (unrelated).
VARIATION_STRENGTH = 0.3


class ResultButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"imagine:(?P<action>reroll|vary|delete):(?P<job>\d+)",
):
    """One button of a result message; the custom id carries the action and the source job."""

    LABELS = {"reroll": "Reroll", "vary": "Variations", "delete": "Delete"}
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
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
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
        if self.action == "reroll":
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


def result_view(job_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in ("reroll", "vary", "delete"):
        view.add_item(ResultButton(action, job_id))
    return view
