"""The hooks through which the queue tells the chat side what happened to a job."""

from __future__ import annotations

from typing import Protocol

from storage import Job


class JobEvents(Protocol):
    """Receives job lifecycle events; the Discord side implements it."""

    async def job_started(self, job: Job) -> None:
        """Show that ``job`` is now running on ``job.backend``."""

    async def job_finished(self, job: Job) -> None:
        """Send the requester the outcome of a terminal ``job`` and record the delivery."""


class NoEvents:
    """A JobEvents that does nothing, for running the queue without a chat side."""

    async def job_started(self, job: Job) -> None:
        return None

    async def job_finished(self, job: Job) -> None:
        return None
