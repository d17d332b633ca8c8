"""Buttons on status messages; they keep working after a restart."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot import ImagineBot


class WhereAmIButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"imagine:where:(?P<job>\d+)"
):
    """Answers the member who clicks with their exact place in the queue, visible only to them."""

    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Where am I?",
                style=discord.ButtonStyle.secondary,
                custom_id=f"imagine:where:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> WhereAmIButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        from .queue import answer_with_queue

        bot: ImagineBot = interaction.client  # type: ignore[assignment]
        await answer_with_queue(bot, interaction, self.job_id)


class CancelButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"imagine:cancel:(?P<job>\d+)"
):
    """Cancels the job for its owner or an admin; anyone else is told no, privately."""

    def __init__(self, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Cancel",
                style=discord.ButtonStyle.danger,
                custom_id=f"imagine:cancel:{job_id}",
            )
        )
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> CancelButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        from .jobs import cancel_job

        bot: ImagineBot = interaction.client  # type: ignore[assignment]
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await cancel_job(bot, interaction.user, self.job_id)
        await interaction.edit_original_response(content=text)


def status_view(job_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(WhereAmIButton(job_id))
    view.add_item(CancelButton(job_id))
    return view
