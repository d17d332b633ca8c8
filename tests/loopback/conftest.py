"""The whole bot over real HTTP and WebSocket against the loopback fake of Discord."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import ImagineBot, create_bot, open_service
from engine import QueueService
from fakewebui import FakeWebUI
from settings import Settings, StatusSettings
from tests.conftest import TEST_SPEED, make_settings
from tests.fakediscord import FakeDiscord, running_bot
from tests.fakediscord.fixtures import fake_discord, fake_discord_options
from tests.fakediscord.interactions import FakeInteraction
from tests.fakediscord.models import FakeChannel, FakeGuild

__all__ = ["fake_discord", "fake_discord_options"]

JOB_ID = re.compile(r"\(job (\d+)\)")


def job_id_of(interaction: FakeInteraction) -> int:
    """Return the job number in the bot's reply to an /imagine interaction."""
    assert interaction.original is not None, "the bot did not reply to the command"
    found = JOB_ID.search(interaction.original.content)
    assert found is not None, interaction.original.content
    return int(found[1])


@dataclass
class Loopback:
    fake: FakeDiscord
    bot: ImagineBot
    service: QueueService
    webui: FakeWebUI
    guild: FakeGuild
    channel: FakeChannel

    async def job(self, job_id: int, predicate: Any, timeout_s: float = 30) -> Any:
        async def probe() -> Any:
            job = await self.service.store.get(job_id)
            return job if job is not None and predicate(job) else None

        from tests.conftest import wait_until

        return await wait_until(probe, timeout_s)


def loopback_settings(tmp_path: Path, webui_url: str, **status: Any) -> Settings:
    settings = make_settings(tmp_path, webui_url)
    return settings.model_copy(update={"status": StatusSettings(**status)})


@pytest.fixture
async def webui() -> AsyncIterator[FakeWebUI]:
    async with FakeWebUI(speed=TEST_SPEED) as server:
        yield server


class start_loopback:  # noqa: N801 - used like a function, as contextlib helpers are
    """Run the production bot against the fake Discord, with Discord's clock as the bot's."""

    def __init__(self, fake: FakeDiscord, settings: Settings, webui: FakeWebUI) -> None:
        self.fake, self.settings, self.webui = fake, settings, webui

    async def __aenter__(self) -> Loopback:
        self._session = aiohttp.ClientSession()
        self._service_cm = open_service(self.settings, self._session)
        service = await self._service_cm.__aenter__()
        service.clock = self.fake.clock.now
        bot = create_bot(self.settings, service)
        guild = self.fake.create_guild("loopback guild")
        channel = guild.create_channel("imagine")
        self._bot_cm = running_bot(bot, self.fake)
        await self._bot_cm.__aenter__()
        await bot.tree.sync()
        await service.start()
        self.loopback = Loopback(self.fake, bot, service, self.webui, guild, channel)
        return self.loopback

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            await self.loopback.service.stop(grace_s=5)
            await self._bot_cm.__aexit__(*exc_info)
        finally:
            await self._service_cm.__aexit__(*exc_info)
            await self._session.close()


@pytest.fixture
async def loopback(
    tmp_path: Path, fake_discord: FakeDiscord, webui: FakeWebUI
) -> AsyncIterator[Loopback]:
    async with start_loopback(
        fake_discord, loopback_settings(tmp_path, webui.url), webui
    ) as running:
        yield running
