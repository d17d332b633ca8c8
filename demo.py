"""``imagine-bot demo``: the real bot on an offline Discord, fed with recorded requests.

SimCord runs the unmodified discord.py client against an in-memory Discord. Recorded members type
/imagine one after another; a person can watch the channel in a browser and type /imagine too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import enum
import json
import logging
import re
import signal
import sys
import tempfile
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from engine.trace import TraceError, TraceRequest, default_trace_path, read_trace
from settings import EmbeddedSettings, Settings, StorageSettings
from storage import JobStatus

_log = logging.getLogger("demo")

_JOB_ID = re.compile(r"\(job (\d+)\)")
EXIT_USAGE_ERROR = 2
EXIT_TIMED_OUT = 1


class DemoError(Exception):
    """The demo cannot run with the given options; the message names the option and the fix."""


class _Ending(enum.Enum):
    FINISHED = "finished"
    STOPPED = "stopped"
    TIMED_OUT = "timed out"
    FAILED = "failed"


@dataclass
class RequestOutcome:
    """The result of one replayed request, as the summary reports it."""

    user: str
    prompt: str
    first_reply: str = ""
    # "pending" until the request ends, and then "delivered", "rejected" or "failed".
    status: str = "pending"
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


def run_demo_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the demo and return the exit code."""
    try:
        requests = _load_requests(args.trace or default_trace_path(), args.jobs)
        if args.headless:
            _check_out_folder(args.out)
        return asyncio.run(_run_demo(args, settings, requests))
    except DemoError as exc:
        print(f"imagine-bot: {exc}", file=sys.stderr)
        return EXIT_USAGE_ERROR


def _load_requests(trace_path: Path, jobs: int) -> list[TraceRequest]:
    try:
        requests = list(read_trace(trace_path))
    except TraceError as exc:
        raise DemoError(str(exc)) from None
    if not requests:
        raise DemoError(
            f"trace {str(trace_path)!r} contains no requests; give one with at least one"
        )
    if jobs > len(requests):
        count = f"{len(requests)} request" + ("" if len(requests) == 1 else "s")
        print(
            f"imagine-bot: the trace {str(trace_path)!r} contains {count}, fewer than "
            f"--jobs {jobs}; replaying all of them",
            file=sys.stderr,
        )
    return requests[:jobs]


def _check_out_folder(out: Path) -> None:
    # Checked before any work, so a run of many minutes cannot end unable to save its summary.
    if out.exists() and not out.is_dir():
        raise DemoError(f"--out {str(out)!r} is a file, not a folder; give a folder path")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise DemoError(
            f"--out {str(out)!r} is not a writable folder ({exc.strerror}); give a folder you "
            f"can write to, or a path where one can be created"
        ) from None
    earlier = len(list(out.glob("job-*.png")))
    if earlier:
        print(
            f"imagine-bot: warning: --out {str(out)!r} already has {earlier} job-*.png images "
            "from an earlier run; this run overwrites those with the same job numbers and keeps "
            "the rest, and summary.json lists only this run's. Give an empty folder to keep runs "
            "apart.",
            file=sys.stderr,
        )


async def _run_demo(
    args: argparse.Namespace, settings: Settings, requests: list[TraceRequest]
) -> int:
    stop = _StopSignal()
    stop.install(asyncio.get_running_loop())
    outcomes = [RequestOutcome(user=request.user, prompt=request.prompt) for request in requests]
    images: dict[int, bytes] = {}
    # Backends that could not be reached when the run ended, as "name (url)".
    down: list[str] = []
    ending = _Ending.FAILED
    try:
        ending = await _run_world(args, settings, requests, outcomes, images, stop.event, down)
    finally:
        if args.headless:
            _mark_unfinished(outcomes, _unfinished_reason(ending, args.timeout, down))
            _write_summary(args.out, outcomes, images)
    return _exit_code(ending, stop, args, down)


async def _run_world(
    args: argparse.Namespace,
    settings: Settings,
    requests: list[TraceRequest],
    outcomes: list[RequestOutcome],
    images: dict[int, bytes],
    stop: asyncio.Event,
    down: list[str],
) -> _Ending:
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
                world = _DemoWorld(env, images)
                await bot.tree.sync()
                await service.start()
                try:
                    if args.headless:
                        work = world.replay_and_wait(requests, outcomes, service.store)
                        ending = await _run_until_stopped(work, stop, args.timeout)
                    else:
                        work = world.serve_page(requests, args.interval, args.port)
                        ending = await _run_until_stopped(work, stop, None)
                finally:
                    urls = {backend.name: backend.url for backend in settings.backends}
                    down.extend(
                        f"{name} ({urls.get(name, '?')})" for name in service.backends_down()
                    )
                    await service.stop(settings.queue.shutdown_grace_s)
                # Reading errors acknowledges them, so leaving simcord.run does not raise them
                # again, because the summary already reports each request that failed.
                _ = env.errors
    return ending


async def _run_until_stopped(
    work: Coroutine[Any, Any, None], stop: asyncio.Event, timeout_s: float | None
) -> _Ending:
    work_task = asyncio.create_task(work)
    stop_task = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait(
            {work_task, stop_task}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        work_task.cancel()
        stop_task.cancel()
        await asyncio.gather(work_task, stop_task, return_exceptions=True)
    if not work_task.cancelled():
        work_task.result()
        return _Ending.FINISHED
    return _Ending.STOPPED if stop.is_set() else _Ending.TIMED_OUT


class _StopSignal:
    """The first SIGINT or SIGTERM of the run, as an event the demo waits for."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.signal_number: int | None = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        # add_signal_handler also replaces SIG_IGN, so a demo that a shell started in the
        # background, where SIGINT is inherited as ignored, still stops on kill -INT.
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            # Windows event loops have no signal handlers, so there Ctrl+C raises KeyboardInterrupt.
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signal_number, self._receive, signal_number)

    def _receive(self, signal_number: int) -> None:
        name = signal.Signals(signal_number).name
        if self.signal_number is not None:
            _log.info("%s received: the demo is already stopping", name)
            return
        self.signal_number = signal_number
        _log.info("%s received: stopping the demo", name)
        self.event.set()


def _unfinished_reason(ending: _Ending, timeout_s: float, down: list[str]) -> str:
    if ending is _Ending.TIMED_OUT and down:
        return (
            f"the demo timed out after {timeout_s:g} s while the backend {', '.join(down)} "
            f"could not be reached"
        )
    if ending is _Ending.TIMED_OUT:
        return f"the demo timed out after {timeout_s:g} s before this job finished"
    if ending is _Ending.STOPPED:
        return "the demo was stopped before this job finished"
    return "the demo failed before this job finished"


def _mark_unfinished(outcomes: list[RequestOutcome], reason: str) -> None:
    for outcome in outcomes:
        if outcome.status == "pending":
            outcome.status, outcome.reason = "failed", reason


def _exit_code(
    ending: _Ending, stop: _StopSignal, args: argparse.Namespace, down: list[str]
) -> int:
    if ending is _Ending.TIMED_OUT and down:
        print(
            f"imagine-bot: the demo timed out after {args.timeout:g} s because the backend "
            f"{', '.join(down)} could not be reached; start it, or fix its url in [[backends]] "
            f"(imagine-bot check --config FILE tests it)",
            file=sys.stderr,
        )
        return EXIT_TIMED_OUT
    if ending is _Ending.TIMED_OUT:
        print(
            f"imagine-bot: the demo timed out after {args.timeout:g} s; give a larger --timeout "
            f"or a higher --speed",
            file=sys.stderr,
        )
        return EXIT_TIMED_OUT
    # A signal is the normal end of the page mode. A stopped --headless run had work left, so it
    # exits with the shell's 128 + signal number.
    if ending is _Ending.STOPPED and args.headless and stop.signal_number is not None:
        return 128 + stop.signal_number
    return 0


class _DemoWorld:
    """The offline server: one guild, one #imagine channel, a member per recorded user."""

    def __init__(self, env: Any, images: dict[int, bytes]) -> None:
        self.env = env
        self.guild = env.create_guild(name="imagine-bot demo")
        self.channel = self.guild.create_text_channel("imagine")
        self.members: dict[str, Any] = {}
        self.images = images

    def member(self, name: str) -> Any:
        if name not in self.members:
            self.members[name] = self.guild.add_member(self.env.create_user(name))
        return self.members[name]

    async def replay_and_wait(
        self, requests: list[TraceRequest], outcomes: list[RequestOutcome], store: Any
    ) -> None:
        """Type every request at once, then wait until each accepted job is posted."""
        await self.replay(requests, outcomes, interval_s=0.0)
        await self.wait_for_outcomes(store, outcomes)

    async def replay(
        self, requests: list[TraceRequest], outcomes: list[RequestOutcome], interval_s: float
    ) -> None:
        for request, outcome in zip(requests, outcomes, strict=True):
            await self._type_imagine(request, outcome)
            if interval_s:
                await asyncio.sleep(interval_s)

    async def _type_imagine(self, request: TraceRequest, outcome: RequestOutcome) -> None:
        import simcord

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
            return
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

    async def wait_for_outcomes(self, store: Any, outcomes: list[RequestOutcome]) -> None:
        for outcome in outcomes:
            if outcome.job_id is None:
                continue
            job = await store.get(outcome.job_id)
            while job is None or job.delivered_at is None:
                await asyncio.sleep(0.1)
                job = await store.get(outcome.job_id)
            if job.status is JobStatus.SUCCEEDED and job.result_message_id is not None:
                data = await self._save_image(job.result_message_id, job.id)
                if data is not None:
                    outcome.status = "delivered"
                    self.images[job.id] = data
                else:
                    outcome.status = "failed"
                    outcome.reason = "the result message has no image attached"
            else:
                outcome.status = "failed"
                outcome.reason = job.error or f"the job ended as {job.status}"

    async def _save_image(self, message_id: int, job_id: int) -> bytes | None:
        for message in self.channel.history():
            if message.id == message_id and message.attachments:
                return await message.attachments[0].read()
        return None

    async def serve_page(
        self, requests: list[TraceRequest], interval_s: float, port: int | None
    ) -> None:
        """Serve the channel page, replay ``requests`` into it, then serve until cancelled."""
        import simcord

        viewer = self.member("you")
        async with contextlib.AsyncExitStack() as stack:
            try:
                preview = await stack.enter_async_context(
                    self.env.preview(self.channel, viewers=[viewer], layout="channel", port=port)
                )
            except simcord.SetupError as exc:
                if port is None:
                    raise
                raise DemoError(
                    f"--port {port} cannot be used ({exc}); stop the program on that port, "
                    f"pick another --port, or leave it out for any free port"
                ) from None
            print(
                f"Open {preview.url} to watch #imagine and type /imagine yourself. Ctrl-C stops.",
                flush=True,
            )
            outcomes = [
                RequestOutcome(user=request.user, prompt=request.prompt) for request in requests
            ]
            await self.replay(requests, outcomes, interval_s)
            await asyncio.Event().wait()


def _write_summary(out: Path, outcomes: list[RequestOutcome], images: dict[int, bytes]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for outcome in outcomes:
        data = images.get(outcome.job_id or -1)
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
