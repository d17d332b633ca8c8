"""The acknowledgement-latency benchmark at a tiny size: it runs end to end and prints its summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "ack_latency.py"
KEYS = {"queued", "requests", "acknowledged", "p50_ms", "p99_ms", "max_loop_lag_ms", "wall_s"}
ARGS = ["--queued", "100", "--requests", "10", "--interval-ms", "20", "--job-ms", "100"]


def test_ack_latency_prints_summary() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), *ARGS, "--images", "2", "--warmup-jobs", "1"],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    assert KEYS <= summary.keys()
    assert summary["queued"] == 100
    assert summary["requests"] == 10
    # Every /imagine went through the cog and got its reply, well inside Discord's 3 s.
    assert summary["acknowledged"] == 10
    # The bot's requests to the fake Discord all matched Discord's OpenAPI spec.
    assert summary["fake_discord_problems"] == 0
