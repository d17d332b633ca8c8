"""Failure drills: kill the bot and its backend at bad moments and count what members lose.

1. ``bot-kills``: trace requests typed by their members into the loopback fake Discord and
   served by the real bot process. The bot gets SIGKILL at ``--kills`` seeded moments and is
   restarted each time. The moments are spread over mid-claim (right after a burst of
   enqueues), mid-generation (a txt2img runs on the stand-in) and mid-upload (the fake Discord
   delays its response to a result post).
2. ``webui-restarts``: the WebUI stand-in, a separate ``imagine-bot fake-webui`` process, gets
   SIGKILL while a job runs and is restarted on the same port.
3. ``backend-outage``: the stand-in is killed mid-job and stays down for ``--outage-s`` seconds
   while members keep typing. ``resume_after_backend_return_s`` is the time from the restarted
   stand-in responding to the first txt2img request reaching it. The default of 12 s stands
   for a one-minute outage scaled down five times; the bot's retry pauses (1 s doubling up to
   60 s) are not scaled, so the figure depends on where the return falls between two retries.

Prints one JSON object as its last stdout line. ``lost`` counts requests the bot told a member
it queued that got neither an image nor a failure notice; ``duplicate_posts`` counts result
posts beyond the first for one job; ``failed_without_notice`` counts failed jobs whose member
was not told. Two more figures describe what members see: ``stale_status_messages`` counts
jobs whose /imagine reply never showed the outcome, and ``queued_without_reply`` counts jobs
that ran for a request the bot never acknowledged. The bot runs with its production defaults
except for status pacing (see tests/e2e/processes.py) and one channel bucket of Discord's (see
tests/e2e/stage.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.trace import TraceRequest, read_trace  # noqa: E402
from fakewebui import FakeWebUI  # noqa: E402
from storage import JobStatus  # noqa: E402
from tests.e2e.audit import audit_drill  # noqa: E402
from tests.e2e.bot_killer import BotKiller, plan_kills  # noqa: E402
from tests.e2e.processes import WebUIProcess  # noqa: E402
from tests.e2e.stage import Stage, open_stage  # noqa: E402

_log = logging.getLogger("bench.chaos")

DRILLS = ("bot-kills", "webui-restarts", "backend-outage")
TRACE = ROOT / "bench" / "data" / "trace-chaos.jsonl"
POLL_S = 0.02
# How long a drill waits for a job to run on the stand-in before it kills it anyway.
MOMENT_TIMEOUT_S = 20.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--drills",
        default=",".join(DRILLS),
        help=f"comma-separated drills (default {','.join(DRILLS)})",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice")
    parser.add_argument(
        "--speed",
        type=float,
        default=25.0,
        help="how many times faster than the 2022 GPU the stand-in draws (25: 0.2 s per job)",
    )
    parser.add_argument(
        "--gap-ms", type=float, default=400.0, help="mean pause between requests, milliseconds"
    )

    parser.add_argument("--jobs", type=int, default=200, help="requests replayed in bot-kills")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of the bot in bot-kills")

    parser.add_argument("--webui-jobs", type=int, default=30, help="requests in webui-restarts")
    parser.add_argument("--webui-kills", type=int, default=3, help="SIGKILLs of the stand-in")
    parser.add_argument(
        "--webui-down-s", type=float, default=1.0, help="seconds the killed stand-in stays down"
    )

    parser.add_argument("--outage-jobs", type=int, default=30, help="requests in backend-outage")
    parser.add_argument(
        "--outage-s", type=float, default=12.0, help="seconds the backend stays down (default 12)"
    )

    parser.add_argument(
        "--settle-timeout-s",
        type=float,
        default=180.0,
        help="seconds to wait for the queue to drain",
    )
    parser.add_argument("--trace", type=Path, default=TRACE, help="JSON-lines trace to replay")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep logs and databases here (default: a temporary folder)",
    )
    args = parser.parse_args(argv)
    args.drill_names = [name.strip() for name in args.drills.split(",") if name.strip()]
    unknown = [name for name in args.drill_names if name not in DRILLS]
    if unknown:
        parser.error(f"--drills: unknown drill {unknown[0]!r}; choose from {', '.join(DRILLS)}")
    if not args.drill_names:
        parser.error(f"--drills is empty; choose from {', '.join(DRILLS)}")
    return args


def load_requests(path: Path, count: int, offset: int = 0) -> list[TraceRequest]:
    """Return ``count`` requests of the trace from ``offset``, wrapping around at its end."""
    trace = list(read_trace(path))
    return [trace[(offset + index) % len(trace)] for index in range(count)]


async def send_paced(
    stage: Stage, requests: list[TraceRequest], rng: random.Random, gap_s: float
) -> None:
    """Type each request as its member, with exponential pauses of mean ``gap_s`` seconds."""
    for index, request in enumerate(requests):
        await stage.replay.send(index, request)
        await asyncio.sleep(rng.expovariate(1 / gap_s))


async def drill_bot_kills(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Replay the trace through the bot and SIGKILL it at planned moments, restarting each time."""
    requests = load_requests(args.trace, args.jobs)
    plan = plan_kills(random.Random(f"{args.seed}-plan"), len(requests), args.kills)
    async with (
        FakeWebUI(speed=args.speed) as webui,
        open_stage(workdir / "bot-kills", webui.url) as stage,
    ):
        killer = BotKiller(stage, webui, requests)
        sender = asyncio.create_task(
            killer.send_all(random.Random(f"{args.seed}-gaps"), args.gap_ms / 1000)
        )
        try:
            await killer.run(plan, random.Random(f"{args.seed}-kills"))
            await sender
        finally:
            sender.cancel()
        figures = await finish_drill(stage, args.settle_timeout_s)
    reached = [kill for kill in killer.kills if kill["moment_reached"]]
    figures.update(
        kills=len(killer.kills),
        kills_by_kind=dict(Counter(kill["kind"] for kill in reached)),
        kills_missing_their_moment=len(killer.kills) - len(reached),
        mean_restart_s=round(
            sum(kill["restart_s"] for kill in killer.kills) / max(1, len(killer.kills)), 2
        ),
        kill_moments=killer.kills,
    )
    return figures


async def drill_webui_restarts(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """SIGKILL the stand-in process while a job runs and restart it, a few times."""
    requests = load_requests(args.trace, args.webui_jobs, offset=args.jobs)
    directory = workdir / "webui-restarts"
    directory.mkdir(parents=True, exist_ok=True)
    webui = WebUIProcess(args.speed, directory / "webui.log")
    await webui.start()
    try:
        async with open_stage(directory, webui.url) as stage:
            rng = random.Random(f"{args.seed}-webui")
            sender = asyncio.create_task(send_paced(stage, requests, rng, args.gap_ms / 1000))
            reached = []
            try:
                for _ in range(args.webui_kills):
                    # Two jobs finish between kills, so each kill interrupts a different job.
                    succeeded = (await stage.store.counts())[JobStatus.SUCCEEDED]
                    await wait_succeeded(stage, succeeded + 2)
                    reached.append(await wait_busy(webui))
                    await webui.kill()
                    await asyncio.sleep(args.webui_down_s)
                    await webui.start()
                await sender
            finally:
                sender.cancel()
            figures = await finish_drill(stage, args.settle_timeout_s)
    finally:
        await webui.stop()
    figures.update(backend_restarts=args.webui_kills, kills_mid_job=sum(reached))
    return figures


async def drill_backend_outage(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Keep the stand-in down for ``--outage-s`` seconds mid-job and time the queue's resumption."""
    requests = load_requests(args.trace, args.outage_jobs, offset=args.jobs + args.webui_jobs)
    directory = workdir / "backend-outage"
    directory.mkdir(parents=True, exist_ok=True)
    webui = WebUIProcess(args.speed, directory / "webui.log")
    await webui.start()
    try:
        async with open_stage(directory, webui.url) as stage:
            rng = random.Random(f"{args.seed}-outage")
            sender = asyncio.create_task(send_paced(stage, requests, rng, args.gap_ms / 1000))
            try:
                mid_job = await wait_busy(webui)
                await webui.kill()
                down_at = time.monotonic()
                await asyncio.sleep(args.outage_s)
                queued_at_return = (await stage.store.counts())[JobStatus.QUEUED]
                back_at = await webui.start()
                first_request_at = await wait_first_txt2img(webui)
                await sender
            finally:
                sender.cancel()
            figures = await finish_drill(stage, args.settle_timeout_s)
    finally:
        await webui.stop()
    resume_s = None if first_request_at is None else round(first_request_at - back_at, 2)
    figures.update(
        backend_restarts=1,
        killed_mid_job=mid_job,
        outage_s=round(back_at - down_at, 2),
        queued_at_return=queued_at_return,
        resume_after_backend_return_s=resume_s,
    )
    return figures


async def wait_succeeded(stage: Stage, count: int) -> None:
    """Wait until ``count`` jobs have succeeded, or for at most MOMENT_TIMEOUT_S."""
    deadline = time.monotonic() + MOMENT_TIMEOUT_S
    while time.monotonic() < deadline:
        if (await stage.store.counts())[JobStatus.SUCCEEDED] >= count:
            return
        await asyncio.sleep(POLL_S)


async def wait_busy(webui: WebUIProcess) -> bool:
    """Wait until a job runs on the stand-in; return False after MOMENT_TIMEOUT_S without one."""
    deadline = time.monotonic() + MOMENT_TIMEOUT_S
    while time.monotonic() < deadline:
        if await webui.busy():
            return True
        await asyncio.sleep(POLL_S)
    return False


async def wait_first_txt2img(webui: WebUIProcess) -> float | None:
    """Return when the restarted stand-in first received a txt2img request, or None."""
    # Past the bot's longest retry pause (60 s by default) the queue is stuck, not slow.
    deadline = time.monotonic() + 120.0
    while time.monotonic() < deadline:
        if await webui.received() > 0:
            return time.monotonic()
        await asyncio.sleep(POLL_S / 2)
    return None


async def finish_drill(stage: Stage, settle_timeout_s: float) -> dict[str, Any]:
    """Let the queue drain, stop the bot with SIGTERM, and audit what the members got."""
    settled = await stage.settle(settle_timeout_s)
    exit_code = await stage.bot.stop()
    report = await audit_drill(stage.fake, stage.store, stage.replay)
    errors = logged_errors(stage.bot.log_path)
    return {
        **stage.replay.counts(),
        "rejection_reasons": stage.replay.rejection_reasons(),
        **report.figures(),
        "settled": settled,
        "mean_generation_s": await mean_generation_s(stage),
        "bot_starts": stage.bot.starts,
        "bot_exit_code": exit_code,
        "bot_log_errors": len(errors),
        "bot_log_error_samples": sorted(set(errors))[:5],
        "discord_spec_problems": len(stage.fake.violations) + len(stage.fake.handler_errors),
    }


async def mean_generation_s(stage: Stage) -> float | None:
    """Return the mean time the bot's worker waited for txt2img, over the succeeded jobs."""
    times = [
        float(job.result["elapsed_s"])
        for job in await stage.store.list_jobs(limit=1_000_000)
        if job.result is not None and "elapsed_s" in job.result
    ]
    return round(sum(times) / len(times), 3) if times else None


def logged_errors(log_path: Path) -> list[str]:
    """Return the ERROR lines of a bot log without their timestamps, plus one per traceback."""
    errors = []
    for line in log_path.read_text(errors="replace").splitlines():
        if " ERROR " in line:
            errors.append(line.split(" ERROR ", 1)[1].strip())
        elif line.startswith("Traceback"):
            errors.append("Traceback")
    return errors


DRILL_RUNNERS = {
    "bot-kills": drill_bot_kills,
    "webui-restarts": drill_webui_restarts,
    "backend-outage": drill_backend_outage,
}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Run the chosen drills one after another and sum their figures."""
    started = time.monotonic()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="imagine-chaos-"))
    results: dict[str, dict[str, Any]] = {}
    try:
        for name in args.drill_names:
            _log.info("drill %s starts", name)
            results[name] = await DRILL_RUNNERS[name](args, workdir)
            _log.info("drill %s done: %s", name, _headline(results[name]))
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return summarize(results, args, time.monotonic() - started)


def _headline(figures: dict[str, Any]) -> str:
    keys = ("jobs", "lost", "duplicate_posts", "failed_without_notice", "by_status")
    return ", ".join(f"{key} {figures.get(key)}" for key in keys)


def summarize(
    results: dict[str, dict[str, Any]], args: argparse.Namespace, wall_s: float
) -> dict[str, Any]:
    """Sum the drills' fault counts and pick out the figures the targets are about."""

    def total(key: str) -> int:
        return sum(int(figures.get(key, 0)) for figures in results.values())

    return {
        "jobs": total("jobs"),
        "kills": total("kills"),
        "lost": total("lost"),
        "duplicate_posts": total("duplicate_posts"),
        "failed_without_notice": total("failed_without_notice"),
        "stale_status_messages": total("stale_status_messages"),
        "queued_without_reply": total("queued_without_reply"),
        "failed_jobs": {
            name: figures["by_status"].get("failed", 0) for name, figures in results.items()
        },
        "backend_restarts": total("backend_restarts"),
        "resume_after_backend_return_s": results.get("backend-outage", {}).get(
            "resume_after_backend_return_s"
        ),
        "wall_s": round(wall_s, 1),
        "seed": args.seed,
        "speed": args.speed,
        "drills": results,
    }


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    _log.setLevel(logging.INFO)
    result = asyncio.run(run(parse_args(argv)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
