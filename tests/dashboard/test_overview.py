"""GET /api/overview against a real job store with jobs in every state."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from dashboard import DashboardServer
from storage import JobStatus
from tests.dashboard.conftest import LiveQueue
from tests.dashboard.scenario import (
    AUTH,
    INTERACTION_TOKEN,
    INTERRUPTED,
    NOW,
    OOM_ERROR,
    SCRIPT_PROMPT,
    SNOWFLAKE,
    TIMEOUT_ERROR,
    WAITING_PROMPTS,
    FakeClock,
    Scenario,
    new_job,
)


async def get_overview(session: aiohttp.ClientSession, server: DashboardServer) -> dict[str, Any]:
    async with session.get(f"{server.url}/api/overview", headers=AUTH) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        return await response.json()


async def test_overview_counts_every_status(session, dashboard) -> None:
    overview = await get_overview(session, dashboard)

    assert overview["counts"] == {
        "queued": 3,
        "running": 1,
        "succeeded": 4,
        "failed": 3,
        "cancelled": 1,
    }
    assert overview["generated_at"] == NOW
    assert overview["policy"] == "fifo"


async def test_overview_running_job(session, dashboard, scenario: Scenario) -> None:
    overview = await get_overview(session, dashboard)

    [running] = overview["running"]
    assert running["id"] == scenario.running[0].id
    assert running["status"] == "running"
    assert running["prompt"] == "a lighthouse at dusk"
    assert running["requester"] == "henry"
    assert running["backend"] == "gpu-a"
    assert running["started_at"] == NOW - 60.0
    assert running["wait_s"] == 40.0
    assert running["run_s"] is None


async def test_overview_waiting_in_claim_order(session, dashboard, scenario: Scenario) -> None:
    overview = await get_overview(session, dashboard)

    waiting = overview["waiting"]
    assert waiting["total"] == 3
    assert [job["id"] for job in waiting["jobs"]] == [job.id for job in scenario.waiting]
    assert [job["position"] for job in waiting["jobs"]] == [1, 2, 3]
    assert [job["ahead"] for job in waiting["jobs"]] == [1, 2, 3]
    assert [job["prompt"] for job in waiting["jobs"]] == WAITING_PROMPTS


async def test_overview_waiting_job_keeps_interruption(session, dashboard) -> None:
    overview = await get_overview(session, dashboard)

    first = overview["waiting"]["jobs"][0]
    assert first["attempts"] == 1
    assert first["error"] == INTERRUPTED
    assert first["started_at"] is None
    assert first["wait_s"] is None


async def test_overview_waiting_capped_at_100(session, dashboard, scenario: Scenario) -> None:
    for index in range(100):
        await scenario.store.enqueue(new_job(f"extra {index}", "zoe"))

    overview = await get_overview(session, dashboard)

    waiting = overview["waiting"]
    assert waiting["total"] == 103
    assert len(waiting["jobs"]) == 100
    assert waiting["jobs"][-1]["position"] == 100
    assert waiting["jobs"][-1]["ahead"] == 100


async def test_overview_successes_newest_first(session, dashboard, scenario: Scenario) -> None:
    overview = await get_overview(session, dashboard)

    fox, whale, harbour, old = (scenario.succeeded[i].id for i in (1, 2, 3, 0))
    successes = overview["successes"]
    assert [job["id"] for job in successes] == [whale, harbour, fox, old]
    assert [job["wait_s"] for job in successes] == [45.0, 700.0, 4.0, 2.0]
    assert [job["run_s"] for job in successes] == [90.0, 2.0, 16.0, 10.0]
    assert successes[0]["finished_at"] == NOW - 765.0


async def test_overview_failures_with_reasons(session, dashboard, scenario: Scenario) -> None:
    overview = await get_overview(session, dashboard)

    failures = overview["failures"]
    assert [job["id"] for job in failures] == [job.id for job in reversed(scenario.failed)]
    assert [job["error"] for job in failures] == [TIMEOUT_ERROR, OOM_ERROR, OOM_ERROR]
    assert [job["backend"] for job in failures] == ["gpu-b"] * 3


async def test_overview_hides_interaction_token(session, dashboard) -> None:
    async with session.get(f"{dashboard.url}/api/overview", headers=AUTH) as response:
        body = await response.text()

    assert INTERACTION_TOKEN not in body
    assert "interaction_token" not in body


async def test_overview_keeps_prompt_text_verbatim(session, dashboard) -> None:
    overview = await get_overview(session, dashboard)

    prompts = [job["prompt"] for job in overview["waiting"]["jobs"]]
    assert SCRIPT_PROMPT in prompts


async def test_overview_user_id_as_string(session, dashboard) -> None:
    async with session.get(f"{dashboard.url}/api/overview", headers=AUTH) as response:
        body = await response.text()

    overview = json.loads(body)
    assert overview["running"][0]["user_id"] == str(SNOWFLAKE)
    assert str(SNOWFLAKE) in body


async def test_overview_backends_without_credentials(session, dashboard) -> None:
    overview = await get_overview(session, dashboard)

    assert overview["backends"] == [
        {"name": "gpu-a", "url": "http://127.0.0.1:7860", "up": True},
        {"name": "gpu-b", "url": "http://127.0.0.1:7861", "up": True},
    ]
    assert "hunter2" not in json.dumps(overview)


async def test_overview_backend_down(session, live: LiveQueue) -> None:
    overview = await get_overview(session, live.dashboard)

    states = {backend["name"]: backend["up"] for backend in overview["backends"]}
    assert states == {"gpu-a": True, "gpu-b": False}
    [running] = overview["running"]
    assert running["backend"] == "gpu-a"


async def test_overview_chart_last_hour(session, dashboard) -> None:
    overview = await get_overview(session, dashboard)

    chart = overview["chart"]
    points = chart["points"]
    first = NOW - 20.0 - 59 * 60
    assert chart["minute_s"] == 60
    assert len(points) == 60
    assert [point["start"] for point in points] == [first + 60 * i for i in range(60)]
    # The success from two hours ago is outside the hour.
    assert sum(point["finished"] for point in points) == 6
    busy = {index: point for index, point in enumerate(points) if point["finished"]}
    assert sorted(busy) == [29, 39, 46, 49, 54]
    assert busy[46]["succeeded"] == 2
    assert busy[46]["mean_wait_s"] == (45.0 + 700.0) / 2
    assert busy[39]["failed"] == 1
    assert busy[39]["mean_wait_s"] == 5.0
    assert points[0]["mean_wait_s"] is None


async def test_overview_chart_follows_clock(session, dashboard, clock: FakeClock) -> None:
    clock.now = NOW + 3600.0

    overview = await get_overview(session, dashboard)

    assert sum(point["finished"] for point in overview["chart"]["points"]) == 0
    assert overview["generated_at"] == NOW + 3600.0
    assert len(overview["successes"]) == 4


async def test_overview_empty_store(session, dashboard, scenario: Scenario) -> None:
    for job in scenario.waiting + scenario.running:
        await scenario.store.cancel(job.id)

    overview = await get_overview(session, dashboard)

    assert overview["running"] == []
    assert overview["waiting"] == {"total": 0, "jobs": []}
    assert overview["counts"][str(JobStatus.CANCELLED)] == 5


async def test_overview_closed_store_503(session, dashboard, scenario: Scenario, caplog) -> None:
    await scenario.store.close()

    for path in ("/api/overview", "/metrics"):
        async with session.get(f"{dashboard.url}{path}", headers=AUTH) as response:
            body = await response.text()

        assert response.status == 503, path
        assert body.startswith("503: Reading the job store failed."), path
    failures = [r.getMessage() for r in caplog.records if r.name == "dashboard.app"]
    assert len(failures) == 2
    assert failures[0].startswith("dashboard /api/overview failed to read the job store: ")
