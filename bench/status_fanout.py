"""Status fan-out: what keeping N waiting members informed costs in Discord API calls.

N members each type /imagine in one channel, then the backend works through the queue while
the bot keeps every status message current. The bot, discord.py and aiohttp are the real ones;
Discord is the loopback fake with Discord's rate-limit buckets (5 message requests per 5 s per
channel, 5 per 2 s per interaction token, 50 per second per bot) and its 15-minute token
lifetime. Everything runs on the fake's clock, ``--time-scale`` times faster than real time.

Prints one JSON object as its last line: calls_per_completed_job, http_429,
expired_token_requests, top10_max_staleness_s (the longest time, in Discord seconds, that one
of the 10 jobs nearest the front showed a wrong number of tasks ahead), and breakdowns.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bot import create_bot, open_service  # noqa: E402
from engine.trace import default_trace_path, read_trace  # noqa: E402
from fakewebui import FakeWebUI  # noqa: E402
from settings import BackendSettings, Settings, StatusSettings, StorageSettings  # noqa: E402
from storage import JobStatus  # noqa: E402
from tests.fakediscord import FakeDiscord, running_bot  # noqa: E402
from tests.fakediscord.client import redirect_discord  # noqa: E402

AHEAD = re.compile(r"Queued — (\d+) tasks? ahead")
EXACT_ZONE = 10
TOKEN_REUSE_S = 840.0
SAMPLE_EVERY_S = 0.02


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=1000, help="jobs queued at the start")
    parser.add_argument(
        "--time-scale", type=float, default=5.0, help="Discord seconds per real second (default 5)"
    )
    parser.add_argument(
        "--gpu-speedup",
        type=float,
        default=4.0,
        help="how much faster than the 2022 GPUs of the trace the backend is (default 4)",
    )
    parser.add_argument(
        "--trace", type=Path, default=None, help="JSON-lines trace (default: the bundled sample)"
    )
    return parser.parse_args()


def scaled_settings(data_dir: Path, webui_url: str, scale: float) -> Settings:
    """Return the default settings with every real-time duration divided by the time scale."""
    defaults = StatusSettings()
    status = defaults.model_copy(
        update={
            "channel_window_s": defaults.channel_window_s / scale,
            "token_window_s": defaults.token_window_s / scale,
            "global_requests_per_s": int(defaults.global_requests_per_s * scale),
            "max_staleness_s": defaults.max_staleness_s / scale,
            "progress_interval_s": defaults.progress_interval_s / scale,
            "preview_interval_s": defaults.preview_interval_s / scale,
        }
    )
    settings = Settings()
    queue = settings.queue.model_copy(update={"max_queued_per_user": 0})
    return settings.model_copy(
        update={
            "storage": StorageSettings(data_dir=data_dir),
            "backends": [BackendSettings(name="gpu", url=webui_url)],
            "status": status,
            "queue": queue,
        }
    )


class StalenessProbe:
    """Samples the 10 jobs nearest the front and times how long each shows a wrong number."""

    def __init__(self, fake: FakeDiscord, store: Any, message_of: dict[int, int]) -> None:
        self.fake, self.store, self.message_of = fake, store, message_of
        self.wrong_since: dict[int, float] = {}
        self.max_staleness_s = 0.0
        # The same, split by whether the job's interaction token was still in use (under 14
        # minutes old), when edits go through per-token buckets instead of the channel's.
        self.max_staleness_fresh_token_s = 0.0
        self.max_staleness_old_token_s = 0.0
        self.enqueued_at: dict[int, float] = {}
        self.samples = 0

    async def run(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(SAMPLE_EVERY_S)

    async def sample(self) -> None:
        positions = await self.store.positions()
        nearest = sorted(positions.items(), key=lambda item: item[1])[:EXACT_ZONE]
        now = self.fake.clock.now()
        seen = set()
        for job_id, ahead in nearest:
            message_id = self.message_of.get(job_id)
            if message_id is None:
                continue
            seen.add(job_id)
            shown = AHEAD.search(self.fake.message(message_id).content or "")
            if shown is not None and int(shown[1]) == ahead:
                self.wrong_since.pop(job_id, None)
                continue
            since = self.wrong_since.setdefault(job_id, now)
            self.max_staleness_s = max(self.max_staleness_s, now - since)
            if now - self.enqueued_at.get(job_id, now) < TOKEN_REUSE_S:
                self.max_staleness_fresh_token_s = max(
                    self.max_staleness_fresh_token_s, now - since
                )
            else:
                self.max_staleness_old_token_s = max(self.max_staleness_old_token_s, now - since)
        for job_id in [job for job in self.wrong_since if job not in seen]:
            del self.wrong_since[job_id]
        self.samples += 1


async def run(args: argparse.Namespace) -> dict[str, Any]:
    requests = list(read_trace(args.trace or default_trace_path()))
    scale = args.time_scale
    async with (
        FakeDiscord(time_scale=scale) as fake,
        FakeWebUI(speed=scale * args.gpu_speedup) as webui,
        aiohttp.ClientSession() as session,
    ):
        with redirect_discord(fake), tempfile.TemporaryDirectory() as data_dir:
            settings = scaled_settings(Path(data_dir), webui.url, scale)
            async with open_service(settings, session) as service:
                service.clock = fake.clock.now
                bot = create_bot(settings, service)
                guild = fake.create_guild("benchmark")
                channel = guild.create_channel("imagine")
                async with running_bot(bot, fake):
                    await bot.tree.sync()
                    return await drain(args, fake, service, guild, channel, requests)


async def drain(args, fake, service, guild, channel, requests) -> dict[str, Any]:
    message_of: dict[int, int] = {}
    enqueued_at: dict[int, float] = {}
    rejected = 0
    started_real = time.monotonic()
    members = {}
    # The queue fills before the backend starts, as after a burst of requests.
    for index in range(args.waiting):
        if index % 100 == 0:
            logging.getLogger("bench").warning("queued %d of %d", index, args.waiting)
        request = requests[index % len(requests)]
        user = members.get(request.user)
        if user is None:
            user = members[request.user] = fake.create_user(request.user)
            guild.add_member(user)
        options = {k: v for k, v in request.options.items() if k in ("steps", "seed", "cfg_scale")}
        interaction = await fake.slash(
            guild, channel, user, "imagine", prompt=request.prompt, **options
        )
        match = re.search(r"\(job (\d+)\)", interaction.original.content)
        if match is None:
            # Rejected (an option out of range): the member got the reason, and nothing waits.
            rejected += 1
            continue
        message_of[int(match[1])] = interaction.original.id
        enqueued_at[int(match[1])] = fake.clock.now()
    calls_before_drain = fake.stats.total_calls
    probe = StalenessProbe(fake, service.store, message_of)
    probe.enqueued_at = enqueued_at
    probe_task = asyncio.create_task(probe.run())
    await service.start()
    drain_started_fake = fake.clock.now()
    while True:
        counts = await service.store.counts()
        undelivered = await service.store.undelivered_count()
        if counts[JobStatus.QUEUED] == 0 and counts[JobStatus.RUNNING] == 0 and undelivered == 0:
            break
        await asyncio.sleep(0.2)
    probe_task.cancel()
    await service.stop(grace_s=5)
    completed = (await service.store.counts())[JobStatus.SUCCEEDED]
    routes = Counter({route: count for route, count in fake.stats.calls_by_route.items()})
    return {
        "waiting": args.waiting - rejected,
        "rejected": rejected,
        "completed": completed,
        "calls_total": fake.stats.total_calls,
        "calls_per_completed_job": round(fake.stats.total_calls / max(1, completed), 2),
        "calls_while_draining_per_job": round(
            (fake.stats.total_calls - calls_before_drain) / max(1, completed), 2
        ),
        "http_429": fake.stats.rate_limited,
        "expired_token_requests": fake.stats.expired_token_calls,
        "top10_max_staleness_s": round(probe.max_staleness_s, 2),
        "top10_max_staleness_fresh_token_s": round(probe.max_staleness_fresh_token_s, 2),
        "top10_max_staleness_old_token_s": round(probe.max_staleness_old_token_s, 2),
        "staleness_samples": probe.samples,
        "drain_discord_minutes": round((fake.clock.now() - drain_started_fake) / 60, 1),
        "time_scale": args.time_scale,
        "real_seconds": round(time.monotonic() - started_real, 1),
        "status_edits_by_reason": dict(service.notifier.edits.most_common()),
        "calls_by_route": dict(routes.most_common()),
    }


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(run(parse_args()))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
