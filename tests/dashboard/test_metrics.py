"""GET /metrics: the Prometheus text format 0.0.4, checked with a small parser."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from dashboard import DashboardServer
from dashboard.metrics import BUCKETS_S, bucket_counts, reason_class
from engine import Backend, ImageStore, QueueService
from sdclient import SDClient
from storage import JobStore
from tests.dashboard.conftest import LiveQueue
from tests.dashboard.scenario import AUTH, OOM_ERROR, TIMEOUT_ERROR, TOKEN, Scenario

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
HELP = re.compile(r"^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$")
TYPE = re.compile(r"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
LE_BOUNDS = [*(str(bound) for bound in BUCKETS_S), "+Inf"]


@dataclass
class Family:
    name: str
    kind: str = ""
    help: str = ""
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def value(self, name: str, **labels: str) -> float:
        matches = [v for n, ls, v in self.samples if n == name and ls == labels]
        assert len(matches) == 1, f"{name}{labels} appears {len(matches)} times"
        return matches[0]


def parse_labels(text: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = LABEL.match(text, position)
        assert match is not None, f"bad label syntax at {text[position:]!r}"
        raw = match.group(2)
        labels[match.group(1)] = re.sub(
            r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), raw
        )
        position = match.end()
    return labels


def family_of(sample_name: str, families: dict[str, Family]) -> Family:
    if sample_name in families:
        return families[sample_name]
    for suffix in HISTOGRAM_SUFFIXES:
        base = sample_name.removesuffix(suffix)
        if base != sample_name and families.get(base, Family(base)).kind == "histogram":
            return families[base]
    raise AssertionError(f"sample {sample_name} has no TYPE line before it")


def parse_exposition(text: str) -> dict[str, Family]:
    """Parse the text format, asserting the syntax of every line."""
    assert text.endswith("\n")
    families: dict[str, Family] = {}
    for line in text.splitlines():
        if help_match := HELP.match(line):
            families.setdefault(help_match[1], Family(help_match[1])).help = help_match[2]
        elif type_match := TYPE.match(line):
            family = families.setdefault(type_match[1], Family(type_match[1]))
            assert not family.samples, f"TYPE of {family.name} after its samples"
            family.kind = type_match[2]
        else:
            sample = SAMPLE.match(line)
            assert sample is not None, f"not a sample line: {line!r}"
            value = float(sample[3])
            family_of(sample[1], families).samples.append(
                (sample[1], parse_labels(sample[2] or ""), value)
            )
    for family in families.values():
        assert family.kind, f"{family.name} has no TYPE line"
        assert family.help, f"{family.name} has no HELP line"
    return families


def check_histogram(family: Family) -> list[float]:
    """Assert the bucket rules of a histogram and return its cumulative bucket counts."""
    buckets = [(labels["le"], value) for name, labels, value in family.samples if "le" in labels]
    assert [bound for bound, _ in buckets] == LE_BOUNDS
    counts = [value for _, value in buckets]
    assert counts == sorted(counts), "bucket counts are not cumulative"
    assert family.value(f"{family.name}_count") == counts[-1]
    return counts


async def get_metrics(session: aiohttp.ClientSession, server: DashboardServer) -> str:
    async with session.get(f"{server.url}/metrics", headers=AUTH) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        return await response.text()


async def test_metrics_every_line_parses(session, dashboard) -> None:
    families = parse_exposition(await get_metrics(session, dashboard))

    assert {name: family.kind for name, family in families.items()} == {
        "imagine_queue_jobs": "gauge",
        "imagine_job_wait_seconds": "histogram",
        "imagine_job_run_seconds": "histogram",
        "imagine_failed_jobs": "gauge",
        "imagine_backend_up": "gauge",
    }


async def test_metrics_queue_jobs_by_status(session, dashboard) -> None:
    families = parse_exposition(await get_metrics(session, dashboard))

    jobs = families["imagine_queue_jobs"]
    expected = {"queued": 3, "running": 1, "succeeded": 4, "failed": 3, "cancelled": 1}
    for status, count in expected.items():
        assert jobs.value("imagine_queue_jobs", status=status) == count


async def test_metrics_wait_histogram(session, dashboard) -> None:
    families = parse_exposition(await get_metrics(session, dashboard))

    wait = families["imagine_job_wait_seconds"]
    # The four successes waited 2, 4, 45 and 700 seconds.
    assert check_histogram(wait) == [0, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4]
    assert wait.value("imagine_job_wait_seconds_sum") == 751.0
    assert wait.value("imagine_job_wait_seconds_count") == 4


async def test_metrics_run_histogram(session, dashboard) -> None:
    families = parse_exposition(await get_metrics(session, dashboard))

    run = families["imagine_job_run_seconds"]
    # The four successes ran 10, 16, 90 and 2 seconds.
    assert check_histogram(run) == [0, 1, 2, 3, 3, 4, 4, 4, 4, 4, 4]
    assert run.value("imagine_job_run_seconds_sum") == 118.0


async def test_metrics_failures_by_reason(session, dashboard) -> None:
    families = parse_exposition(await get_metrics(session, dashboard))

    failed = families["imagine_failed_jobs"]
    reasons = {labels["reason"]: value for _, labels, value in failed.samples}
    assert reasons == {"the image server ran": 2, "the image server took": 1}


async def test_metrics_backend_up_before_start(session, dashboard) -> None:
    families = parse_exposition(await get_metrics(session, dashboard))

    up = families["imagine_backend_up"]
    assert up.value("imagine_backend_up", backend="gpu-a") == 1
    assert up.value("imagine_backend_up", backend="gpu-b") == 1


async def test_metrics_backend_down(session, live: LiveQueue) -> None:
    families = parse_exposition(await get_metrics(session, live.dashboard))

    up = families["imagine_backend_up"]
    assert up.value("imagine_backend_up", backend="gpu-a") == 1
    assert up.value("imagine_backend_up", backend="gpu-b") == 0


async def test_metrics_label_escaping(
    session: aiohttp.ClientSession, scenario: Scenario, tmp_path: Path
) -> None:
    name = 'gpu "east"\\1\nrack'
    backends = [Backend(name, SDClient(session, "http://127.0.0.1:7860"))]
    service = QueueService(scenario.store, backends, ImageStore(tmp_path), clock=scenario.clock)
    server = DashboardServer(service, token=TOKEN)
    await server.start()
    try:
        text = await get_metrics(session, server)
    finally:
        await server.stop()

    assert 'backend="gpu \\"east\\"\\\\1\\nrack"' in text
    families = parse_exposition(text)
    assert families["imagine_backend_up"].value("imagine_backend_up", backend=name) == 1


async def test_metrics_empty_store(session: aiohttp.ClientSession, tmp_path: Path) -> None:
    async with await JobStore.open(tmp_path / "empty.db") as store:
        service = QueueService(store, [], ImageStore(tmp_path))
        server = DashboardServer(service, token=TOKEN)
        await server.start()
        try:
            families = parse_exposition(await get_metrics(session, server))
        finally:
            await server.stop()

    assert {value for _, _, value in families["imagine_queue_jobs"].samples} == {0}
    for histogram in ("imagine_job_wait_seconds", "imagine_job_run_seconds"):
        assert check_histogram(families[histogram]) == [0] * 11
        assert families[histogram].value(f"{histogram}_sum") == 0
    assert families["imagine_failed_jobs"].samples == []
    assert families["imagine_backend_up"].samples == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OOM_ERROR, "the image server ran"),
        (TIMEOUT_ERROR, "the image server took"),
        ("The image server failed (Exception: boom).", "the image server failed"),
        ("Oops!", "oops"),
        ("", "unknown"),
        (None, "unknown"),
        ("!!! ???", "unknown"),
    ],
)
def test_reason_class_first_words(error: str | None, expected: str) -> None:
    assert reason_class(error) == expected


def test_bucket_counts_bounds_inclusive() -> None:
    assert bucket_counts([1.0, 1.5, 5.0, 7200.0], (1, 5)) == [1, 3, 4]


def test_bucket_counts_empty() -> None:
    assert bucket_counts([], BUCKETS_S) == [0] * (len(BUCKETS_S) + 1)
