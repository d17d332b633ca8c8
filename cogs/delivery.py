"""Tell requesters what happened to their jobs: status edits and the finished images."""

from __future__ import annotations

import io
import logging
import time
from typing import TYPE_CHECKING, Any

import discord

from engine import QueueService, StatusView
from storage import Job, JobStatus

from . import formatting
from .posting import Posted, ResultPoster

if TYPE_CHECKING:
    from bot import ImagineBot

_log = logging.getLogger(__name__)

# Codes that mean an interaction token can no longer be used.
_TOKEN_GONE = {10015, 50027, 10062}


class DiscordDelivery:
    """The Discord side of the queue: sends status edits and posts the results."""

    def __init__(self, bot: ImagineBot, service: QueueService) -> None:
        self.bot = bot
        self.service = service
        self.poster = ResultPoster(bot, service)
        self.started_at = time.time()

    async def job_started(self, job: Job) -> None:
        # The status notifier shows the start, paced with every other edit.
        return None

    async def send_status(self, job: Job, view: StatusView, *, via_token: bool) -> None:
        files = None
        if view.preview is not None:
            files = [discord.File(io.BytesIO(view.preview), filename=f"preview-{job.id}.png")]
        text = formatting.status_text(job, view)
        await self._edit_status(job, text, via_token=via_token, attachments=files)

    async def job_finished(self, job: Job) -> None:
        await self.bot.wait_until_ready()
        await self.service.notifier.release(job.id)
        posted = Posted(None)
        if job.status is JobStatus.SUCCEEDED:
            earlier = await self._find_earlier_post(job)
            posted = Posted(earlier) if earlier is not None else await self.poster.post(job)
            if posted.message is not None and posted.note is None:
                await self.poster.send_dm_link(job, posted.message)
        result_url = posted.message.jump_url if posted.message is not None else None
        text = formatting.finished_text(job, result_url, posted.note)
        via_token = self.service.notifier.token_fresh(job)
        # An empty attachment list removes the last progress preview.
        await self._edit_status(job, text, via_token=via_token, paced=True, attachments=[])
        message_id = posted.message.id if posted.message is not None else None
        await self.service.store.mark_delivered(job.id, message_id, note=posted.note)

    async def _find_earlier_post(self, job: Job) -> discord.Message | None:
        """Find the result of a job finished before this process started, if it was posted.

        A crash between posting and recording the post leaves the job undelivered. Looking for
        our own message avoids a second post once Discord's nonce window has passed.
        """
        if job.finished_at is None or job.finished_at >= self.started_at:
            return None
        channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        footer = f"job {job.id} ·"
        me = self.bot.user
        try:
            # The newest 100 messages: a crash is followed by a restart within minutes.
            async for message in channel.history(limit=100):
                if me is None or message.author.id != me.id:
                    continue
                if any((embed.footer.text or "").startswith(footer) for embed in message.embeds):
                    _log.info("job %d was already posted as message %d", job.id, message.id)
                    return message
        except discord.HTTPException as exc:
            _log.warning(
                "job %d: cannot read channel %d to check for an earlier post (%s)",
                job.id,
                job.channel_id,
                exc,
            )
        return None

    async def _edit_status(
        self,
        job: Job,
        content: str,
        *,
        via_token: bool,
        paced: bool = False,
        attachments: list[discord.File] | None = None,
    ) -> None:
        """Edit the job's status message, through its interaction token while it is valid.

        The notifier acquires pacing itself; ``paced`` makes this method acquire it instead.
        """
        if job.status_message_id is None:
            return
        edit: dict[str, Any] = {
            "content": content,
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        if attachments is not None:
            edit["attachments"] = attachments
        if via_token and job.application_id is not None and job.interaction_token is not None:
            if paced:
                await self.service.pacer.acquire(token_key=job.id)
            webhook = discord.Webhook.partial(
                job.application_id, job.interaction_token, client=self.bot
            )
            try:
                await webhook.edit_message(job.status_message_id, **edit)
                return
            except discord.HTTPException as exc:
                if exc.code not in _TOKEN_GONE:
                    _log.warning(
                        "job %d: status edit through the interaction failed (%s)", job.id, exc
                    )
                    return
            paced = True
        channel_id = job.status_channel_id or job.channel_id
        if paced:
            await self.service.pacer.acquire(channel_id=channel_id, urgent=True)
        message = self.bot.get_partial_messageable(channel_id).get_partial_message(
            job.status_message_id
        )
        try:
            for file in attachments or []:
                file.reset()
            await message.edit(**edit)
        except discord.HTTPException as exc:
            _log.warning(
                "job %d: cannot edit status message %d (%s)", job.id, job.status_message_id, exc
            )
