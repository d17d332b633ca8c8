"""The /metrics body in the Prometheus text exposition format, version 0.0.4.

Queue lengths and backend states are read at scrape time. The wait and run histograms and the
failure counts describe a window: the HISTORY_WINDOW most recent succeeded jobs and the
HISTORY_WINDOW most recent failed jobs, by job id. They can therefore go down between scrapes
as old jobs leave the window, so read them as they are (for example with histogram_quantile
over the buckets) rather than through rate() or increase().
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from engine import QueueService
from storage import Job, JobStatus

from .history import newest_jobs, run_seconds, wait_seconds

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HISTORY_WINDOW = 1000
BUCKETS_S: tuple[float, ...] = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
# A failure's reason class is the first few words of its error, which the bot writes from a
# small set of sentences, so the label has few values.
REASON_WORDS = 4

_WORD = re.compile(r"[a-z0-9]+")


async def render_metrics(service: QueueService) -> str:
    """Read the queue's state and return it as a Prometheus text exposition."""
    store = service.store
    counts = await store.counts()
    succeeded = await newest_jobs(
        store, JobStatus.SUCCEEDED, counts[JobStatus.SUCCEEDED], limit=HISTORY_WINDOW
    )
    failed = await newest_jobs(
        store, JobStatus.FAILED, counts[JobStatus.FAILED], limit=HISTORY_WINDOW
    )
    lines = [
        *_queue_lines(counts),
        *_duration_lines(succeeded),
        *_failure_lines(failed),
        *_backend_lines(service),
    ]
    return "\n".join(lines) + "\n"


def _queue_lines(counts: dict[JobStatus, int]) -> list[str]:
    lines = _family("imagine_queue_jobs", "gauge", "Jobs in the job store, by status.")
    for status, count in counts.items():
        lines.append(_sample("imagine_queue_jobs", {"status": str(status)}, count))
    return lines


def _duration_lines(succeeded: list[Job]) -> list[str]:
    waits = [wait for job in succeeded if (wait := wait_seconds(job)) is not None]
    runs = [run for job in succeeded if (run := run_seconds(job)) is not None]
    return [
        *_histogram(
            "imagine_job_wait_seconds",
            f"Seconds from enqueue to start, over the {HISTORY_WINDOW} newest succeeded jobs.",
            waits,
        ),
        *_histogram(
            "imagine_job_run_seconds",
            f"Seconds from start to finish, over the {HISTORY_WINDOW} newest succeeded jobs.",
            runs,
        ),
    ]


def _failure_lines(failed: list[Job]) -> list[str]:
    lines = _family(
        "imagine_failed_jobs",
        "gauge",
        f"Failed jobs among the {HISTORY_WINDOW} newest failed jobs, by the first "
        f"{REASON_WORDS} words of the error.",
    )
    reasons = Counter(reason_class(job.error) for job in failed)
    for reason, count in sorted(reasons.items()):
        lines.append(_sample("imagine_failed_jobs", {"reason": reason}, count))
    return lines


def _backend_lines(service: QueueService) -> list[str]:
    lines = _family("imagine_backend_up", "gauge", "1 if the backend's worker reaches it, else 0.")
    down = set(service.backends_down())
    for backend in service.backends:
        up = 0 if backend.name in down else 1
        lines.append(_sample("imagine_backend_up", {"backend": backend.name}, up))
    return lines


def reason_class(error: str | None) -> str:
    """Return the first REASON_WORDS words of ``error`` in lower case, or "unknown" if none."""
    words = _WORD.findall((error or "").lower())[:REASON_WORDS]
    return " ".join(words) or "unknown"


def bucket_counts(values: Iterable[float], bounds: Sequence[float]) -> list[int]:
    """Return the cumulative count of values at or below each bound, then the total for +Inf."""
    ordered = sorted(values)
    counts = [bisect.bisect_right(ordered, bound) for bound in bounds]
    return [*counts, len(ordered)]


def _histogram(name: str, help_text: str, values: list[float]) -> list[str]:
    lines = _family(name, "histogram", help_text)
    bounds = [*(_format_value(bound) for bound in BUCKETS_S), "+Inf"]
    for bound, count in zip(bounds, bucket_counts(values, BUCKETS_S), strict=True):
        lines.append(_sample(f"{name}_bucket", {"le": bound}, count))
    lines.append(_sample(f"{name}_sum", {}, float(sum(values))))
    lines.append(_sample(f"{name}_count", {}, len(values)))
    return lines


def _family(name: str, kind: str, help_text: str) -> list[str]:
    escaped = help_text.replace("\\", "\\\\").replace("\n", "\\n")
    return [f"# HELP {name} {escaped}", f"# TYPE {name} {kind}"]


def _sample(name: str, labels: dict[str, str], value: float) -> str:
    if not labels:
        return f"{name} {_format_value(value)}"
    pairs = ",".join(f'{key}="{_escape_label(text)}"' for key, text in labels.items())
    return f"{name}{{{pairs}}} {_format_value(value)}"


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _format_value(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)
