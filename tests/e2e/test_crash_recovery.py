"""Killing the bot mid-job and starting it again finishes every queued job."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

from fakewebui import FakeWebUI

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("bot_process.py")
JOBS = 8


async def start_bot(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_bot_killed_mid_job_loses_nothing(tmp_path: Path) -> None:
    # Slow enough that the kill lands while a generation is in flight.
    async with FakeWebUI(speed=40.0) as webui:
        first = await start_bot("enqueue", str(tmp_path), webui.url, str(JOBS))
        assert first.stdout is not None
        line = await asyncio.wait_for(first.stdout.readline(), timeout=60)
        assert line.strip() == b"QUEUED", (await first.stderr.read()).decode()[-3000:]
        while len(webui.requests) < 2:
            await asyncio.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        requests_before_restart = len(webui.requests)

        webui.speed = 2000.0
        second = await start_bot("resume", str(tmp_path), webui.url)
        stdout, stderr = await asyncio.wait_for(second.communicate(), timeout=120)

    assert second.returncode == 0, stderr.decode()[-3000:]
    jobs = json.loads(stdout.decode().strip().splitlines()[-1])
    assert [job["id"] for job in jobs] == list(range(1, JOBS + 1))
    assert all(job["status"] == "succeeded" for job in jobs), jobs
    # The offline Discord of the killed process is gone with it, so a job posted before the kill
    # is only known by its message id.
    assert all(job["result_message_id"] is not None for job in jobs), jobs
    assert sum(job["posted_in_this_run"] for job in jobs) >= JOBS - 2, jobs
    assert requests_before_restart < JOBS
    assert any(job["attempts"] == 1 for job in jobs), "the interrupted job was not counted"
