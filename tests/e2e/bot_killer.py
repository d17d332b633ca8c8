"""Kill the bot process at chosen moments of its work and restart it, while members keep typing.

There are three kinds of moment. A "claim" kill comes right after the first reply to a burst
of /imagine requests, when a job was just committed and the worker woken to claim it. A
"generation" kill comes while a txt2img request of the current bot process runs on the
in-process WebUI stand-in, at a chosen fraction of its progress. An "upload" kill comes while
the fake Discord delays its response to a result post, so the message exists but the bot has
not received the response.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from engine.trace import TraceRequest
from fakewebui import FakeWebUI
from tests.e2e.stage import Stage
from tests.fakediscord.pipeline import Hold

KILL_KINDS = ("claim", "generation", "upload")
# How long a kill waits for its moment (a running job, a result post) before killing anyway.
MOMENT_TIMEOUT_S = 20.0
POLL_S = 0.01
RESULT_POST_ROUTE = "/channels/{channel_id}/messages"
BURST_SIZES = (3, 6)


def plan_kills(rng: random.Random, requests: int, kills: int) -> list[tuple[int, str]]:
    """Spread ``kills`` over the replay, one per equal slice, with the kinds in equal shares.

    Each entry is the request index at which the kill starts waiting for its moment.
    """
    kinds = [KILL_KINDS[index % len(KILL_KINDS)] for index in range(kills)]
    rng.shuffle(kinds)
    lead = max(1, requests // 20)
    width = (requests - 2 * lead) / max(1, kills)
    plan = []
    for slot, kind in enumerate(kinds):
        start = lead + int(slot * width)
        plan.append((start + rng.randrange(max(1, int(width) // 2)), kind))
    return plan


class BotKiller:
    """A driver that types requests as their members and kills and restarts the bot as planned."""

    def __init__(self, stage: Stage, webui: FakeWebUI, requests: list[TraceRequest]) -> None:
        self.stage = stage
        self.webui = webui
        self.requests = requests
        # Index of the next request to type; bursts and the sender both take from here.
        self.cursor = 0
        self.up = asyncio.Event()
        self.up.set()
        self.kills: list[dict[str, Any]] = []
        self._bursts: list[asyncio.Task[Any]] = []
        self._hold: Hold | None = None
        self._requests_at_start = 0

    async def send_all(self, rng: random.Random, gap_s: float) -> None:
        """Type every request not taken by a burst, with random pauses; wait while the bot is down.

        ``gap_s`` is the mean pause in seconds, drawn from an exponential distribution.
        """
        while self.cursor < len(self.requests):
            await self.up.wait()
            index = self.cursor
            self.cursor += 1
            await self.stage.replay.send(index, self.requests[index])
            await asyncio.sleep(rng.expovariate(1 / gap_s))
        await asyncio.gather(*self._bursts)

    async def run(self, plan: list[tuple[int, str]], rng: random.Random) -> None:
        """Carry out ``plan``: at each request index, wait for the moment, kill, restart."""
        for index, kind in plan:
            while self.cursor < index:
                await asyncio.sleep(POLL_S)
            started = time.monotonic()
            if kind == "claim":
                reached = await self._after_burst(rng)
            elif kind == "generation":
                reached = await self._mid_generation(rng.uniform(0.05, 0.95))
            else:
                reached = await self._mid_upload()
            killed_at = time.monotonic()
            await self._kill()
            restart_s = await self._restart()
            self.kills.append(
                {
                    "kind": kind,
                    "request": index,
                    "moment_reached": reached,
                    "waited_s": round(killed_at - started, 3),
                    "restart_s": round(restart_s, 3),
                }
            )

    async def _after_burst(self, rng: random.Random) -> bool:
        size = min(rng.randint(*BURST_SIZES), len(self.requests) - self.cursor)
        if size <= 0:
            return False
        indexes = range(self.cursor, self.cursor + size)
        self.cursor += size
        burst = [
            asyncio.create_task(self.stage.replay.send(index, self.requests[index]))
            for index in indexes
        ]
        self._bursts.extend(burst)
        await asyncio.wait(burst, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.sleep(rng.uniform(0.0, 0.02))
        return True

    async def _mid_generation(self, fraction: float) -> bool:
        progress = self.webui.state.progress
        deadline = time.monotonic() + MOMENT_TIMEOUT_S
        while time.monotonic() < deadline:
            # A job of a killed process may still run on the stand-in, so wait for one of ours.
            ours = len(self.webui.requests) > self._requests_at_start
            if ours and progress.busy and progress.fraction() >= fraction:
                return True
            await asyncio.sleep(POLL_S)
        return False

    async def _mid_upload(self) -> bool:
        self._hold = self.stage.fake.hold("POST", RESULT_POST_ROUTE)
        try:
            await asyncio.wait_for(self._hold.reached.wait(), timeout=MOMENT_TIMEOUT_S)
        except TimeoutError:
            return False
        return True

    async def _kill(self) -> None:
        self.up.clear()
        await self.stage.bot.kill()
        if self._hold is not None:
            # Released only now, so the killed bot never learns that its post went through.
            self._hold.released.set()
            self._hold = None

    async def _restart(self) -> float:
        started = time.monotonic()
        self._requests_at_start = len(self.webui.requests)
        await self.stage.bot.start()
        self.up.set()
        return time.monotonic() - started
