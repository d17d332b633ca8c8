"""Tell requesters what happened to their jobs: status edits and the finished images."""

from __future__ import annotations

import io
import logging
import time
from typing import TYPE_CHECKING, Any, cast

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
# Discord's code for a message that does not exist, such as one a moderator deleted.
UNKNOWN_MESSAGE = 10008
# The interaction's own reply, in place of a message id in webhook routes. discord.py puts the
# id into the URL as given, so the string works although the parameter is typed int.
_ORIGINAL_RESPONSE = cast(int, "@original")


class DiscordDelivery:
    """The Discord side of the queue: sends status edits and posts the results."""

    def __init__(self, bot: ImagineBot, service: QueueService) -> None:
        self.bot = bot
        self.service = service
        self.poster = ResultPoster(bot, service)
        self.started_at = time.time()
        # Status messages found deleted. Editing one again would only fetch another 10008, and
        # the notifier would keep trying at every position change and progress step.
        self._deleted_status_ids: set[int] = set()

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
        edited = await self._edit_status(job, text, via_token=via_token, paced=True, attachments=[])
        if not edited and job.status is JobStatus.FAILED:
            await self._tell_in_channel(job, text)
        message_id = posted.message.id if posted.message is not None else None
        await self.service.store.mark_delivered(job.id, message_id, note=posted.note)
        if job.status_message_id is not None:
            self._deleted_status_ids.discard(job.status_message_id)

    async def reply_stored(self, job_id: int) -> None:
        """Show the outcome in a status reply that was stored after its job had been delivered."""
        job = await self.service.store.get(job_id)
        if job is None or job.delivered_at is None:
            # Still waiting or running: the next status edit finds the stored reply.
            return
        result_url = None
        if job.result_message_id is not None:
            channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
            result_url = channel.get_partial_message(job.result_message_id).jump_url
        text = formatting.finished_text(job, result_url, job.delivery_note)
        via_token = self.service.notifier.token_fresh(job)
        await self._edit_status(job, text, via_token=via_token, paced=True, attachments=[])

    async def _tell_in_channel(self, job: Job, text: str) -> None:
        """Post a failure where the member asked, when no status message can show it."""
        channel = self.bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        await self.service.pacer.acquire(channel_id=job.channel_id, urgent=True)
        try:
            await channel.send(
                text, allowed_mentions=discord.AllowedMentions(users=[discord.Object(job.user_id)])
            )
        except discord.HTTPException as exc:
            _log.warning("job %d: cannot tell its member that it failed (%s)", job.id, exc)

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
    ) -> bool:
        """Edit the job's status message, through its interaction token while it is valid.

        The notifier acquires pacing itself; ``paced`` makes this method acquire it instead.
        Return whether the message was edited.
        """
        if job.status_message_id is None:
            stored = await self.service.store.get(job.id)
            job = stored if stored is not None else job
        if job.status_message_id in self._deleted_status_ids:
            return False
        edit: dict[str, Any] = {
            "content": content,
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        if attachments is not None:
            edit["attachments"] = attachments
        if via_token and job.application_id is not None and job.interaction_token is not None:
            edited = await self._edit_through_token(job, edit, paced=paced)
            if edited is not None:
                return edited
            paced = True
        if job.status_message_id is None:
            return False
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
            if exc.code == UNKNOWN_MESSAGE:
                self._forget_status(job)
                return False
            _log.warning(
                "job %d: cannot edit status message %d (%s)", job.id, job.status_message_id, exc
            )
            return False
        return True

    async def _edit_through_token(
        self, job: Job, edit: dict[str, Any], *, paced: bool
    ) -> bool | None:
        """Edit through the interaction: whether it was edited, or None to edit through the channel.

        None also follows a 429 or a server error that outlasted discord.py's retries, so that the
        edit, which may be the job's last, still gets through.
        """
        assert job.application_id is not None and job.interaction_token is not None
        if paced:
            await self.service.pacer.acquire(token_key=job.id)
        webhook = discord.Webhook.partial(
            job.application_id, job.interaction_token, client=self.bot
        )
        try:
            if job.status_message_id is None:
                return await self._edit_unstored_reply(job, webhook, edit)
            await webhook.edit_message(job.status_message_id, **edit)
            return True
        except discord.HTTPException as exc:
            if exc.code in _TOKEN_GONE:
                return None
            if exc.code == UNKNOWN_MESSAGE:
                self._forget_status(job)
                return False
            _log.warning("job %d: status edit through the interaction failed (%s)", job.id, exc)
            # A request the channel would reject the same way (400, 403) is not sent twice.
            transient = exc.status == 429 or exc.status >= 500
            return None if transient else False

    async def _edit_unstored_reply(
        self, job: Job, webhook: discord.Webhook, edit: dict[str, Any]
    ) -> bool:
        """Edit the reply whose id was never stored, then store its id.

        The id is stored only after Discord responds to the reply, so a bot stopped in between,
        or a job that ends first, leaves it unknown. The interaction's @original still finds it.
        """
        try:
            message = await webhook.edit_message(_ORIGINAL_RESPONSE, **edit)
        except discord.NotFound:
            # The reply is not on Discord yet; storing it shows the outcome, see reply_stored.
            return False
        await self.service.store.set_status_message(job.id, message.channel.id, message.id)
        return True

    def _forget_status(self, job: Job) -> None:
        assert job.status_message_id is not None
        self._deleted_status_ids.add(job.status_message_id)
        _log.info(
            "job %d: status message %d was deleted, so it gets no more edits",
            job.id,
            job.status_message_id,
        )
