"""Read request traces: JSON lines recorded from a public Stable Diffusion Discord channel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

# The 2022 bot spelled samplers after the k-diffusion functions; these are the WebUI's names.
SAMPLER_NAMES = {
    "k_euler_ancestral": "Euler a",
    "k_euler": "Euler",
    "k_lms": "LMS",
    "k_heun": "Heun",
    "k_dpm_2": "DPM2",
    "k_dpm_2_ancestral": "DPM2 a",
    "ddim": "DDIM",
    "plms": "PLMS",
}


class TraceError(ValueError):
    """A trace file cannot be read; the message names the file, the line and the fix."""


@dataclass(frozen=True, slots=True)
class TraceRequest:
    """One recorded request, as the member would type it into /imagine."""

    user: str
    prompt: str
    seconds: float | None
    options: dict[str, Any]


def default_trace_path() -> Path:
    """Return the 500-request sample shipped with the package."""
    return Path(str(resources.files("engine") / "data" / "trace-sample.jsonl"))


def read_trace(path: Path) -> Iterator[TraceRequest]:
    """Yield the requests of a JSON-lines trace in file order."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise TraceError(
            f"trace file {str(path)!r} cannot be read ({exc.strerror}); check the path"
        ) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            yield _request(record)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise TraceError(
                f"{path}:{number}: not a trace record ({exc}); each line must be a JSON object "
                f"with at least 'user' and 'prompt'"
            ) from None


def _request(record: dict[str, Any]) -> TraceRequest:
    options: dict[str, Any] = {}
    for key in ("width", "height", "steps", "seed"):
        if key in record:
            options[key] = int(record[key])
    if "cfg_scale" in record:
        options["cfg_scale"] = float(record["cfg_scale"])
    if "n_images" in record:
        options["count"] = int(record["n_images"])
    if record.get("sampler"):
        options["sampler"] = SAMPLER_NAMES.get(record["sampler"], record["sampler"])
    seconds = record.get("seconds")
    return TraceRequest(
        user=str(record["user"]),
        prompt=str(record["prompt"]),
        seconds=float(seconds) if seconds is not None else None,
        options=options,
    )
