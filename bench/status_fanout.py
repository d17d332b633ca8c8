"""Status fan-out: what keeping N waiting members informed costs in Discord API calls.

N members each type /imagine in one channel, then the backend works through the queue while
the bot keeps every status message current. The bot, discord.py and aiohttp are the real ones;
Discord is the loopback fake with Discord's rate-limit buckets (5 message requests per 5 s per
channel, 5 per 2 s per interaction token, 50 per second per bot) and its 15-minute token
lifetime. Everything runs on the fake's clock, ``--time-scale`` times faster than real time.

Prints one JSON object as its last line. The figures the targets apply to:

- calls_per_completed_job: every request the bot made to Discord (login, command sync, replies,
  edits, posts) divided by the images posted; calls_while_draining_per_job leaves out the
  requests made before the backend started (login, sync and the first reply to each request).
- http_429 and expired_token_requests: 429 responses, and requests made with an interaction token
  past Discord's 15 minutes.
- top10_max_staleness_s: the longest time, in Discord seconds, from a change in the number of tasks
  ahead of one of the 10 queued jobs nearest the front to its status message showing that number
  or a newer one (p50 and p99 in top10_change_delay_*). Not to be confused with the setting
  status.max_staleness_s, the longest a far-back message goes without an edit.

And for reading them: top10_longest_wrong_s is the longest time one of those jobs showed a wrong
number without a break, longer than the above when images finish faster than edits land, and
top10_wrong_spells counts such spells. The _fresh_token and _old_token variants split both by
whether the job's token was under 14 minutes old, when edits go through the token's bucket rather
than the channel's. status_edits_by_reason counts the notifier's edits (exact zone, round step,
state change, progress, staleness); the final "Done" edits come from delivery and appear only in
calls_by_route. drain_discord_minutes runs from the backend's start to the last image posted.

Both staleness figures come from exact times (each job's start and finish in the store, and each
edit as the fake recorded it), and assume what this benchmark sets up: one backend that serves
the jobs one at a time in claim order.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from _staleness import Served, nearest_jobs_staleness  # noqa: E402

from bot import create_bot, open_service  # noqa: E402
from engine.trace import default_trace_path, read_trace  # noqa: E402
from fakewebui import FakeWebUI  # noqa: E402
from settings import BackendSettings, Settings, StatusSettings, StorageSettings  # noqa: E402
from storage import JobStatus, JobStore  # noqa: E402
from tests.fakediscord import FakeDiscord, running_bot  # noqa: E402
from tests.fakediscord.client import redirect_discord  # noqa: E402

AHEAD = re.compile(r"Queued — (\d+) tasks? ahead")
EXACT_ZONE = 10
TOKEN_REUSE_S = 840.0


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
            "coalesce_s": defaults.coalesce_s / scale,
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


def percentile(values: list[float], percent: float) -> float:
    """Return the nearest-rank percentile of ``values``, or 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))]


def parse_ahead(content: str | None) -> int | None:
    """Return the number of tasks ahead a status text shows, or None if it shows none."""
    match = AHEAD.search(content or "")
    return int(match[1]) if match is not None else None


async def served_in_order(
    fake: FakeDiscord,
    store: JobStore,
    replies: dict[int, tuple[int, str]],
    enqueued_at: dict[int, float],
    to_fake: Callable[[float], float],
) -> list[Served]:
    """Return every job in the order the backend took it, with what its status message displayed."""
    served = []
    for job_id, (message_id, first_text) in replies.items():
        job = await store.get(job_id)
        if job is None or job.started_at is None or job.finished_at is None:
            continue
        message = fake.message(message_id)
        displayed = [(message.created_at, parse_ahead(first_text))]
        displayed += [(edit.timestamp, parse_ahead(edit.content)) for edit in message.edits]
        served.append(
            Served(
                job_id=job_id,
                started_at=to_fake(job.started_at),
                finished_at=to_fake(job.finished_at),
                displayed=sorted(displayed, key=lambda item: item[0]),
                token_fresh_until=enqueued_at[job_id] + TOKEN_REUSE_S,
            )
        )
    served.sort(key=lambda job: job.started_at)
    return served


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
    replies: dict[int, tuple[int, str]] = {}
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
        replies[int(match[1])] = (interaction.original.id, interaction.original.content)
        enqueued_at[int(match[1])] = fake.clock.now()
    calls_before_drain = fake.stats.total_calls
    # The store stamps jobs with the wall clock; Discord's clock runs time_scale times faster.
    wall_origin, fake_origin = time.time(), fake.clock.now()

    def to_fake(wall: float) -> float:
        return fake_origin + (wall - wall_origin) * args.time_scale

    await service.start()
    drain_started_fake = fake.clock.now()
    while True:
        counts = await service.store.counts()
        undelivered = await service.store.undelivered_count()
        if counts[JobStatus.QUEUED] == 0 and counts[JobStatus.RUNNING] == 0 and undelivered == 0:
            break
        await asyncio.sleep(0.2)
    await service.stop(grace_s=5)
    served = await served_in_order(fake, service.store, replies, enqueued_at, to_fake)
    staleness = nearest_jobs_staleness(served, EXACT_ZONE, since=drain_started_fake)
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
        "top10_max_staleness_s": round(staleness.slowest_change_s, 2),
        "top10_max_staleness_fresh_token_s": round(staleness.slowest_change_fresh_token_s, 2),
        "top10_max_staleness_old_token_s": round(staleness.slowest_change_old_token_s, 2),
        "top10_change_delay_p50_s": round(percentile(staleness.change_delays, 50), 2),
        "top10_change_delay_p99_s": round(percentile(staleness.change_delays, 99), 2),
        "top10_longest_wrong_s": round(staleness.longest_s, 2),
        "top10_longest_wrong_fresh_token_s": round(staleness.longest_fresh_token_s, 2),
        "top10_longest_wrong_old_token_s": round(staleness.longest_old_token_s, 2),
        "top10_wrong_spells": staleness.spells,
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
