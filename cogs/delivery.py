"""Tell requesters what happened to their jobs: status edits and the finished images."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from engine import GenerationParams, QueueService, StatusView
from engine.imaging import DEFAULT_UPLOAD_LIMIT, Upload, fit_to_limit, make_grid
from storage import Job, JobStatus

from . import formatting
from .results import result_view

if TYPE_CHECKING:
    from bot import ImagineBot

_log = logging.getLogger(__name__)

# Discord error codes that mean the bot cannot post in that channel or it is gone.
_NO_CHANNEL_ACCESS = {10003, 50001, 50013}
# Codes for an upload over the size limit.
_TOO_LARGE = {40005, 50045}
# Discord shows at most this many attachments on one message.
MAX_ATTACHMENTS = 10
# Codes that mean an interaction token can no longer be used.
_TOKEN_GONE = {10015, 50027, 10062}


class DiscordDelivery:
    """The Discord side of the queue: sends status edits and posts the results."""

    def __init__(self, bot: ImagineBot, service: QueueService) -> None:
        self.bot = bot
        self.service = service
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
        result_url: str | None = None
        message_id: int | None = None
        if job.status is JobStatus.SUCCEEDED:
            message = await self._find_earlier_post(job)
            if message is None:
                message = await self._post_result(job)
            if message is not None:
                message_id, result_url = message.id, message.jump_url
        text = formatting.finished_text(job, result_url)
        via_token = self.service.notifier.token_fresh(job)
        # An empty attachment list removes the last progress preview.
        await self._edit_status(job, text, via_token=via_token, paced=True, attachments=[])
        await self.service.store.mark_delivered(job.id, message_id)

    async def _find_earlier_post(self, job: Job) -> discord.Message | None:
        """Find the result of a job finished before this process started, if it was posted.

        A crash between posting and recording the post leaves the job undelivered; looking
        for our own message avoids posting it twice when Discord's nonce window has passed.
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

    async def _post_result(self, job: Job) -> discord.Message | None:
        limit = job.attachment_size_limit or DEFAULT_UPLOAD_LIMIT
        try:
            return await self._post_result_within(job, limit)
        except discord.HTTPException as exc:
            if exc.status != 413 and exc.code not in _TOO_LARGE:
                raise
            # The channel allows less than the interaction said; a smaller upload always exists.
            _log.warning(
                "job %d: upload of up to %d bytes rejected (%s); re-encoding smaller",
                job.id,
                limit,
                exc.code,
            )
            return await self._post_result_within(job, limit // 4)

    async def _post_result_within(self, job: Job, limit: int) -> discord.Message | None:
        params = GenerationParams.from_dict(job.params)
        records = (job.result or {}).get("images", [])
        paths = [self.service.images.path(record) for record in records]
        named = await asyncio.to_thread(_prepare_uploads, job.id, paths, limit)
        files = [discord.File(io.BytesIO(upload.data), filename=name) for name, upload in named]
        content = formatting.result_content(job)
        if any(upload.reencoded for _, upload in named):
            content += " (re-encoded to fit Discord's upload limit)"
        message: dict[str, Any] = {
            "content": content,
            "embed": formatting.result_embed(job, params, files[0].filename if files else None),
            "files": files,
            "allowed_mentions": discord.AllowedMentions(
                everyone=False, roles=False, users=[discord.Object(job.user_id)]
            ),
            # With enforce_nonce, which discord.py sends along, Discord returns the first
            # message again instead of posting a second one when a post is repeated soon after.
            "nonce": f"imagine-job-{job.id}",
            "view": result_view(job.id),
        }
        channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        await self.service.pacer.acquire(channel_id=job.channel_id)
        try:
            return await channel.send(**message)
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
            return await dm.send(**message)
        except discord.HTTPException as exc:
            _log.warning(
                "job %d: DM to user %d failed (%s); the image stays at %s",
                job.id,
                job.user_id,
                exc.code,
                self.service.images.root / str(job.id),
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
            await self.service.pacer.acquire(channel_id=channel_id)
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


def _prepare_uploads(job_id: int, paths: list[Path], limit: int) -> list[tuple[str, Upload]]:
    """Read a job's images and return them as named uploads that fit ``limit`` each.

    A batch gets a grid first, which the result embed shows, when Discord's attachment count
    leaves room for it.
    """
    images = [path.read_bytes() for path in paths]
    named: list[tuple[str, Upload]] = []
    if 1 < len(images) < MAX_ATTACHMENTS:
        named.append((f"imagine-{job_id}-grid", fit_to_limit(make_grid(images), "png", limit)))
    for index, (path, data) in enumerate(zip(paths, images, strict=True)):
        extension = path.suffix.lstrip(".") or "png"
        named.append((f"imagine-{job_id}-{index}", fit_to_limit(data, extension, limit)))
    return [(f"{name}.{upload.extension}", upload) for name, upload in named]
