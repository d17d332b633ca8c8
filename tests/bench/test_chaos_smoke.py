"""bench/chaos.py runs all three drills at a tiny size and prints its figures as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "chaos.py"
TINY = [
    "--jobs", "10",
    "--kills", "2",
    "--webui-jobs", "6",
    "--webui-kills", "1",
    "--outage-jobs", "6",
    "--outage-s", "1",
    "--gap-ms", "150",
    "--settle-timeout-s", "60",
]  # fmt: skip
TOP_LEVEL_KEYS = {
    "jobs",
    "kills",
    "lost",
    "duplicate_posts",
    "failed_without_notice",
    "failed_jobs",
    "backend_restarts",
    "resume_after_backend_return_s",
    "wall_s",
    "drills",
}
DRILL_KEYS = {"jobs", "lost", "duplicate_posts", "failed_without_notice", "by_status", "settled"}


async def test_chaos_tiny_run_prints_figures(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        *TINY,
        "--workdir",
        str(tmp_path),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=100)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 0, stderr.decode()[-3000:]
    figures = json.loads(stdout.decode().strip().splitlines()[-1])
    assert TOP_LEVEL_KEYS <= figures.keys()
    assert set(figures["drills"]) == {"bot-kills", "webui-restarts", "backend-outage"}
    for name, drill in figures["drills"].items():
        assert DRILL_KEYS <= drill.keys(), name
        assert drill["settled"], name
    assert figures["kills"] == 2
    assert figures["backend_restarts"] == 2
    assert figures["jobs"] > 0
    assert figures["resume_after_backend_return_s"] is not None
