"""Every text and embed a member can see for one job, built by the bot's own formatters."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import discord

from cogs import formatting
from cogs.admin import job_line
from engine import GenerationParams, StatusKind, StatusView
from storage import Job, JobStatus

REQUESTER_ID = 111111111111111111
JOB_ID = 4321
JUMP_URL = "https://discord.com/channels/1/2/3"
NOTES = (None, formatting.NOTE_VIA_REPLY, formatting.NOTE_VIA_DM, formatting.NOTE_KEPT)


def make_job(
    params: GenerationParams,
    *,
    requester_name: str = "ann",
    error: str | None = None,
    backend: str = "gpu-1",
) -> Job:
    """Build a queued job for ``params`` as the job store would return it."""
    return Job(
        id=JOB_ID,
        status=JobStatus.QUEUED,
        user_id=REQUESTER_ID,
        channel_id=2,
        guild_id=1,
        params=params.to_dict(),
        requester_name=requester_name,
        application_id=5,
        interaction_token="token",
        interaction_created_at=time.time(),
        attachment_size_limit=None,
        app_permissions=None,
        backend=backend,
        status_channel_id=2,
        status_message_id=6,
        result_message_id=None,
        result=None,
        attempts=0,
        enqueued_at=time.time() - 90,
        started_at=None,
        finished_at=None,
        delivered_at=None,
        error=error,
    )


def status_texts(job: Job) -> dict[str, str]:
    """Return the status message texts of ``job`` while it waits and runs, by name."""
    eta = time.time() + 120
    running = replace(job, status=JobStatus.RUNNING)
    progress = StatusView(StatusKind.RUNNING, eta=eta, step=7, steps=20)
    texts = {
        "queued next": formatting.queued_text(job.user_id, job.id, 0, _prompt(job), eta),
        "queued far": formatting.queued_text(job.user_id, job.id, 12_345, _prompt(job), None),
        "position": formatting.status_text(job, StatusView(StatusKind.QUEUED, ahead=3, eta=eta)),
        "held": formatting.status_text(
            job, StatusView(StatusKind.QUEUED, ahead=1, note="Every backend is down.")
        ),
        "started": formatting.running_text(running),
        "progress": formatting.status_text(running, progress),
    }
    return texts


def outcome_texts(job: Job) -> dict[str, str]:
    """Return the texts shown when ``job`` ends, whatever the outcome, by name."""
    succeeded = replace(job, status=JobStatus.SUCCEEDED, result=_result(job))
    texts = {
        f"done, note {index}": formatting.finished_text(succeeded, JUMP_URL, note)
        for index, note in enumerate(NOTES)
    }
    texts["done, not posted"] = formatting.finished_text(succeeded, None, formatting.NOTE_KEPT)
    texts["cancelled"] = formatting.finished_text(replace(job, status=JobStatus.CANCELLED), None)
    texts["failed"] = formatting.finished_text(replace(job, status=JobStatus.FAILED), None)
    texts["result"] = formatting.result_content(succeeded)
    texts["not delivered"] = formatting.failed_delivery_text(succeeded)
    texts["dm link"] = formatting.dm_link_text(succeeded, JUMP_URL)
    return texts


def admin_lines(job: Job) -> dict[str, str]:
    """Return the lines /queue-admin view shows for ``job`` waiting and running."""
    return {
        "admin waiting": job_line(job, 3),
        "admin running": job_line(replace(job, status=JobStatus.RUNNING), None),
    }


def result_embeds(job: Job, params: GenerationParams) -> dict[str, discord.Embed]:
    """Return the embeds of the posted result, for an image and for an upscale of it."""
    succeeded = replace(job, status=JobStatus.SUCCEEDED, result=_result(job))
    upscale = replace(params, kind="upscale", upscaler="R-ESRGAN 4x+", scale=2.0)
    return {
        "result": formatting.result_embed(succeeded, params, "imagine-4321-0.png"),
        "result without file": formatting.result_embed(succeeded, params, None),
        "upscale": formatting.result_embed(succeeded, upscale, "imagine-4321-0.png"),
    }


def _prompt(job: Job) -> str:
    return str(job.params["prompt"])


def _result(job: Job) -> dict[str, Any]:
    seeds = [1_234_567_890 + index for index in range(int(job.params.get("count", 1)))]
    images = [{"path": f"{job.id}/{index}.png", "seed": seed} for index, seed in enumerate(seeds)]
    return {"images": images, "sampler": job.params.get("sampler")}
