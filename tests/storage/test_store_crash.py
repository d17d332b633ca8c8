"""Tests that a process killed inside an open write transaction loses only uncommitted work."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from storage import JobStatus, JobStore, NewJob

MakeJob = Callable[..., NewJob]

REPO_ROOT = Path(__file__).resolve().parents[2]

# Enqueues and claims through JobStore (committed), then opens a second connection, writes
# enough uncommitted rows inside BEGIN IMMEDIATE to spill pages into the WAL, and exits
# without closing anything or running cleanup handlers.
CRASH_SCRIPT = """
import asyncio
import os
import sys

from storage import JobStore, NewJob
from storage.db import Database, fetch_all
from storage.rows import INSERT_JOB_SQL, new_job_values


async def main(path):
    store = await JobStore.open(path)
    for number in range(3):
        await store.enqueue(NewJob(1, 2, None, {"prompt": f"committed {number}"}))
    await store.claim("gpu-a")
    db = await Database.open(path, busy_timeout_ms=1000)
    async with db.transaction() as conn:
        big = NewJob(1, 2, None, {"prompt": "uncommitted " + "x" * 8000})
        for _ in range(500):
            await fetch_all(conn, INSERT_JOB_SQL, new_job_values(big, 0.0))
        await conn.execute("UPDATE jobs SET status = 'cancelled' WHERE id = 2")
        print("inside transaction", flush=True)
        os._exit(1)


asyncio.run(main(sys.argv[1]))
"""


def inspect_file(path: Path) -> tuple[str, int, bool]:
    conn = sqlite3.connect(path)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        rows = conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    finally:
        conn.close()
    return integrity, rows, Path(f"{path}-wal").exists()


async def run_crash_script(path: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CRASH_SCRIPT,
        str(path),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await process.communicate()
    assert process.returncode is not None
    return process.returncode, (stdout + stderr).decode()


async def test_crash_inside_transaction_keeps_committed_jobs(
    db_path: Path, make_job: MakeJob
) -> None:
    returncode, output = await run_crash_script(db_path)

    assert returncode == 1, output
    assert "inside transaction" in output
    integrity, rows, _ = inspect_file(db_path)
    assert integrity == "ok"
    assert rows == 3
    async with await JobStore.open(db_path) as store:
        jobs = await store.list_jobs()
        report = await store.recover()
        positions = await store.positions()
        new_job, ahead = await store.enqueue(make_job())

    assert [job.params["prompt"] for job in jobs] == [f"committed {n}" for n in range(3)]
    assert [job.status for job in jobs] == [JobStatus.RUNNING, JobStatus.QUEUED, JobStatus.QUEUED]
    assert report.requeued == [1]
    assert positions == {1: 0, 2: 1, 3: 2}
    assert new_job.id == 4
    assert ahead == 3
