"""``imagine-bot demo``: bad options, and stopping by signal or timeout without losing requests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot

ROOT = Path(__file__).resolve().parents[1]
TRACE = ROOT / "tests" / "data" / "trace-60.jsonl"
STOPPED_REASON = "the demo was stopped before this job finished"
# SimCord has no rate limits, so the bot's own channel pacing only slows the test down.
FAST_PACING = "[status]\nchannel_requests = 50\nchannel_window_s = 1.0\n"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "config.toml").write_text(FAST_PACING, encoding="utf-8")
    (tmp_path / "tmp").mkdir()
    return tmp_path


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    # A test that failed before its demo exited must not leave the demo running.
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def demo_command(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "bot.py"), "demo", "--trace", str(TRACE), *args]


def demo_environment(workdir: Path) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith("IMAGINE_") and name != "DISCORD_TOKEN"
    }
    # The demo's temporary data folder goes here, so the test can check it is removed.
    environment["TMPDIR"] = str(workdir / "tmp")
    return environment


def run_demo(workdir: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in workdir to its end, with its output captured as text."""
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=workdir,
        env=demo_environment(workdir),
        timeout=60,
    )


def run_demo_with_trace(
    workdir: Path, lines: list[str], jobs: int
) -> subprocess.CompletedProcess[str]:
    """Run a headless demo over a trace of ``lines`` to completion, writing into workdir/out."""
    trace = workdir / "trace.jsonl"
    trace.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    command = demo_command("--headless", "--jobs", str(jobs), "--out", "out", "--speed", "400")
    command[command.index(str(TRACE))] = str(trace)
    return run_demo(workdir, command)


def start_demo(
    workdir: Path, command: list[str], started: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    # Output goes to files, which the test reads while the demo runs without filling a pipe.
    with (
        (workdir / "stdout.txt").open("wb") as stdout,
        (workdir / "stderr.txt").open("wb") as stderr,
    ):
        process = subprocess.Popen(
            command, cwd=workdir, env=demo_environment(workdir), stdout=stdout, stderr=stderr
        )
    started.append(process)
    return process


def wait_for_output(workdir: Path, name: str, text: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in (workdir / name).read_text(encoding="utf-8", errors="replace"):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {name}"
        time.sleep(0.05)


def finish(process: subprocess.Popen[bytes], workdir: Path) -> tuple[int, str, str]:
    returncode = process.wait(timeout=30)
    stdout = (workdir / "stdout.txt").read_text(encoding="utf-8")
    stderr = (workdir / "stderr.txt").read_text(encoding="utf-8")
    return returncode, stdout, stderr


def read_summary(out: Path) -> dict[str, object]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def leftover_data_folders(workdir: Path) -> list[str]:
    return [path.name for path in (workdir / "tmp").glob("imagine-demo-*")]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["--jobs", "abc"], "'abc' is not a whole number", id="jobs-text"),
        pytest.param(["--jobs", "0"], "0 is invalid", id="jobs-zero"),
        pytest.param(["--speed", "inf"], "'inf' is invalid", id="speed-inf"),
        pytest.param(["--speed", "nan"], "'nan' is invalid", id="speed-nan"),
        pytest.param(["--speed", "0"], "'0' is invalid", id="speed-zero"),
        pytest.param(["--speed", "1e9"], "1e9 is too large", id="speed-too-large"),
        pytest.param(["--interval", "inf"], "'inf' is invalid", id="interval-inf"),
        pytest.param(["--port", "65536"], "'65536' is not a valid port", id="port-too-large"),
        pytest.param(["--timeout", "0"], "'0' is invalid", id="timeout-zero"),
        pytest.param(["--timeout", "soon"], "'soon' is not a number", id="timeout-text"),
    ],
)
def test_demo_bad_argument_exits_2(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        bot.cli(["demo", *args])

    stderr = capsys.readouterr().err
    assert caught.value.code == 2
    assert expected in stderr
    assert "invalid _" not in stderr


@pytest.mark.parametrize("out", ["taken", "taken/sub"])
def test_demo_unusable_out_exits_2(workdir: Path, out: str) -> None:
    (workdir / "taken").write_text("a file", encoding="utf-8")

    completed = run_demo(workdir, demo_command("--headless", "--out", out))

    assert completed.returncode == 2
    assert f"--out {out!r}" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert leftover_data_folders(workdir) == []


def test_demo_jobs_beyond_trace_notice(workdir: Path) -> None:
    lines = ['{"user": "a", "prompt": "a fox"}', '{"user": "b", "prompt": "a cat"}']

    completed = run_demo_with_trace(workdir, lines, jobs=5)

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "contains 2 requests, fewer than --jobs 5; replaying all of them" in completed.stderr
    assert read_summary(workdir / "out")["totals"] == {
        "requests": 2,
        "delivered": 2,
        "rejected": 0,
        "failed": 0,
    }


def test_demo_out_with_earlier_images_warns(workdir: Path) -> None:
    (workdir / "out").mkdir()
    (workdir / "out" / "job-99.png").write_bytes(b"earlier run")

    completed = run_demo_with_trace(workdir, ['{"user": "a", "prompt": "a fox"}'], jobs=1)

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "already has 1 job-*.png images from an earlier run" in completed.stderr
    assert (workdir / "out" / "job-99.png").read_bytes() == b"earlier run"


def test_demo_sigterm_writes_partial_summary(
    workdir: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    command = demo_command("--headless", "--jobs", "4", "--out", "out", "--speed", "0.05")
    process = start_demo(workdir, command, started)
    wait_for_output(workdir, "stderr.txt", "job 1 ")

    process.send_signal(signal.SIGTERM)
    returncode, stdout, stderr = finish(process, workdir)

    assert returncode == 128 + signal.SIGTERM
    assert "Traceback" not in stderr
    assert "SIGTERM received: stopping the demo" in stderr
    assert "queue stopped" in stderr
    summary = read_summary(workdir / "out")
    assert len(summary["requests"]) == 4
    for request in summary["requests"]:
        assert request["status"] == "failed"
        assert request["reason"] == STOPPED_REASON
    assert "summary in out/summary.json" in stdout
    assert leftover_data_folders(workdir) == []


def test_demo_sigint_stops_when_inherited_ignored(
    workdir: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    # A shell starts background jobs with SIGINT ignored; trap "" INT does the same here.
    command = demo_command("--headless", "--jobs", "2", "--out", "out", "--speed", "0.05")
    process = start_demo(workdir, ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command], started)
    wait_for_output(workdir, "stderr.txt", "job 1 ")

    process.send_signal(signal.SIGINT)
    returncode, _, stderr = finish(process, workdir)

    assert returncode == 128 + signal.SIGINT
    assert "Traceback" not in stderr
    summary = read_summary(workdir / "out")
    assert [request["reason"] for request in summary["requests"]] == [STOPPED_REASON] * 2
    assert leftover_data_folders(workdir) == []


def test_demo_timeout_writes_partial_summary(workdir: Path) -> None:
    command = demo_command(
        "--headless", "--jobs", "3", "--out", "out", "--speed", "0.05", "--timeout", "0.5"
    )

    completed = run_demo(workdir, command)

    assert completed.returncode == 1
    assert "imagine-bot: the demo timed out after 0.5 s" in completed.stderr
    assert "give a larger --timeout" in completed.stderr
    assert "Traceback" not in completed.stderr
    summary = read_summary(workdir / "out")
    assert summary["totals"]["failed"] == 3
    for request in summary["requests"]:
        assert request["reason"] == "the demo timed out after 0.5 s before this job finished"
    assert leftover_data_folders(workdir) == []


def test_demo_page_port_in_use_exits_2(workdir: Path, busy_port: int) -> None:
    completed = run_demo(workdir, demo_command("--port", str(busy_port)))

    assert completed.returncode == 2
    assert f"--port {busy_port} cannot be used" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert leftover_data_folders(workdir) == []


def test_demo_page_sigint_exits_0(workdir: Path, started: list[subprocess.Popen[bytes]]) -> None:
    process = start_demo(workdir, demo_command("--jobs", "1", "--speed", "400"), started)
    wait_for_output(workdir, "stdout.txt", "Open http://127.0.0.1:")

    process.send_signal(signal.SIGINT)
    returncode, _, stderr = finish(process, workdir)

    assert returncode == 0
    assert "SIGINT received: stopping the demo" in stderr
    assert "Traceback" not in stderr
    assert leftover_data_folders(workdir) == []


def test_demo_timeout_names_unreachable_backend(workdir: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{free_port}"
    backend = f'[[backends]]\nname = "dead"\nurl = "{url}"\n'
    (workdir / "config.toml").write_text(FAST_PACING + backend, encoding="utf-8")
    command = demo_command("--headless", "--jobs", "2", "--out", "out", "--timeout", "3")

    completed = run_demo(workdir, command)

    assert completed.returncode == 1
    assert f"the backend dead ({url}) could not be reached" in completed.stderr
    assert "fix its url in [[backends]]" in completed.stderr
    summary = read_summary(workdir / "out")
    for request in summary["requests"]:
        assert f"dead ({url}) could not be reached" in request["reason"]
