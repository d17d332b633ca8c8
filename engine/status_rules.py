"""Status message contents, and the rules that decide when a change to one is worth an edit."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from storage import Job


class StatusKind(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"


@dataclass(frozen=True, slots=True)
class StatusView:
    """Content of a status message; ``eta`` is a unix time (start if queued, end if running)."""

    kind: StatusKind
    ahead: int = 0
    eta: float | None = None
    step: int = 0
    steps: int = 0
    note: str | None = None
    preview: bytes | None = field(default=None, compare=False, repr=False)


class StatusSender(Protocol):
    """Sends one status edit; the Discord side implements it."""

    async def send_status(self, job: Job, view: StatusView, *, via_token: bool) -> None:
        """Show ``view`` in the job's status message, through its interaction token if via_token."""


@dataclass(frozen=True, slots=True)
class StatusPolicy:
    """When a status message is worth an edit."""

    exact_positions: int = 10
    max_staleness_s: float = 900.0
    progress_interval_s: float = 5.0
    preview_interval_s: float = 15.0
    debounce_s: float = 0.02
    # Seconds an edit near the front or a change of state waits, so that the changes made
    # meanwhile go out in the same edit. Near the front, each finished job changes every message,
    # so this trades a number shown up to this much late for fewer edits.
    coalesce_s: float = 0.0
    token_reuse_max_s: float = 840.0
    # Edits in flight at once; the pacer still decides when each may go out. Far-back edits
    # (round steps, staleness) take at most max_far_edits of them, so that a burst of them after
    # a recount of the whole queue never delays the edits near the front.
    max_concurrent_edits: int = 10
    max_far_edits: int = 3
    # Minimum seconds between recounts of the whole queue. The front is recounted on every
    # change, and a slow recount spaces the next one out, so a long queue cannot take over the loop.
    full_recount_min_s: float = 1.0


def crossed_round_step(shown: int, now: int, exact_positions: int) -> bool:
    """Return whether a position moved from ``shown`` to ``now`` across a round step.

    The steps are every 100 above 100, then 50, 25 and the start of the exact zone.
    """
    for step in (exact_positions, 25, 50):
        if step >= exact_positions and now <= step < shown:
            return True
    # The largest multiple of 100 below shown. Any smaller step that was crossed lies above it.
    hundred = (shown - 1) // 100 * 100
    return hundred >= max(100, now, exact_positions)


def differs(first: StatusView, second: StatusView) -> bool:
    """Return whether two views differ in what a member reads (the ETA counts down by itself)."""
    return _read_fields(first) != _read_fields(second)


def _read_fields(view: StatusView) -> tuple[object, ...]:
    return (view.kind, view.ahead, view.note, view.step)
