"""The overview that the dashboard page polls: jobs, backends and the last hour's chart."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from yarl import URL

from engine import QueueService
from storage import Job, JobStatus

from .history import newest_jobs, run_seconds, wait_seconds, waiting_jobs

WAITING_LIMIT = 100
RECENT_LIMIT = 50
CHART_MINUTES = 60
# Upper bound on the finished jobs of each status that one overview reads for the chart.
# NOTE: above this many jobs of one status per hour, the chart undercounts the oldest minutes.
CHART_MAX_JOBS = 5000


async def build_overview(service: QueueService) -> dict[str, Any]:
    """Read the queue's state and return it as the JSON object behind the dashboard page.

    Times are unix seconds on the service's clock and durations are seconds. Interaction tokens
    and other Discord credentials are never included.
    """
    store = service.store
    now = service.clock()
    counts = await store.counts()
    running = await store.running()
    waiting = await waiting_jobs(store, WAITING_LIMIT)
    since = _chart_start(now)
    succeeded = await newest_jobs(
        store, JobStatus.SUCCEEDED, counts[JobStatus.SUCCEEDED], limit=CHART_MAX_JOBS, since=since
    )
    failed = await newest_jobs(
        store, JobStatus.FAILED, counts[JobStatus.FAILED], limit=CHART_MAX_JOBS, since=since
    )
    return {
        "generated_at": now,
        "policy": str(store.policy),
        "counts": {str(status): count for status, count in counts.items()},
        "running": [job_view(job) for job in running],
        "waiting": {
            "total": counts[JobStatus.QUEUED],
            "jobs": [
                job_view(job) | {"position": index + 1, "ahead": ahead}
                for index, (job, ahead) in enumerate(waiting)
            ],
        },
        "successes": [job_view(job) for job in _latest_finished(succeeded)],
        "failures": [job_view(job) for job in _latest_finished(failed)],
        "backends": backend_views(service),
        "chart": chart_series(succeeded, failed, now),
    }


def job_view(job: Job) -> dict[str, Any]:
    """Return the fields of ``job`` that the dashboard shows, without its interaction token.

    ``user_id`` is a string because Discord ids exceed 2**53, above which a JavaScript number
    loses integer precision.
    """
    return {
        "id": job.id,
        "status": str(job.status),
        "kind": str(job.params.get("kind", "txt2img")),
        "prompt": str(job.params.get("prompt", "")),
        "requester": job.requester_name,
        "user_id": str(job.user_id),
        "backend": job.backend,
        "attempts": job.attempts,
        "enqueued_at": job.enqueued_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "wait_s": wait_seconds(job),
        "run_s": run_seconds(job),
        "error": job.error,
    }


def backend_views(service: QueueService) -> list[dict[str, Any]]:
    """Return each backend's name, its URL without credentials, and whether its worker reaches it.

    NOTE: a backend counts as up until its worker fails to reach it, so before the workers start
    every backend is reported up.
    """
    down = set(service.backends_down())
    views = []
    for backend in service.backends:
        url = display_url(backend.client.base_url)
        views.append({"name": backend.name, "url": url, "up": backend.name not in down})
    return views


def display_url(url: str) -> str:
    """Return ``url`` without user name, password, query and fragment, which may hold secrets."""
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return ""
    return str(parsed.with_user(None).with_query(None).with_fragment(None))


def chart_series(succeeded: Iterable[Job], failed: Iterable[Job], now: float) -> dict[str, Any]:
    """Count the jobs finished in each of the last 60 minutes and average their waits.

    Each point covers one clock minute, the last one being the current, partial minute.
    ``mean_wait_s`` averages the waits of the jobs that finished in that minute and ran, and is
    None for a minute in which none did.
    """
    first = _chart_start(now)
    counts = {"succeeded": [0] * CHART_MINUTES, "failed": [0] * CHART_MINUTES}
    waits: list[list[float]] = [[] for _ in range(CHART_MINUTES)]
    for kind, jobs in (("succeeded", succeeded), ("failed", failed)):
        for job in jobs:
            index = _minute_index(job, first)
            if index is None:
                continue
            counts[kind][index] += 1
            wait = wait_seconds(job)
            if wait is not None:
                waits[index].append(wait)
    points = [
        {
            "start": first + 60 * index,
            "finished": counts["succeeded"][index] + counts["failed"][index],
            "succeeded": counts["succeeded"][index],
            "failed": counts["failed"][index],
            "mean_wait_s": sum(waits[index]) / len(waits[index]) if waits[index] else None,
        }
        for index in range(CHART_MINUTES)
    ]
    return {"minute_s": 60, "points": points}


def _chart_start(now: float) -> float:
    return (math.floor(now / 60) - (CHART_MINUTES - 1)) * 60.0


def _minute_index(job: Job, first: float) -> int | None:
    if job.finished_at is None:
        return None
    index = math.floor((job.finished_at - first) / 60)
    return index if 0 <= index < CHART_MINUTES else None


def _latest_finished(jobs: list[Job]) -> list[Job]:
    """Return the RECENT_LIMIT jobs that finished last, newest first."""
    ordered = sorted(jobs, key=lambda job: (job.finished_at or 0.0, job.id), reverse=True)
    return ordered[:RECENT_LIMIT]
