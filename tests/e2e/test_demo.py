"""``imagine-bot demo --headless`` replays a trace and accounts for every request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
TRACE = ROOT / "tests" / "data" / "trace-60.jsonl"


# SimCord has no rate limits, so the bot's own channel pacing only slows the test down.
FAST_PACING = "[status]\nchannel_requests = 50\nchannel_window_s = 1.0\n"


def run_demo(tmp_path: Path, trace: Path, jobs: int) -> subprocess.CompletedProcess[str]:
    (tmp_path / "config.toml").write_text(FAST_PACING, encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "bot.py"),
            "demo",
            "--headless",
            "--trace",
            str(trace),
            "--jobs",
            str(jobs),
            "--out",
            str(tmp_path / "out"),
            "--speed",
            "400",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )


def test_demo_headless_accounts_for_every_request(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    lines = TRACE.read_text(encoding="utf-8").splitlines()[:27]
    lines += [
        json.dumps({"user": "user-x", "prompt": "a fox", "sampler": "k_euler_fancy"}),
        json.dumps({"user": "user-y", "prompt": "a fox", "n_images": 12}),
        json.dumps({"user": "user-z", "prompt": "a fox", "width": 500}),
    ]
    trace.write_text("\n".join(lines) + "\n", encoding="utf-8")

    completed = run_demo(tmp_path, trace, 30)

    assert completed.returncode == 0, completed.stderr[-3000:]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    requests = summary["requests"]
    assert len(requests) == 30
    assert "0 tasks ahead of you" in requests[0]["first_reply"]
    for request in requests:
        assert request["status"] in ("delivered", "rejected")
        if request["status"] == "delivered":
            with Image.open(tmp_path / "out" / request["image"]) as image:
                assert image.format == "PNG"
        else:
            assert request["reason"]
    assert "Unknown sampler 'k_euler_fancy'" in requests[27]["reason"]
    assert requests[28]["status"] == "rejected"
    assert "count" in requests[28]["reason"]
    assert "width 500 is not a multiple of 8" in requests[29]["reason"]
    assert summary["totals"]["requests"] == 30
    assert summary["totals"]["rejected"] == 3
    assert summary["totals"]["delivered"] == 27


def test_demo_rejects_unreadable_trace(tmp_path: Path) -> None:
    trace = tmp_path / "bad.jsonl"
    trace.write_text('{"user": "a", "prompt": "x"}\nnot json\n', encoding="utf-8")

    completed = run_demo(tmp_path, trace, 5)

    assert completed.returncode == 2
    assert f"{trace}:2" in completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
