"""/imagine acknowledgement latency with a long queue, and event-loop lag under big image batches.

A store with N queued jobs is prepared first, in one transaction and not measured. Each job
requests a batch of 512x512 images, and its status message is older than an interaction token's
life, so status edits go through the channel as they would for most of a long queue. Then the
production bot (bot.create_bot and bot.open_service, with discord.py, the cogs, QueueService
and SDClient) starts against two helper processes:

* bench/_discord_side.py runs the loopback fake of Discord from tests/fakediscord. It sends
  the /imagine requests at a fixed interval and times each one, from sending
  INTERACTION_CREATE on the gateway to the bot's interaction callback arriving.
* bench/_webui_standin.py is the backend. It returns incompressible PNGs, about 4.2 MB of base64
  per job with the default 4 images, so the worker is always busy receiving, decoding, storing
  and posting large batches. Its own JSON and base64 work stays out of the bot's process.

While the requests run, a task in the bot's process sleeps 10 ms in a loop and records how late
it wakes (bench/_loop_lag.py). Requests that the bot does not acknowledge within Discord's 3 s
deadline count as 3000 ms in the percentiles. Prints one JSON object as its last line: queued,
requests, acknowledged, p50_ms, p99_ms, max_ms, max_loop_lag_ms, p99_loop_lag_ms, the
batches received while the requests ran and their size, the Discord side's own loop lag, the
requests that broke Discord's OpenAPI spec (fake_discord_problems), and wall_s, the time from
start to the end of the measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import json
import logging
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import discord  # noqa: E402
import yarl  # noqa: E402
from _helper_process import HelperProcess  # noqa: E402
from _loop_lag import LoopLagProbe, percentile  # noqa: E402
from _webui_standin import fetch_stats  # noqa: E402
from discord.gateway import DiscordWebSocket  # noqa: E402
from discord.http import Route  # noqa: E402

from bot import configure_logging, create_bot, open_service  # noqa: E402
from engine import GenerationParams  # noqa: E402
from settings import BackendSettings, Settings, StorageSettings  # noqa: E402
from storage import JobStore  # noqa: E402

_log = logging.getLogger("ack_latency")

BENCH = Path(__file__).resolve().parent
DEADLINE_MS = 3000.0
WARMUP_POLL_S = 0.1
READY_TIMEOUT_S = 30.0
# Older than an interaction token's 15 minutes, so status edits go through the channel.
STATUS_MESSAGE_AGE_S = 3600.0
# Time allowed for deliveries still in flight when the run ends; the rest are cancelled.
STOP_GRACE_S = 1.0
SHUTDOWN_TIMEOUT_S = 60


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=100_000, help="jobs waiting at the start")
    parser.add_argument("--requests", type=int, default=300, help="/imagine requests to time")
    parser.add_argument(
        "--interval-ms", type=float, default=50.0, help="time between requests, in ms (50)"
    )
    parser.add_argument(
        "--job-ms", type=float, default=500.0, help="backend time per queued job, in ms (500)"
    )
    parser.add_argument("--images", type=int, default=4, help="512x512 images per queued job")
    parser.add_argument(
        "--warmup-jobs", type=int, default=3, help="jobs the backend finishes before timing"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the bot's log level (default INFO, as imagine-bot run)",
    )
    return parser.parse_args()


async def prepare_queued_store(
    data_dir: Path, queued: int, *, channel_id: int, guild_id: int, images: int
) -> None:
    """Create the job store with ``queued`` waiting jobs, inserted in one transaction."""
    store = await JobStore.open(data_dir / "imagine.db")
    await store.close()
    await asyncio.to_thread(
        _insert_jobs, data_dir / "imagine.db", queued, channel_id, guild_id, images
    )


def _insert_jobs(path: Path, queued: int, channel_id: int, guild_id: int, images: int) -> None:
    params = GenerationParams(
        prompt="a lighthouse at dusk, oil painting",
        negative_prompt="",
        width=512,
        height=512,
        steps=20,
        cfg_scale=7.0,
        seed=-1,
        sampler="Euler a",
        count=images,
    )
    encoded = json.dumps(params.to_dict())
    created_at = time.time() - STATUS_MESSAGE_AGE_S
    # The status message ids are not in the fake Discord, so their edits fail with 404, as for
    # messages that members deleted. Each edit still costs the bot one request.
    rows = (
        {
            "user_id": 1000 + index % 5000,
            "channel_id": channel_id,
            "guild_id": guild_id,
            "params": encoded,
            "created_at": created_at,
            "message_id": 10**17 + index,
        }
        for index in range(queued)
    )
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO jobs (status, user_id, channel_id, guild_id, params, requester_name,"
            " application_id, interaction_token, interaction_created_at, enqueued_at,"
            " status_channel_id, status_message_id)"
            " VALUES ('queued', :user_id, :channel_id, :guild_id, :params, 'member', 1,"
            " 'expired-token', :created_at, :created_at, :channel_id, :message_id)",
            rows,
        )
    conn.close()


@asynccontextmanager
async def connected_bot(bot: discord.Client, discord_side: dict[str, Any]) -> AsyncIterator[None]:
    """Run ``bot`` against the fake Discord of the helper process until the block ends."""
    with _discord_redirected(str(discord_side["base_url"]), str(discord_side["gateway_url"])):
        task = asyncio.create_task(bot.start(str(discord_side["bot_token"])))
        try:
            async with asyncio.timeout(READY_TIMEOUT_S):
                while not bot.is_ready():
                    if task.done():
                        task.result()
                        raise RuntimeError("the bot stopped before it became ready")
                    await asyncio.sleep(0.01)
            yield
        finally:
            await bot.close()
            await asyncio.gather(task, return_exceptions=True)


@contextmanager
def _discord_redirected(base_url: str, gateway_url: str) -> Iterator[None]:
    """Point discord.py's REST base and gateway at another Discord, and restore them on exit."""
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = base_url
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


def bench_settings(data_dir: Path, webui_url: str) -> Settings:
    """Return the default settings with this run's data folder and backend."""
    return Settings().model_copy(
        update={
            "storage": StorageSettings(data_dir=data_dir),
            "backends": [BackendSettings(name="gpu", url=webui_url)],
        }
    )


async def wait_for_jobs(session: aiohttp.ClientSession, webui_url: str, count: int) -> int:
    """Wait until the backend has finished ``count`` jobs; return how many it has."""
    while True:
        jobs = int((await fetch_stats(session, webui_url))["jobs"])
        if jobs >= count:
            return jobs
        await asyncio.sleep(WARMUP_POLL_S)


async def measure(
    args: argparse.Namespace,
    discord_side: HelperProcess,
    session: aiohttp.ClientSession,
    webui_url: str,
) -> dict[str, Any]:
    """Start the requests with the bot running and the worker busy; return what was measured."""
    await wait_for_jobs(session, webui_url, args.warmup_jobs)
    jobs_before = int((await fetch_stats(session, webui_url))["jobs"])
    probe = LoopLagProbe()
    probe.start()
    _log.info("worker busy; sending %d /imagine requests", args.requests)
    await discord_side.send({"start": True})
    timeout_s = args.requests * args.interval_ms / 1000 + 60
    result = await discord_side.read(timeout_s)
    await probe.stop()
    stats = await fetch_stats(session, webui_url)
    return {
        "latencies_s": result["latencies_s"],
        "queued_replies": result["queued_replies"],
        "window_s": result["window_s"],
        "discord_side_lag": result["loop_lag"],
        "fake_discord_problems": result["problems"],
        "bot_lag": probe.summary(),
        "batches": int(stats["jobs"]) - jobs_before,
        "batch_base64_bytes": int(stats["response_bytes"]),
    }


async def run_bot(
    args: argparse.Namespace,
    discord_side: HelperProcess,
    session: aiohttp.ClientSession,
    webui_url: str,
    data_dir: Path,
    started: float,
) -> None:
    """Prepare the store, run the bot, measure, and print the summary before shutting down."""
    discord = await discord_side.read()
    _log.info("preparing %d queued jobs", args.queued)
    await prepare_queued_store(
        data_dir,
        args.queued,
        channel_id=int(discord["channel_id"]),
        guild_id=int(discord["guild_id"]),
        images=args.images,
    )
    settings = bench_settings(data_dir, webui_url)
    async with open_service(settings, session) as service:
        bot = create_bot(settings, service)
        async with connected_bot(bot, discord):
            await bot.tree.sync()
            await service.start()
            try:
                measured = await measure(args, discord_side, session, webui_url)
                print_summary(args, measured, time.monotonic() - started)
            finally:
                await service.stop(grace_s=STOP_GRACE_S)


def print_summary(args: argparse.Namespace, measured: dict[str, Any], elapsed_s: float) -> None:
    """Print the result line, then limit the time the shutdown may take."""
    print(json.dumps({**summarize(args, measured), "wall_s": round(elapsed_s, 1)}), flush=True)
    # The result is out by now: a shutdown that hangs dumps every thread's stack and exits with
    # code 1 rather than keep the benchmark from ending.
    faulthandler.dump_traceback_later(SHUTDOWN_TIMEOUT_S, exit=True)


def summarize(args: argparse.Namespace, measured: dict[str, Any]) -> dict[str, Any]:
    latencies = measured["latencies_s"]
    acknowledged = [value * 1000 for value in latencies if value is not None]
    counted = acknowledged + [DEADLINE_MS] * (len(latencies) - len(acknowledged))
    return {
        "queued": args.queued,
        "requests": len(latencies),
        "acknowledged": len(acknowledged),
        "queued_replies": measured["queued_replies"],
        "p50_ms": round(percentile(counted, 50), 1),
        "p99_ms": round(percentile(counted, 99), 1),
        "max_ms": round(max(counted), 1),
        "max_loop_lag_ms": measured["bot_lag"]["max_ms"],
        "p99_loop_lag_ms": measured["bot_lag"]["p99_ms"],
        "loop_lag_samples": measured["bot_lag"]["samples"],
        "window_s": round(measured["window_s"], 2),
        "batches_during_window": measured["batches"],
        "batch_base64_bytes": measured["batch_base64_bytes"],
        "discord_side_max_loop_lag_ms": measured["discord_side_lag"]["max_ms"],
        "fake_discord_problems": measured["fake_discord_problems"],
    }


async def run(args: argparse.Namespace) -> None:
    started = time.monotonic()
    discord_args = ["--requests", str(args.requests), "--interval-ms", str(args.interval_ms)]
    async with (
        HelperProcess(BENCH / "_discord_side.py", *discord_args) as discord_side,
        HelperProcess(
            BENCH / "_webui_standin.py", "--noise", "--job-ms", str(args.job_ms)
        ) as standin,
        aiohttp.ClientSession() as session,
    ):
        webui_url = str((await standin.read())["url"])
        with tempfile.TemporaryDirectory() as folder:
            await run_bot(args, discord_side, session, webui_url, Path(folder), started)
    faulthandler.cancel_dump_traceback_later()


def main() -> None:
    args = parse_args()
    configure_logging(args.log_level)
    _log.setLevel(logging.INFO)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
