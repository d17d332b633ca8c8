"""``imagine-bot demo``: the real bot on an offline Discord, fed with recorded requests.

SimCord runs the unmodified discord.py client against an in-memory Discord. Recorded members type
/imagine one after another; a person can watch the channel in a browser and type /imagine too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from engine.trace import TraceError, TraceRequest, default_trace_path, read_trace
from settings import EmbeddedSettings, Settings, StorageSettings
from storage import JobStatus

_log = logging.getLogger("demo")

_JOB_ID = re.compile(r"\(job (\d+)\)")
DEMO_TIMEOUT_S = 1800.0


@dataclass
class RequestOutcome:
    """What happened to one replayed request, as the summary reports it."""

    user: str
    prompt: str
    first_reply: str = ""
    status: str = "failed"
    reason: str | None = None
    image: str | None = None
    job_id: int | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "prompt": self.prompt,
            "first_reply": self.first_reply,
            "status": self.status,
            "reason": self.reason,
            "image": self.image,
            "job": self.job_id,
        }


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--headless", action="store_true", help="serve no page; exit when done")
    parser.add_argument(
        "--trace",
        type=Path,
        default=None,
        help="JSON-lines trace to replay (default: the bundled 500-request sample)",
    )
    parser.add_argument(
        "--jobs", type=_positive_int, default=30, help="requests to replay (default 30)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("demo-out"),
        help="folder for summary.json and the images (default demo-out)",
    )
    parser.add_argument(
        "--speed",
        type=_positive_float,
        default=20.0,
        help="how much faster than the recorded GPU the stand-in draws (default 20)",
    )
    parser.add_argument(
        "--interval",
        type=_non_negative_float,
        default=2.0,
        help="seconds between replayed requests when a page is served (default 2)",
    )
    parser.add_argument(
        "--port", type=int, default=None, help="port of the page (default: any free)"
    )


def run_demo_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the demo and return the exit code."""
    trace_path = args.trace or default_trace_path()
    try:
        requests = list(read_trace(trace_path))[: args.jobs]
    except TraceError as exc:
        print(f"imagine-bot: {exc}", file=sys.stderr)
        return 2
    if not requests:
        print(
            f"imagine-bot: trace {str(trace_path)!r} holds no requests; give one with at least one",
            file=sys.stderr,
        )
        return 2
    return asyncio.run(_run_demo(args, settings, requests))


async def _run_demo(
    args: argparse.Namespace, settings: Settings, requests: list[TraceRequest]
) -> int:
    import simcord

    from bot import create_bot, open_service

    with tempfile.TemporaryDirectory(prefix="imagine-demo-") as data_dir:
        settings = settings.model_copy(
            update={
                "storage": StorageSettings(data_dir=Path(data_dir)),
                "embedded": EmbeddedSettings(speed=args.speed),
            }
        )
        async with aiohttp.ClientSession() as session, open_service(settings, session) as service:
            bot = create_bot(settings, service)
            async with simcord.run(bot, settle_timeout=30.0) as env:
                world = _DemoWorld(env)
                await bot.tree.sync()
                await service.start()
                try:
                    if args.headless:
                        outcomes = await world.replay(requests, interval_s=0.0)
                        await world.wait_for_outcomes(service.store, outcomes)
                        _write_summary(args.out, outcomes, world)
                    else:
                        await world.serve_page(requests, args.interval, args.port)
                finally:
                    await service.stop(settings.queue.shutdown_grace_s)
                _ = env.errors
    return 0


class _DemoWorld:
    """The offline server: one guild, one #imagine channel, a member per recorded user."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.guild = env.create_guild(name="imagine-bot demo")
        self.channel = self.guild.create_text_channel("imagine")
        self.members: dict[str, Any] = {}
        self.images: dict[int, bytes] = {}

    def member(self, name: str) -> Any:
        if name not in self.members:
            self.members[name] = self.guild.add_member(self.env.create_user(name))
        return self.members[name]

    async def replay(self, requests: list[TraceRequest], interval_s: float) -> list[RequestOutcome]:
        outcomes = []
        for request in requests:
            outcomes.append(await self._type_imagine(request))
            if interval_s:
                await asyncio.sleep(interval_s)
        return outcomes

    async def _type_imagine(self, request: TraceRequest) -> RequestOutcome:
        import simcord

        outcome = RequestOutcome(user=request.user, prompt=request.prompt)
        member = self.member(request.user)
        log_start = len(self.env.http_requests)
        try:
            result = await member.slash(
                self.channel, "imagine", prompt=request.prompt, **request.options
            )
        except simcord.OptionError as exc:
            # Discord's client refuses such a value before it reaches the bot; the member sees this.
            outcome.status, outcome.reason = "rejected", str(exc)
            outcome.first_reply = str(exc)
            return outcome
        # The status message may already say "Generating" by now; the summary wants what the
        # member saw first, so it is read from the bot's first request that answered them.
        reply = _first_reply(self.env.http_requests[log_start:])
        if reply is None:
            reply = result.response.content if result.response is not None else ""
        outcome.first_reply = reply
        match = _JOB_ID.search(reply)
        if result.ephemeral or match is None:
            outcome.status, outcome.reason = "rejected", reply
        else:
            outcome.job_id = int(match.group(1))
        return outcome

    async def wait_for_outcomes(self, store: Any, outcomes: list[RequestOutcome]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEMO_TIMEOUT_S
        for outcome in outcomes:
            if outcome.job_id is None:
                continue
            while True:
                job = await store.get(outcome.job_id)
                if job is not None and job.delivered_at is not None:
                    break
                if loop.time() > deadline:
                    outcome.reason = "the demo timed out before this job finished"
                    break
                await asyncio.sleep(0.1)
            if job is None or job.delivered_at is None:
                continue
            if job.status is JobStatus.SUCCEEDED and job.result_message_id is not None:
                data = await self._save_image(job.result_message_id, job.id)
                if data is not None:
                    outcome.status = "delivered"
                    self.images[job.id] = data
                else:
                    outcome.reason = "the result message has no image attached"
            else:
                outcome.reason = job.error or f"the job ended as {job.status}"

    async def _save_image(self, message_id: int, job_id: int) -> bytes | None:
        for message in self.channel.history():
            if message.id == message_id and message.attachments:
                return await message.attachments[0].read()
        return None

    async def serve_page(
        self, requests: list[TraceRequest], interval_s: float, port: int | None
    ) -> None:
        viewer = self.member("you")
        async with self.env.preview(
            self.channel, viewers=[viewer], layout="channel", port=port
        ) as preview:
            print(f"Open {preview.url} to watch #imagine and type /imagine yourself. Ctrl-C stops.")
            await self.replay(requests, interval_s)
            await asyncio.Event().wait()


def _write_summary(out: Path, outcomes: list[RequestOutcome], world: _DemoWorld) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for outcome in outcomes:
        data = world.images.get(outcome.job_id or -1)
        if data is None:
            continue
        target = out / f"job-{outcome.job_id}.png"
        target.write_bytes(data)
        outcome.image = target.name
    totals: dict[str, int] = {"requests": len(outcomes)}
    for status in ("delivered", "rejected", "failed"):
        totals[status] = sum(1 for outcome in outcomes if outcome.status == status)
    summary = {"requests": [outcome.to_json() for outcome in outcomes], "totals": totals}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(
        f"{totals['delivered']} delivered, {totals['rejected']} rejected, "
        f"{totals['failed']} failed; summary in {out / 'summary.json'}"
    )


def _first_reply(entries: list[Any]) -> str | None:
    """Return the text of the first interaction answer among SimCord's logged requests."""
    for entry in entries:
        body = entry.json if isinstance(entry.json, dict) else {}
        if entry.method == "POST" and entry.path.endswith("/callback"):
            content = (body.get("data") or {}).get("content")
        elif entry.method == "PATCH" and entry.path.endswith("/messages/@original"):
            content = body.get("content")
        else:
            continue
        if content:
            return str(content)
    return None


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is invalid: give a whole number of at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is invalid: give a number above 0")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text} is invalid: give a number of 0 or more")
    return value
