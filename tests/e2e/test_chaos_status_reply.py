"""A job that ends before the bot has stored its /imagine reply's id still updates that reply.

The bot stores the reply's message id only after Discord has responded to the reply request. A job
that ends first (a fast backend, a slow Discord), or a bot killed between the two, leaves the
reply saying "Queued" for good, and a failure then reaches the member nowhere. The failure drill
in bench/chaos.py finds such replies after kills that land right after a burst of requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from bot import create_bot, open_service
from fakewebui import FakeWebUI
from settings import BackendSettings, Settings, StatusSettings, StorageSettings
from storage import Job, JobStore
from tests.fakediscord import FakeDiscord, redirect_discord, running_bot
from tests.fakediscord.fixtures import assert_no_violations

CALLBACK_ROUTE = "/interactions/{interaction_id}/{interaction_token}/callback"


def _settings(data_dir: Path, webui_url: str) -> Settings:
    return Settings().model_copy(
        update={
            "storage": StorageSettings(data_dir=data_dir),
            "backends": [BackendSettings(name="gpu", url=webui_url)],
            "status": StatusSettings(channel_requests=50, channel_window_s=1.0),
        }
    )


async def _wait_for_job(fake: FakeDiscord, store: JobStore, check: Callable[[Job], bool]) -> Job:
    jobs: list[Job] = []

    async def probe() -> bool:
        jobs[:] = await store.list_jobs(limit=10)
        return bool(jobs) and check(jobs[0])

    for _ in range(500):
        if await probe():
            return jobs[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"job never reached the expected state: {jobs}")


@pytest.mark.parametrize(
    ("fault", "headline"), [(None, "Done."), ("oom", "Failed:")], ids=["done", "failed"]
)
async def test_reply_shows_outcome_when_job_ends_first(
    tmp_path: Path, fault: str | None, headline: str
) -> None:
    async with (
        FakeDiscord() as fake,
        FakeWebUI(speed=2000.0) as webui,
        aiohttp.ClientSession() as session,
    ):
        with redirect_discord(fake):
            settings = _settings(tmp_path, webui.url)
            async with open_service(settings, session) as service:
                bot = create_bot(settings, service)
                guild = fake.create_guild("reply race")
                channel = guild.create_channel("imagine")
                ann = fake.create_user("ann")
                async with running_bot(bot, fake):
                    await bot.tree.sync()
                    await service.start()
                    try:
                        if fault is not None:
                            webui.fail_next(fault)
                        # Discord has created the reply, but the bot waits for the response.
                        hold = fake.hold("POST", CALLBACK_ROUTE)
                        reply = await fake.slash(guild, channel, ann, "imagine", prompt="a fox")
                        await _wait_for_job(fake, service.store, lambda job: bool(job.delivered_at))
                        hold.released.set()
                        stored = await _wait_for_job(
                            fake, service.store, lambda job: job.status_message_id is not None
                        )
                        status = reply.original
                        assert status is not None
                        assert stored.status_message_id == status.id
                        await fake.wait_for(lambda: headline in status.content, timeout_s=5)
                    finally:
                        await service.stop(grace_s=5)
        assert_no_violations(fake)
