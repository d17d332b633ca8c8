"""Audit a drill's outcome from the fake Discord's messages and the bot's job store.

A member "got an image" when a message with attachments and the job's embed footer
(``job N · backend``) exists, and "was told of a failure" when a message names the job and
starts its headline with ``Failed:``. Both are read from what the fake stored, so a kill that
hid a post from the bot still counts the post.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from storage import Job, JobStatus, JobStore
from tests.e2e.replay import SentRequest, TraceReplay
from tests.fakediscord import FakeDiscord, FakeMessage

_FOOTER_PREFIX = "job "
_FINAL_HEADLINES = ("Done.", "Failed:", "Cancelled.")


@dataclass
class AuditReport:
    """Per-job findings; the list fields hold job ids."""

    jobs: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    undelivered: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    duplicated: dict[int, int] = field(default_factory=dict)
    failed_without_notice: list[int] = field(default_factory=list)
    stale_status: list[int] = field(default_factory=list)
    queued_without_reply: list[int] = field(default_factory=list)
    interrupted_attempts: int = 0

    @property
    def duplicate_posts(self) -> int:
        """Result posts beyond the first, summed over all jobs."""
        return sum(count - 1 for count in self.duplicated.values())

    def figures(self) -> dict[str, Any]:
        """Return the findings as JSON-ready counts, with the job ids of every fault."""
        return {
            "jobs": self.jobs,
            "by_status": self.by_status,
            "lost": len(self.lost),
            "duplicate_posts": self.duplicate_posts,
            "failed_without_notice": len(self.failed_without_notice),
            "undelivered": len(self.undelivered),
            "stale_status_messages": len(self.stale_status),
            "queued_without_reply": len(self.queued_without_reply),
            "interrupted_attempts": self.interrupted_attempts,
            "fault_job_ids": {
                "lost": self.lost,
                "duplicated": sorted(self.duplicated),
                "failed_without_notice": self.failed_without_notice,
                "undelivered": self.undelivered,
                "stale_status": self.stale_status,
                "queued_without_reply": self.queued_without_reply,
            },
        }


async def audit_drill(fake: FakeDiscord, store: JobStore, replay: TraceReplay) -> AuditReport:
    """Compare the replies, posts and notices members got with the job store, job by job."""
    jobs = {job.id: job for job in await store.list_jobs(limit=1_000_000)}
    messages = [message for message in fake.state.messages.values() if not message.deleted]
    posts = _result_posts(messages, fake.bot.id)
    notices = _failure_notices(messages)
    told = replay.queued()
    report = AuditReport(jobs=len(jobs))
    report.by_status = dict(Counter(str(job.status) for job in jobs.values()))
    report.interrupted_attempts = sum(job.attempts for job in jobs.values())
    report.duplicated = {job_id: count for job_id, count in posts.items() if count > 1}
    for job_id, sent in told.items():
        if not posts.get(job_id) and job_id not in notices:
            report.lost.append(job_id)
        assert sent.interaction is not None and sent.interaction.original is not None
        if not _shows_outcome(sent.interaction.original):
            report.stale_status.append(job_id)
    for job in jobs.values():
        _check_job(job, report, told, notices)
    return report


def _check_job(
    job: Job, report: AuditReport, told: dict[int, SentRequest], notices: set[int]
) -> None:
    if job.status is JobStatus.FAILED and job.id not in notices:
        report.failed_without_notice.append(job.id)
    if job.delivered_at is None:
        report.undelivered.append(job.id)
    if job.id not in told:
        report.queued_without_reply.append(job.id)


def _result_posts(messages: list[FakeMessage], bot_id: int) -> Counter[int]:
    posts: Counter[int] = Counter()
    for message in messages:
        if message.author.id != bot_id or not message.attachments:
            continue
        for embed in message.embeds:
            footer = str((embed.get("footer") or {}).get("text", ""))
            job_number = footer.removeprefix(_FOOTER_PREFIX).split(" ", 1)[0]
            if footer.startswith(_FOOTER_PREFIX) and job_number.isdigit():
                posts[int(job_number)] += 1
    return posts


def _failure_notices(messages: list[FakeMessage]) -> set[int]:
    notified = set()
    for message in messages:
        headline = message.content.split("\n", 1)[0]
        if "Failed:" not in headline:
            continue
        job_number = headline.rsplit("(job ", 1)[-1].split(")", 1)[0]
        if job_number.isdigit():
            notified.add(int(job_number))
    return notified


def _shows_outcome(message: FakeMessage) -> bool:
    headline = message.content.split("\n", 1)[0]
    return any(final in headline for final in _FINAL_HEADLINES)
