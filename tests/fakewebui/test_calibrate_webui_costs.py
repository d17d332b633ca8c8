"""The calibration script on a small trace written by the test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "calibrate_webui_costs.py"


def _write_trace(path: Path) -> None:
    lines = []
    for index in range(40):
        steps = 20 + 5 * (index % 7)
        images = 1 + index % 4
        side = 512 if index % 3 else 768
        work = steps * (side * side / 512**2) * images
        record = {"seconds": 2.0 + 0.01 * work, "steps": steps, "n_images": images}
        if side != 512:
            record.update(width=side, height=side)
        lines.append(json.dumps(record))
    # One request that waited behind others, and lines the script must skip.
    lines.append(json.dumps({"seconds": 500.0, "steps": 20}))
    lines.append(json.dumps({"seconds": 1.0, "steps": 0}))
    lines.append("not json")
    lines.append(json.dumps({"seconds": 3.0, "n_images": 1}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_calibration_fits_small_trace(tmp_path) -> None:
    trace = tmp_path / "trace.jsonl"
    _write_trace(trace)

    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--trace", str(trace)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["a"] == pytest.approx(2.0, abs=0.05)
    assert report["b"] == pytest.approx(0.01, rel=0.05)
    assert report["samples"] == 42
    assert report["skipped_lines"] == 2
    assert report["method"] == "huber-irls"
    assert report["fit"]["median_abs_error_s"] < 0.2
    # The outlier drags the ordinary fit but not the Huber fit.
    assert report["ordinary_least_squares"]["a"] > report["a"] + 1


def test_calibration_missing_file_fails(tmp_path) -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--trace", str(tmp_path / "absent.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 1
    assert "calibration failed" in completed.stderr
