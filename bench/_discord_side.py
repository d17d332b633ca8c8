"""The Discord side of bench/ack_latency.py, run as a helper process: fake Discord and members.

It runs the loopback fake of Discord from tests/fakediscord with one guild, one #imagine
channel and one member per request, and writes ``base_url``, ``gateway_url``, ``bot_token``,
``guild_id`` and ``channel_id`` as its first stdout line. Once the parent writes a line, it
sends the /imagine requests at a fixed interval, each as its own task, so a slow
acknowledgement does not delay the next request. It then writes one line with every
acknowledgement latency in seconds, from creating the interaction and sending
INTERACTION_CREATE on the gateway to the bot's interaction callback arriving, and the number of
requests from the bot that broke Discord's OpenAPI spec.
It exits when its stdin closes.

Run ``python bench/_discord_side.py --requests N --interval-ms MS``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _helper_process import read_messages, write_message  # noqa: E402
from _loop_lag import LoopLagProbe  # noqa: E402

from engine.trace import default_trace_path, read_trace  # noqa: E402
from tests.fakediscord import FakeChannel, FakeDiscord, FakeGuild, FakeUser  # noqa: E402

_log = logging.getLogger(__name__)

# The /imagine prompt option's default maximum length (limits.prompt_max_chars); Discord's
# client does not let a member send more.
PROMPT_MAX_CHARS = 1500
QUEUED_REPLY = re.compile(r"\(job \d+\)")
TRACE_OPTIONS = ("steps", "seed", "cfg_scale")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="/imagine requests to send")
    parser.add_argument(
        "--interval-ms", type=float, default=50.0, help="time between requests, in ms"
    )
    return parser.parse_args()


class RequestPlan:
    """The requests to send: one member each, with a prompt and options from the trace."""

    def __init__(self, fake: FakeDiscord, guild: FakeGuild, count: int) -> None:
        trace = list(read_trace(default_trace_path()))
        self.requests: list[tuple[FakeUser, dict[str, Any]]] = []
        for index in range(count):
            recorded = trace[index % len(trace)]
            user = fake.create_user(f"member-{index}")
            guild.add_member(user)
            options = {k: v for k, v in recorded.options.items() if k in TRACE_OPTIONS}
            options["prompt"] = recorded.prompt[:PROMPT_MAX_CHARS]
            self.requests.append((user, options))


async def send_requests(
    fake: FakeDiscord, guild: FakeGuild, channel: FakeChannel, plan: RequestPlan, interval_s: float
) -> dict[str, Any]:
    """Send every request on its schedule and return the latencies and reply counts."""
    latencies: list[float | None] = [None] * len(plan.requests)
    queued_replies = 0

    async def send(index: int) -> None:
        nonlocal queued_replies
        user, options = plan.requests[index]
        sent = time.perf_counter()
        interaction = await fake.slash(guild, channel, user, "imagine", **options)
        if interaction.response_type is None:
            return
        latencies[index] = time.perf_counter() - sent
        content = interaction.original.content if interaction.original is not None else ""
        if QUEUED_REPLY.search(content or ""):
            queued_replies += 1

    started = time.perf_counter()
    tasks = []
    for index in range(len(plan.requests)):
        await asyncio.sleep(max(0.0, started + index * interval_s - time.perf_counter()))
        tasks.append(asyncio.create_task(send(index)))
    await asyncio.gather(*tasks)
    return {
        "latencies_s": latencies,
        "queued_replies": queued_replies,
        "window_s": time.perf_counter() - started,
    }


async def run(args: argparse.Namespace) -> None:
    async with FakeDiscord() as fake:
        guild = fake.create_guild("benchmark")
        channel = guild.create_channel("imagine")
        plan = RequestPlan(fake, guild, args.requests)
        write_message(
            {
                "base_url": fake.base_url,
                "gateway_url": fake.gateway_url,
                "bot_token": fake.bot_token,
                "guild_id": guild.id,
                "channel_id": channel.id,
            }
        )
        messages = read_messages()
        if await anext(messages, None) is None:
            return
        probe = LoopLagProbe()
        probe.start()
        result = await send_requests(fake, guild, channel, plan, args.interval_ms / 1000)
        await probe.stop()
        # Requests that broke Discord's OpenAPI spec, and crashes of the fake's handlers.
        problems = [*fake.violations, *fake.handler_errors]
        for problem in problems:
            _log.error("fake Discord: %s", problem)
        write_message({**result, "loop_lag": probe.summary(), "problems": len(problems)})
        async for _ in messages:
            pass


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(parse_args()))


if __name__ == "__main__":
    main()
