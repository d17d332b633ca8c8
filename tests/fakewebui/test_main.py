"""The ``python -m fakewebui`` command line: options, model lists and rejected values."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from fakewebui.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--model", ""], "Invalid model list"),
        (["--model", "a.ckpt", "--model", "a.ckpt"], "'a.ckpt' is listed more than once"),
        (["--speed", "0"], "Invalid speed 0.0"),
    ],
)
def test_main_rejects_invalid_options(capsys, argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_main_serves_given_models() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = ["--port", str(port), "--speed", "500", "--model", "x.safetensors", "--model", "y.ckpt"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "fakewebui", *argv], cwd=ROOT, env=env)
    try:
        items = _get_until_up(f"http://127.0.0.1:{port}/sdapi/v1/sd-models")
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert [item["model_name"] for item in items] == ["x", "y"]
    assert returncode == 0


def _get_until_up(url: str) -> list[dict[str, object]]:
    for _ in range(400):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                items: list[dict[str, object]] = json.loads(response.read())
                return items
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not respond")
