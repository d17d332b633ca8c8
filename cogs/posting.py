"""Get a finished image to its requester: the channel, else the command's reply, else DMs.

Whatever fails, the image stays on disk and the status message states where it went, so that
"Where am I?" and /queue mine can hand it over later.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord

from engine import GenerationParams, QueueService
from engine.imaging import DEFAULT_UPLOAD_LIMIT, Upload, fit_to_limit, make_grid
from storage import Job

from . import formatting
from .results import result_view

if TYPE_CHECKING:
    from bot import ImagineBot

_log = logging.getLogger(__name__)

# Discord error codes that mean the bot cannot post in that channel or it is gone.
NO_CHANNEL_ACCESS = {10003, 50001, 50013}
# Codes for a direct message the member's settings or the lack of a shared server refuse.
DM_REFUSED = {50007, 50278}
# Codes for an upload over the size limit.
TOO_LARGE = {40005, 50045}
# Discord shows at most this many attachments on one message.
MAX_ATTACHMENTS = 10
# Times an upload Discord rejected as too large is re-encoded at a quarter of the size.
MAX_SHRINKS = 4


@dataclass(frozen=True, slots=True)
class Posted:
    """The message that carries the result, if any, and the note shown to the requester."""

    message: discord.Message | None
    note: str | None = None


class ResultPoster:
    """Posts results, falling back from the channel to the command's reply to DMs."""

    def __init__(self, bot: ImagineBot, service: QueueService) -> None:
        self.bot = bot
        self.service = service

    async def post(self, job: Job) -> Posted:
        """Deliver ``job``'s images once, falling back on missing access and closed DMs.

        Raises:
            discord.HTTPException: any other error, such as a Discord outage; the job stays
                undelivered and is tried again at the next start.
        """
        limit = job.attachment_size_limit or DEFAULT_UPLOAD_LIMIT
        for _ in range(MAX_SHRINKS):
            try:
                return await self._post_within(job, limit)
            except discord.HTTPException as exc:
                if exc.status != 413 and exc.code not in TOO_LARGE:
                    raise
                # The channel allows less than the interaction reported, so try a smaller upload.
                _log.warning(
                    "job %d: upload of up to %d bytes rejected (%s); re-encoding smaller",
                    job.id,
                    limit,
                    exc.code,
                )
                limit //= 4
        return await self._post_within(job, limit)

    async def send_dm_link(self, job: Job, message: discord.Message) -> None:
        """Send an opted-in member a link to their image; remember if their DMs are closed."""
        prefs = await self.service.store.user_prefs(job.user_id)
        if not prefs.dm_opt_in or prefs.dm_blocked_at is not None:
            return
        await self._send_dm(job, {"content": formatting.dm_link_text(job, message.jump_url)})

    async def _post_within(self, job: Job, limit: int) -> Posted:
        records = (job.result or {}).get("images", [])
        paths = [self.service.images.path(record) for record in records]
        named = await asyncio.to_thread(prepare_uploads, job.id, paths, limit)
        message = self._message(job, named)
        sent = await self._send_to_channel(job, message)
        if sent is not None:
            return Posted(sent)
        if self.service.notifier.token_fresh(job):
            sent = await self._send_followup(job, self._message(job, named))
            if sent is not None:
                return Posted(sent, formatting.NOTE_VIA_REPLY)
        sent = await self._send_dm(job, self._message(job, named))
        if sent is not None:
            return Posted(sent, formatting.NOTE_VIA_DM)
        _log.warning("job %d: kept at %s for the requester to fetch", job.id, paths[0].parent)
        return Posted(None, formatting.NOTE_KEPT)

    def _message(self, job: Job, named: list[tuple[str, Upload]]) -> dict[str, Any]:
        params = GenerationParams.from_dict(job.params)
        files = [discord.File(io.BytesIO(upload.data), filename=name) for name, upload in named]
        content = formatting.result_content(job)
        if any(upload.reencoded for _, upload in named):
            content += " (re-encoded to fit Discord's upload limit)"
        return {
            "content": content,
            "embed": formatting.result_embed(job, params, files[0].filename if files else None),
            "files": files,
            "allowed_mentions": discord.AllowedMentions(
                everyone=False, roles=False, users=[discord.Object(job.user_id)]
            ),
            "view": result_view(job.id, upscaled=params.kind == "upscale"),
        }

    async def _send_to_channel(self, job: Job, message: dict[str, Any]) -> discord.Message | None:
        channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        await self.service.pacer.acquire(channel_id=job.channel_id, urgent=True)
        try:
            # With enforce_nonce, which discord.py sends along, Discord returns the first
            # message again instead of posting a second one when a post is repeated soon after.
            return await channel.send(nonce=f"imagine-job-{job.id}", **message)
        except discord.HTTPException as exc:
            if exc.code not in NO_CHANNEL_ACCESS:
                raise
            _log.warning("job %d: cannot post in channel %d (%s)", job.id, job.channel_id, exc.code)
            return None

    async def _send_followup(self, job: Job, message: dict[str, Any]) -> discord.Message | None:
        # Interaction replies need no channel permissions, so they work where posts do not.
        assert job.application_id is not None and job.interaction_token is not None
        webhook = discord.Webhook.partial(
            job.application_id, job.interaction_token, client=self.bot
        )
        await self.service.pacer.acquire(token_key=job.id)
        try:
            return await webhook.send(wait=True, **message)
        except discord.HTTPException as exc:
            _log.warning("job %d: reply through the interaction failed (%s)", job.id, exc.code)
            return None

    async def _send_dm(self, job: Job, message: dict[str, Any]) -> discord.Message | None:
        prefs = await self.service.store.user_prefs(job.user_id)
        if prefs.dm_blocked_at is not None:
            return None
        message = {key: value for key, value in message.items() if key != "view"}
        try:
            dm = await self.bot.create_dm(discord.Object(job.user_id))
            return await dm.send(**message)
        except discord.HTTPException as exc:
            if exc.code in DM_REFUSED:
                await self.service.store.mark_dm_blocked(job.user_id)
            _log.warning("job %d: DM to user %d failed (%s)", job.id, job.user_id, exc.code)
            return None


def prepare_uploads(job_id: int, paths: list[Path], limit: int) -> list[tuple[str, Upload]]:
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
