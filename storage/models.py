"""Job records as the job store accepts and returns them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    """Lifecycle state of a job: queued, then running, then one terminal state.

    A queued job may also go straight to failed or cancelled, and a running job may go back to
    queued when its run was interrupted.
    """

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Whether the status is final: succeeded, failed or cancelled."""
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


@dataclass(frozen=True, slots=True)
class NewJob:
    """A generation request as the bot receives it, before the job store assigns an id.

    The Discord fields let a worker finish the job after a restart. Discord accepts follow-up
    messages with the interaction token for 15 minutes after interaction_created_at, and
    attachment_size_limit and app_permissions describe what the bot may post in the channel.
    model is the checkpoint name the job must run with, so only a backend that has it claims
    the job, or None for a job that any backend runs with the model it has loaded.
    """

    user_id: int
    channel_id: int
    guild_id: int | None
    params: Mapping[str, Any]
    requester_name: str = ""
    application_id: int | None = None
    interaction_token: str | None = field(default=None, repr=False)
    interaction_created_at: float | None = None
    attachment_size_limit: int | None = None
    app_permissions: int | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        # An empty name would match no backend, so the job could never be claimed.
        if self.model is not None and not self.model.strip():
            raise ValueError(
                f"model {self.model!r} is invalid; pass a checkpoint name, or None for any model."
            )


@dataclass(frozen=True, slots=True)
class Job:
    """A stored job: the request, its status and what happened to it.

    Times are unix seconds from the job store's clock, and params and result hold the decoded
    JSON. attempts counts the runs that were interrupted. error is the reason a job failed, or
    for a queued job the reason its last run was interrupted. delivery_note is the message the
    requester received when the outcome could not be posted in the channel, or None if it was.
    model is the checkpoint the job must run with, or None for any backend's loaded model.
    """

    id: int
    status: JobStatus
    user_id: int
    channel_id: int
    guild_id: int | None
    params: dict[str, Any]
    requester_name: str
    application_id: int | None
    interaction_token: str | None = field(repr=False)
    interaction_created_at: float | None
    attachment_size_limit: int | None
    app_permissions: int | None
    backend: str | None
    status_channel_id: int | None
    status_message_id: int | None
    result_message_id: int | None
    result: dict[str, Any] | None
    attempts: int
    enqueued_at: float
    started_at: float | None
    finished_at: float | None
    delivered_at: float | None
    error: str | None
    # Last, with defaults, so code that builds a Job positionally keeps working.
    delivery_note: str | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """Jobs that recovery found running: ids put back in the queue, and jobs given up."""

    requeued: list[int]
    failed: list[Job]


@dataclass(frozen=True, slots=True)
class UserPrefs:
    """A member's direct-message preferences, with the defaults for a member never stored.

    dm_opt_in is whether the member asked to receive direct messages from the bot.
    dm_blocked_at is the unix time Discord last rejected a direct message to the member, or None.
    """

    user_id: int
    dm_opt_in: bool = False
    dm_blocked_at: float | None = None
