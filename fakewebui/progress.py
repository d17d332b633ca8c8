"""The global job state that ``/sdapi/v1/progress`` reports, with A1111 1.10 semantics.

While idle (``job_count == 0``) progress is 0 and no preview is sent, but the other fields keep
the values of the last job: A1111 resets them only when the next job begins. Before the first
job ``job_timestamp`` is ``"0"``. While busy, progress never drops below 0.01.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fakewebui import images


@dataclass(frozen=True)
class PreviewSource:
    """Prompt, seed and size of the image that the live preview shows."""

    prompt: str
    seed: int
    width: int
    height: int


@dataclass
class ProgressState:
    """Fields of A1111's ``shared.state`` that the progress route reports."""

    skipped: bool = False
    interrupted: bool = False
    stopping_generation: bool = False
    job: str = ""
    job_count: int = 0
    job_timestamp: str = "0"
    job_no: int = 0
    sampling_step: int = 0
    sampling_steps: int = 0
    textinfo: str | None = None
    time_start: float | None = None
    current_image: str | None = None
    current_image_sampling_step: int = 0
    preview: PreviewSource | None = field(default=None, repr=False)

    def begin(self, job: str, job_count: int) -> None:
        """Reset the counters and flags for a new job, as ``shared.state.begin`` does."""
        self.skipped = False
        self.interrupted = False
        self.stopping_generation = False
        self.job = job
        self.job_count = job_count
        self.job_timestamp = datetime.now().strftime("%Y%m%d%H%M%S")
        self.job_no = 0
        self.sampling_step = 0
        self.sampling_steps = 0
        self.textinfo = None
        self.time_start = time.monotonic()
        self.current_image = None
        self.current_image_sampling_step = 0
        self.preview = None

    def start_pass(self, job_no: int, steps: int, preview: PreviewSource) -> None:
        """Record that sampling pass ``job_no`` of ``steps`` steps starts."""
        self.job_no = job_no
        self.sampling_step = 0
        self.sampling_steps = steps
        self.current_image_sampling_step = 0
        self.preview = preview

    def end(self) -> None:
        """Mark the job finished, keeping the step counters and flags as A1111 does."""
        self.job = ""
        self.job_count = 0
        self.preview = None

    @property
    def busy(self) -> bool:
        """Whether a job is running."""
        return self.job_count != 0

    def fraction(self) -> float:
        """Return A1111's progress value, 0 when idle and at least 0.01 when busy."""
        if not self.busy:
            return 0.0
        progress = 0.01 + self.job_no / self.job_count
        if self.sampling_steps > 0:
            progress += self.sampling_step / self.sampling_steps / self.job_count
        return min(progress, 1.0)

    def as_dict(self) -> dict[str, Any]:
        """Return the ``state`` object of the progress response."""
        return {
            "skipped": self.skipped,
            "interrupted": self.interrupted,
            "stopping_generation": self.stopping_generation,
            "job": self.job,
            "job_count": self.job_count,
            "job_timestamp": self.job_timestamp,
            "job_no": self.job_no,
            "sampling_step": self.sampling_step,
            "sampling_steps": self.sampling_steps,
        }


def progress_response(
    state: ProgressState, options: dict[str, Any], *, skip_current_image: bool
) -> dict[str, Any]:
    """Build the body of ``GET /sdapi/v1/progress``."""
    if not state.busy:
        return {
            "progress": 0,
            "eta_relative": 0,
            "state": state.as_dict(),
            "current_image": None,
            "textinfo": state.textinfo,
        }
    progress = state.fraction()
    elapsed = time.monotonic() - (state.time_start or time.monotonic())
    _refresh_preview(state, options)
    return {
        "progress": progress,
        "eta_relative": elapsed / progress - elapsed,
        "state": state.as_dict(),
        "current_image": None if skip_current_image else state.current_image,
        "textinfo": state.textinfo,
    }


def _refresh_preview(state: ProgressState, options: dict[str, Any]) -> None:
    # A1111 decodes a new preview on a progress poll once enough steps passed since the last one.
    every_n_steps = options.get("show_progress_every_n_steps", 10)
    if state.preview is None or not options.get("live_previews_enable", True):
        return
    if not isinstance(every_n_steps, int) or every_n_steps == -1:
        return
    if state.sampling_step - state.current_image_sampling_step < every_n_steps:
        return
    if state.sampling_step == 0:
        return
    source = state.preview
    fraction = state.sampling_step / max(state.sampling_steps, 1)
    png = images.render_preview(source.prompt, source.seed, source.width, source.height, fraction)
    state.current_image = base64.b64encode(png).decode("ascii")
    state.current_image_sampling_step = state.sampling_step
