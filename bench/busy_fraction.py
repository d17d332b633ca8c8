"""Backend busy fraction: how much of the time the GPU generates while results are uploaded.

N jobs are queued before the workers start. Their service times come from the ``seconds`` of
the first N trace requests, scaled linearly so the shortest is 100 ms and the longest 500 ms.
The backend is a WebUI stand-in in its own process (bench/_webui_standin.py) that sleeps for
each service time under a FIFO lock and records when it slept. Each finished job's image is
uploaded to a server on 127.0.0.1 that responds to every upload after 300 ms, as a slow
Discord would.

The production design is measured first: QueueService and BackendWorker from engine/, with
SDClient, JobStore and ImageStore, and the uploads as the queue's delivery events. Then a naive
loop runs the same jobs on the same backend: claim, generate, store, upload, repeat.

busy_fraction = time the backend spent generating / time from the first job's start to the last
job's end, both taken by the stand-in's clock. Prints one JSON object as its last line: jobs,
busy_fraction, naive_busy_fraction, wall_s (the whole run), the measured spans, the mean
service time, and the idle gaps between jobs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from _helper_process import HelperProcess  # noqa: E402
from _upload_server import UploadDelivery, UploadServer  # noqa: E402
from _webui_standin import fetch_stats, post_durations  # noqa: E402

from bot import configure_logging, open_service  # noqa: E402
from engine import GenerationParams, ImageStore  # noqa: E402
from engine.trace import default_trace_path, read_trace  # noqa: E402
from sdclient import SDClient  # noqa: E402
from settings import BackendSettings, Settings, StorageSettings  # noqa: E402
from storage import JobStore, NewJob  # noqa: E402

_log = logging.getLogger("busy_fraction")

STANDIN = Path(__file__).resolve().parent / "_webui_standin.py"
MIN_SERVICE_S = 0.1
MAX_SERVICE_S = 0.5
CHANNEL_ID = 1
GUILD_ID = 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200, help="jobs to run (default 200)")
    parser.add_argument(
        "--upload-ms", type=float, default=300.0, help="time each upload takes, in ms (300)"
    )
    parser.add_argument(
        "--trace", type=Path, default=None, help="JSON-lines trace (default: the bundled sample)"
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the bot's log level (default INFO, as imagine-bot run)",
    )
    return parser.parse_args()


def service_times(trace: Path, jobs: int) -> tuple[list[str], list[float]]:
    """Return the prompts and scaled service times of the first ``jobs`` timed trace requests.

    A trace shorter than ``jobs`` is repeated.
    """
    timed = [request for request in read_trace(trace) if request.seconds is not None]
    if not timed:
        raise SystemExit(f"{trace} has no request with a 'seconds' field; give another --trace")
    chosen = [timed[index % len(timed)] for index in range(jobs)]
    seconds = [float(request.seconds or 0.0) for request in chosen]
    low, high = min(seconds), max(seconds)
    spread = high - low
    scaled = [
        MIN_SERVICE_S + (MAX_SERVICE_S - MIN_SERVICE_S) * ((value - low) / spread if spread else 0)
        for value in seconds
    ]
    return [request.prompt for request in chosen], scaled


def job_params(prompt: str) -> dict[str, Any]:
    params = GenerationParams(
        prompt=prompt,
        negative_prompt="",
        width=512,
        height=512,
        steps=20,
        cfg_scale=7.0,
        seed=-1,
        sampler="Euler a",
        count=1,
    )
    return params.to_dict()


def busy_figures(intervals: list[list[float]]) -> dict[str, float]:
    """Return the busy fraction, span and idle gaps of the stand-in's (start, end) intervals."""
    intervals = sorted(intervals)
    busy_s = sum(end - start for start, end in intervals)
    span_s = intervals[-1][1] - intervals[0][0]
    gaps = [later[0] - earlier[1] for earlier, later in pairwise(intervals)] or [0.0]
    return {
        "busy_fraction": round(busy_s / span_s, 4),
        "span_s": round(span_s, 2),
        "mean_gap_ms": round(statistics.fmean(gaps) * 1000, 2),
        "median_gap_ms": round(statistics.median(gaps) * 1000, 2),
        "max_gap_ms": round(max(gaps) * 1000, 1),
    }


async def run_service(
    session: aiohttp.ClientSession,
    webui_url: str,
    uploads: UploadServer,
    data_dir: Path,
    prompts: list[str],
) -> None:
    """Run the jobs through the production QueueService until every upload has finished."""
    settings = Settings().model_copy(
        update={
            "storage": StorageSettings(data_dir=data_dir),
            "backends": [BackendSettings(name="gpu", url=webui_url)],
            "queue": Settings().queue.model_copy(update={"max_queued_per_user": 0}),
        }
    )
    async with open_service(settings, session) as service:
        delivery = UploadDelivery(session, uploads.url, service.store, service.images, len(prompts))
        service.attach(delivery, delivery)
        for index, prompt in enumerate(prompts):
            job, _ = await service.enqueue(new_job(index, prompt))
            # The cog stores each reply's message id. For a queued job without one, the notifier
            # retries its status edit at once, in a loop.
            await service.store.set_status_message(job.id, CHANNEL_ID, 10**17 + index)
        _log.info("queue service: %d jobs queued, starting the worker", len(prompts))
        await service.start()
        try:
            await wait_delivered(delivery, len(prompts))
        finally:
            await service.stop(grace_s=5)


async def run_naive(
    session: aiohttp.ClientSession,
    webui_url: str,
    uploads: UploadServer,
    data_dir: Path,
    prompts: list[str],
) -> None:
    """Run the jobs in one loop that uploads each result before it claims the next job."""
    store = await JobStore.open(data_dir / "naive.db")
    images = ImageStore(data_dir / "naive-images")
    client = SDClient(session, webui_url)
    delivery = UploadDelivery(session, uploads.url, store, images, len(prompts))
    try:
        for index, prompt in enumerate(prompts):
            await store.enqueue(new_job(index, prompt))
        _log.info("naive loop: %d jobs queued", len(prompts))
        while (job := await store.claim("naive")) is not None:
            params = GenerationParams.from_dict(job.params)
            result = await client.txt2img(params.to_request())
            records = await images.save(job.id, result.images)
            finished = await store.succeed(job.id, {"images": records})
            await delivery.job_finished(finished)
    finally:
        await store.close()


async def wait_delivered(delivery: UploadDelivery, jobs: int) -> None:
    """Wait until every job is delivered, for at most every job at the longest time plus 60 s."""
    timeout_s = jobs * MAX_SERVICE_S + 60
    try:
        await asyncio.wait_for(delivery.all_delivered.wait(), timeout_s)
    except TimeoutError:
        raise RuntimeError(
            f"only {delivery.delivered} of {jobs} jobs were delivered within {timeout_s:.0f} s; "
            f"the log above names the jobs that failed"
        ) from None


def new_job(index: int, prompt: str) -> NewJob:
    return NewJob(
        user_id=1000 + index % 50,
        channel_id=CHANNEL_ID,
        guild_id=GUILD_ID,
        params=job_params(prompt),
        requester_name=f"member-{index % 50}",
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    prompts, seconds = service_times(args.trace or default_trace_path(), args.jobs)
    async with (
        HelperProcess(STANDIN) as standin,
        aiohttp.ClientSession() as session,
        UploadServer(args.upload_ms / 1000) as uploads,
    ):
        webui_url = (await standin.read())["url"]
        with tempfile.TemporaryDirectory() as folder:
            await post_durations(session, webui_url, seconds)
            await run_service(session, webui_url, uploads, Path(folder) / "service", prompts)
            service = busy_figures((await fetch_stats(session, webui_url))["intervals"])
            _log.info("queue service: busy fraction %.4f", service["busy_fraction"])
            await post_durations(session, webui_url, seconds)
            await run_naive(session, webui_url, uploads, Path(folder), prompts)
            naive = busy_figures((await fetch_stats(session, webui_url))["intervals"])
            _log.info("naive loop: busy fraction %.4f", naive["busy_fraction"])
    return {
        "jobs": args.jobs,
        "busy_fraction": service["busy_fraction"],
        "naive_busy_fraction": naive["busy_fraction"],
        "wall_s": round(time.monotonic() - started, 2),
        "span_s": service["span_s"],
        "naive_span_s": naive["span_s"],
        "mean_service_ms": round(statistics.fmean(seconds) * 1000, 1),
        "upload_ms": args.upload_ms,
        "mean_gap_ms": service["mean_gap_ms"],
        "median_gap_ms": service["median_gap_ms"],
        "max_gap_ms": service["max_gap_ms"],
        "naive_mean_gap_ms": naive["mean_gap_ms"],
        "uploads": uploads.uploads,
    }


def main() -> None:
    args = parse_args()
    configure_logging(args.log_level)
    _log.setLevel(logging.INFO)
    result = asyncio.run(run(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
