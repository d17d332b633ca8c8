"""Tell requesters what happened to their jobs: status edits and the finished images."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from engine import GenerationParams, ImageStore
from storage import Job, JobStatus, JobStore

from . import formatting

if TYPE_CHECKING:
    from bot import ImagineBot

_log = logging.getLogger(__name__)

# Discord error codes that mean the bot cannot post in that channel or it is gone.
_NO_CHANNEL_ACCESS = {10003, 50001, 50013}
# Codes that mean an interaction token can no longer be used.
_TOKEN_GONE = {10015, 50027, 10062}


class DiscordDelivery:
    """The JobEvents of the Discord side: edits status messages and posts results."""

    def __init__(self, bot: ImagineBot, store: JobStore, images: ImageStore) -> None:
        self.bot = bot
        self.store = store
        self.images = images

    async def job_started(self, job: Job) -> None:
        await self._edit_status(job, formatting.running_text(job))

    async def queue_changed(self) -> None:
        return None

    async def job_finished(self, job: Job) -> None:
        await self.bot.wait_until_ready()
        result_url: str | None = None
        message_id: int | None = None
        if job.status is JobStatus.SUCCEEDED:
            message = await self._post_result(job)
            if message is not None:
                message_id, result_url = message.id, message.jump_url
        await self._edit_status(job, formatting.finished_text(job, result_url))
        await self.store.mark_delivered(job.id, message_id)

    async def _post_result(self, job: Job) -> discord.Message | None:
        params = GenerationParams.from_dict(job.params)
        records = (job.result or {}).get("images", [])
        files = [
            discord.File(
                self.images.path(record), filename=f"imagine-{job.id}-{index}.{record['format']}"
            )
            for index, record in enumerate(records)
        ]
        first = files[0].filename if files else None
        kwargs = {
            "content": formatting.result_content(job),
            "embed": formatting.result_embed(job, params, first),
            "files": files,
            "allowed_mentions": discord.AllowedMentions(
                everyone=False, roles=False, users=[discord.Object(job.user_id)]
            ),
        }
        channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        try:
            return await channel.send(**kwargs)
        except discord.HTTPException as exc:
            if exc.code not in _NO_CHANNEL_ACCESS:
                raise
            _log.warning(
                "job %d: cannot post in channel %d (%s); trying the requester's DMs",
                job.id,
                job.channel_id,
                exc.code,
            )
        for file in files:
            file.reset()
        try:
            dm = await self.bot.create_dm(discord.Object(job.user_id))
            return await dm.send(**kwargs)
        except discord.HTTPException as exc:
            _log.warning(
                "job %d: DM to user %d failed (%s); the image stays at %s",
                job.id,
                job.user_id,
                exc.code,
                self.images.root / str(job.id),
            )
            return None

    async def _edit_status(self, job: Job, content: str) -> None:
        """Edit the job's status message, through its interaction token while it is valid."""
        if job.status_message_id is None:
            return
        mentions = discord.AllowedMentions.none()
        if self._token_usable(job):
            assert job.application_id is not None and job.interaction_token is not None
            webhook = discord.Webhook.partial(
                job.application_id, job.interaction_token, client=self.bot
            )
            try:
                await webhook.edit_message(
                    job.status_message_id, content=content, allowed_mentions=mentions
                )
                return
            except discord.HTTPException as exc:
                if exc.code not in _TOKEN_GONE:
                    _log.warning(
                        "job %d: status edit through the interaction failed (%s)", job.id, exc
                    )
                    return
        channel_id = job.status_channel_id or job.channel_id
        message = self.bot.get_partial_messageable(channel_id).get_partial_message(
            job.status_message_id
        )
        try:
            await message.edit(content=content, allowed_mentions=mentions)
        except discord.HTTPException as exc:
            _log.warning(
                "job %d: cannot edit status message %d (%s)", job.id, job.status_message_id, exc
            )

    def _token_usable(self, job: Job) -> bool:
        if job.interaction_token is None or job.interaction_created_at is None:
            return False
        age_s = discord.utils.utcnow().timestamp() - job.interaction_created_at
        return age_s < self.bot.settings.discord.token_reuse_max_s
