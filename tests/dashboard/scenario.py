"""Jobs in every state, created on a FakeClock so every wait and run time is known exactly."""

from __future__ import annotations

from dataclasses import dataclass, field

from storage import Job, JobStore, NewJob
from tests.conftest import small_params

TOKEN = "test-dashboard-token-7f3a"
INTERACTION_TOKEN = "interaction-token-never-shown"
SCRIPT_PROMPT = "<script>alert('pwned')</script> & <b>bold</b>"
SNOWFLAKE = 123456789012345678
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# 20 s into a clock minute, so the chart's minutes are easy to reason about.
NOW = 1_750_000_040.0

OOM_ERROR = "The image server ran out of GPU memory. Try a smaller size or fewer images."
TIMEOUT_ERROR = (
    "The image server took longer than 900 seconds, so the job was stopped. "
    "Try fewer steps, a smaller size or fewer images."
)
INTERRUPTED = "the image server gpu-a closed the connection while working on it"

# (prompt, requester, enqueued this many seconds before NOW, wait s, run s)
SUCCESSES = [
    ("an old success", "olga", 7200.0, 2.0, 10.0),
    ("a red fox", "alice", 1800.0, 4.0, 16.0),
    ("a blue whale", "bob", 900.0, 45.0, 90.0),
    ("a slow harbour", "carol", 1500.0, 700.0, 2.0),
]
# (prompt, requester, enqueued this many seconds before NOW, error)
FAILURES = [
    ("a giant mural", "dave", 1200.0, OOM_ERROR),
    ("a tiny mural", "erin", 600.0, OOM_ERROR),
    ("a long epic", "frank", 300.0, TIMEOUT_ERROR),
]
RUNNING_PROMPT = "a lighthouse at dusk"
WAITING_PROMPTS = ["a castle on a hill", SCRIPT_PROMPT, "a forest in fog"]


class FakeClock:
    """Clock whose time the test sets through the now attribute, in unix seconds."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Scenario:
    """The store's jobs by role, in the order they were created."""

    store: JobStore
    clock: FakeClock
    succeeded: list[Job] = field(default_factory=list)
    failed: list[Job] = field(default_factory=list)
    cancelled: list[Job] = field(default_factory=list)
    running: list[Job] = field(default_factory=list)
    waiting: list[Job] = field(default_factory=list)


def new_job(prompt: str, requester: str, user_id: int = SNOWFLAKE) -> NewJob:
    params = small_params(prompt)
    return NewJob(
        user_id=user_id,
        channel_id=2002,
        guild_id=3003,
        params=params.to_dict(),
        requester_name=requester,
        interaction_token=INTERACTION_TOKEN,
    )


async def fill_store(store: JobStore, clock: FakeClock) -> Scenario:
    """Create finished, cancelled, running and waiting jobs, then set the clock to NOW."""
    scenario = Scenario(store, clock)
    for prompt, requester, ago, wait, run in SUCCESSES:
        job = await _start(store, clock, prompt, requester, NOW - ago, wait, "gpu-a")
        clock.now += run
        scenario.succeeded.append(await store.succeed(job.id, {"images": []}))
    for prompt, requester, ago, error in FAILURES:
        job = await _start(store, clock, prompt, requester, NOW - ago, 5.0, "gpu-b")
        clock.now += 30.0
        scenario.failed.append(await store.fail(job.id, error))
    clock.now = NOW - 200.0
    cancelled, _ = await store.enqueue(new_job("a cancelled cat", "gina"))
    scenario.cancelled.append(await _cancel(store, cancelled.id))
    running = await _start(store, clock, RUNNING_PROMPT, "henry", NOW - 100.0, 40.0, "gpu-a")
    scenario.running.append(running)
    first = await _start(store, clock, WAITING_PROMPTS[0], "ivy", NOW - 50.0, 1.0, "gpu-b")
    scenario.waiting.append(await store.requeue_interrupted(first.id, INTERRUPTED))
    for index, prompt in enumerate(WAITING_PROMPTS[1:], start=1):
        clock.now = NOW - 40.0 + index
        job, _ = await store.enqueue(new_job(prompt, f"member{index}"))
        scenario.waiting.append(job)
    clock.now = NOW
    return scenario


async def _start(
    store: JobStore,
    clock: FakeClock,
    prompt: str,
    requester: str,
    enqueued_at: float,
    wait: float,
    backend: str,
) -> Job:
    clock.now = enqueued_at
    job, _ = await store.enqueue(new_job(prompt, requester))
    clock.now += wait
    claimed = await store.claim(backend)
    assert claimed is not None and claimed.id == job.id
    return claimed


async def _cancel(store: JobStore, job_id: int) -> Job:
    cancelled = await store.cancel(job_id)
    assert cancelled is not None
    return cancelled
