"""Buttons on status messages; they keep working after a restart."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot import ImagineBot


class StatusButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"imagine:(?P<action>where|cancel):(?P<job>\d+)",
):
    """A button of a status message; the custom id carries the action and the job.

    "Where am I?" replies with the clicking member's exact place, visible only to them.
    "Cancel" cancels the job for its owner or an admin; anyone else gets a private refusal.
    """

    LABELS = {"where": "Where am I?", "cancel": "Cancel"}
    STYLES = {"where": discord.ButtonStyle.secondary, "cancel": discord.ButtonStyle.danger}

    def __init__(self, action: str, job_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=self.LABELS[action],
                style=self.STYLES[action],
                custom_id=f"imagine:{action}:{job_id}",
            )
        )
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StatusButton:
        return cls(match["action"], int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        from .jobs import cancel_job
        from .queue import answer_with_queue

        bot: ImagineBot = interaction.client  # type: ignore[assignment]
        if self.action == "where":
            await answer_with_queue(bot, interaction, self.job_id)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = await cancel_job(bot, interaction.user, self.job_id)
        await interaction.edit_original_response(content=text)


def status_view(job_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(StatusButton("where", job_id))
    view.add_item(StatusButton("cancel", job_id))
    return view
