"""A drill's stage: a loopback Discord with one guild and channel, the bot process, its store."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from storage import JobStatus, JobStore
from tests.e2e.processes import BotProcess
from tests.e2e.replay import TraceReplay
from tests.fakediscord import BucketConfig, BucketLimit, FakeChannel, FakeDiscord, FakeGuild

_log = logging.getLogger(__name__)

SETTLE_POLL_S = 0.1

# Discord's buckets except the channel's, which matches the bot's pacing of 50 requests per
# second (set by BotProcess). The drills finish a job every half second or so, and Discord's
# 5 posts per 5 s in one channel would make that channel the bottleneck instead of the backend.
DRILL_BUCKETS = BucketConfig(channel_messages=BucketLimit(50, 1.0))


@dataclass
class Stage:
    """Everything one drill runs against; the bot process is started and connected."""

    fake: FakeDiscord
    guild: FakeGuild
    channel: FakeChannel
    bot: BotProcess
    store: JobStore
    replay: TraceReplay
    data_dir: Path

    async def settle(self, timeout_s: float) -> bool:
        """Wait until no job is queued or running and every outcome was delivered.

        Return False if that did not happen within ``timeout_s`` seconds.
        """
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            counts = await self.store.counts()
            busy = counts[JobStatus.QUEUED] + counts[JobStatus.RUNNING]
            if not busy and not await self.store.undelivered_count():
                return True
            await asyncio.sleep(SETTLE_POLL_S)
        _log.warning("jobs still unfinished or undelivered after %.0f s", timeout_s)
        return False


@asynccontextmanager
async def open_stage(data_dir: Path, backend_url: str) -> AsyncIterator[Stage]:
    """Start a fake Discord, sync the bot's commands, start the bot, and open its job store."""
    async with FakeDiscord(buckets=DRILL_BUCKETS) as fake:
        guild = fake.create_guild("chaos drill")
        channel = guild.create_channel("imagine")
        bot = BotProcess(fake, data_dir, backend_url)
        try:
            await bot.sync(guild.id)
            store = await JobStore.open(data_dir / "imagine.db")
            try:
                await bot.start()
                replay = TraceReplay(fake, guild, channel)
                yield Stage(fake, guild, channel, bot, store, replay, data_dir)
            finally:
                await store.close()
        finally:
            await bot.ensure_stopped()
