"""The busy-fraction benchmark at a tiny size: it runs end to end and prints its summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "busy_fraction.py"
KEYS = {"jobs", "busy_fraction", "naive_busy_fraction", "wall_s", "mean_gap_ms", "uploads"}


def test_busy_fraction_prints_summary() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--jobs", "5", "--upload-ms", "50"],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    assert KEYS <= summary.keys()
    assert summary["jobs"] == 5
    # Each design uploads every job once.
    assert summary["uploads"] == 10
    assert 0 < summary["busy_fraction"] <= 1
    assert 0 < summary["naive_busy_fraction"] <= 1
