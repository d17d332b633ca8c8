"""Shared fixtures: the whole bot on SimCord's offline Discord with a real WebUI stand-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import simcord

from bot import ImagineBot, create_bot, open_service
from engine import GenerationParams, QueueService
from fakewebui import FakeWebUI
from settings import BackendSettings, Settings, StatusSettings, StorageSettings
from storage import Job

# The stand-in draws this many times faster than the 2022 GPU it was calibrated on.
TEST_SPEED = 2000.0


@dataclass
class Harness:
    """A running bot, its queue, its backend, and an offline guild with one channel."""

    env: Any
    bot: ImagineBot
    service: QueueService
    webui: FakeWebUI
    settings: Settings
    guild: Any
    channel: Any
    members: dict[str, Any] = field(default_factory=dict)

    def member(self, name: str) -> Any:
        if name not in self.members:
            self.members[name] = self.guild.add_member(self.env.create_user(name))
        return self.members[name]

    async def wait_for_job(
        self, job_id: int, predicate: Callable[[Job], bool], timeout_s: float = 30
    ) -> Job:
        """Poll the store until ``predicate`` holds for the job; the worker runs in real time."""
        return await wait_until(lambda: self._job_matching(job_id, predicate), timeout_s)

    async def wait_delivered(self, job_id: int, timeout_s: float = 30) -> Job:
        return await self.wait_for_job(job_id, lambda job: job.delivered_at is not None, timeout_s)

    async def _job_matching(self, job_id: int, predicate: Callable[[Job], bool]) -> Job | None:
        job = await self.service.store.get(job_id)
        return job if job is not None and predicate(job) else None


def small_params(prompt: str = "a boat", **overrides: Any) -> GenerationParams:
    """Return the parameters of a small, fast image (64×64, 4 steps), with ``overrides`` applied."""
    values: dict[str, Any] = {
        "prompt": prompt,
        "negative_prompt": "",
        "width": 64,
        "height": 64,
        "steps": 4,
        "cfg_scale": 7.0,
        "seed": 1,
        "sampler": "Euler a",
        "count": 1,
    }
    return GenerationParams(**(values | overrides))


async def wait_until(probe: Callable[[], Awaitable[Any]], timeout_s: float = 30) -> Any:
    """Await ``probe`` every 20 ms until it returns something truthy, or fail after the timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        value = await probe()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.02)


def make_settings(
    tmp_path: Path, webui_url: str, *, status: dict[str, Any] | None = None, **limits: Any
) -> Settings:
    settings = Settings()
    update: dict[str, Any] = {
        "storage": StorageSettings(data_dir=tmp_path / "data"),
        "backends": [BackendSettings(name="gpu", url=webui_url)],
        # SimCord has no rate limits, so the bot's own pacing and its coalescing of edits would
        # only slow the tests. The loopback tests keep the defaults.
        "status": StatusSettings(
            channel_requests=50, channel_window_s=1.0, coalesce_s=0.0, **(status or {})
        ),
    }
    if limits:
        update["limits"] = settings.limits.model_copy(update=limits)
    return settings.model_copy(update=update)


@pytest.fixture
async def webui() -> AsyncIterator[FakeWebUI]:
    async with FakeWebUI(speed=TEST_SPEED) as server:
        yield server


@pytest.fixture
async def harness(tmp_path: Path, webui: FakeWebUI) -> AsyncIterator[Harness]:
    settings = make_settings(tmp_path, webui.url)
    async with start_harness(settings, webui) as running:
        yield running


@pytest.fixture
async def idle_harness(tmp_path: Path, webui: FakeWebUI) -> AsyncIterator[Harness]:
    """A harness whose workers are not started, so queued jobs stay where they are."""
    settings = make_settings(tmp_path, webui.url)
    async with start_harness(settings, webui, start_workers=False) as running:
        yield running


class start_harness:  # noqa: N801 - used like a function, as contextlib helpers are
    """Start the bot on SimCord exactly as production wires it, with workers outside the bot."""

    def __init__(self, settings: Settings, webui: FakeWebUI, *, start_workers: bool = True) -> None:
        self.settings = settings
        self.webui = webui
        self.start_workers = start_workers

    async def __aenter__(self) -> Harness:
        self._session = aiohttp.ClientSession()
        self._service_cm = open_service(self.settings, self._session)
        service = await self._service_cm.__aenter__()
        bot = create_bot(self.settings, service)
        env = self._env = simcord.Env(bot, settle_timeout=20.0)
        await env.start()
        guild = env.create_guild(name="test guild")
        channel = guild.create_text_channel("imagine")
        await bot.tree.sync()
        if self.start_workers:
            # The workers' tasks copy this context, so they read SimCord's clock as the bot does.
            with env.time_context():
                await service.start()
        self.harness = Harness(env, bot, service, self.webui, self.settings, guild, channel)
        return self.harness

    async def __aexit__(self, *exc_info: Any) -> None:
        service = self.harness.service
        try:
            await service.stop(grace_s=5)
            await self._env.shutdown()
            if exc_info[0] is None and self._env.check_errors:
                self._env.raise_errors()
        finally:
            await self._service_cm.__aexit__(*exc_info)
            await self._session.close()
