"""Reads of the job store for the dashboard: the waiting list and the newest finished jobs."""

from __future__ import annotations

from storage import Job, JobStatus, JobStore

# Jobs read per query when walking back from the newest job of a status.
PAGE_SIZE = 200


async def waiting_jobs(store: JobStore, limit: int) -> list[tuple[Job, int]]:
    """Return the first ``limit`` queued jobs in claim order, each with its tasks ahead.

    A job claimed or cancelled between the two reads is left out.
    """
    positions = await store.positions()
    first_ids = list(positions)[:limit]
    if not first_ids:
        return []
    # Under FIFO the claim order is the id order, so one page has all of first_ids. Under the
    # fair policy the jobs missing from that page are read one by one.
    page = await store.list_jobs([JobStatus.QUEUED], limit=limit)
    found = {job.id: job for job in page}
    for job_id in first_ids:
        if job_id not in found:
            job = await store.get(job_id)
            if job is not None:
                found[job_id] = job
    return [
        (found[job_id], positions[job_id])
        for job_id in first_ids
        if job_id in found and found[job_id].status is JobStatus.QUEUED
    ]


async def newest_jobs(
    store: JobStore, status: JobStatus, total: int, *, limit: int, since: float | None = None
) -> list[Job]:
    """Return up to ``limit`` jobs with ``status``, newest id first, reading pages backwards.

    ``total`` is the number of jobs with that status, from ``JobStore.counts()``. With
    ``since`` set, reading also stops after a page in which every job finished before
    ``since``, so a caller that wants the jobs finished since then reads only what it needs.
    That page is still returned, so the result always contains the newest jobs.

    NOTE: the pages are addressed by offset, so jobs that change status while the pages are read
    can shift a page by a few jobs. The result is deduplicated but may miss such a job.
    """
    jobs: list[Job] = []
    seen: set[int] = set()
    end = total
    while end > 0 and len(jobs) < limit:
        start = max(0, end - min(PAGE_SIZE, limit - len(jobs)))
        page = await store.list_jobs([status], limit=end - start, offset=start)
        fresh = [job for job in reversed(page) if job.id not in seen]
        jobs.extend(fresh)
        seen.update(job.id for job in fresh)
        end = start
        if since is not None and all(_finished_before(job, since) for job in page):
            break
    return jobs[:limit]


def wait_seconds(job: Job) -> float | None:
    """Return the seconds from enqueue to the start of the last run, or None if it never ran."""
    if job.started_at is None:
        return None
    return max(0.0, job.started_at - job.enqueued_at)


def run_seconds(job: Job) -> float | None:
    """Return the seconds from the start to the end of the job's last run, or None if unknown."""
    if job.started_at is None or job.finished_at is None:
        return None
    return max(0.0, job.finished_at - job.started_at)


def _finished_before(job: Job, since: float) -> bool:
    return job.finished_at is None or job.finished_at < since
