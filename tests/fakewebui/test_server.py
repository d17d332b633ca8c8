"""FakeWebUI lifecycle and the blocking serve() entry point."""

from __future__ import annotations

import asyncio
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

from fakewebui import FakeWebUI, create_app
from fakewebui.errors import InvalidModelListError, InvalidSpeedError, ServerNotStartedError
from fakewebui.state import STATE_KEY, WebUIState

ROOT = Path(__file__).resolve().parents[2]


async def test_server_url_and_restart(session) -> None:
    webui = FakeWebUI(speed=1000)
    with pytest.raises(ServerNotStartedError):
        _ = webui.url

    await webui.start()
    first_url = webui.url
    async with session.get(f"{first_url}/internal/ping") as response:
        first_status = response.status
    await webui.stop()
    await webui.stop()
    await webui.start()
    async with session.get(f"{webui.url}/internal/ping") as response:
        second_status = response.status
    await webui.stop()

    assert first_url.startswith("http://127.0.0.1:")
    assert first_status == 200
    assert second_status == 200


async def test_server_stop_during_job(session) -> None:
    webui = FakeWebUI(speed=0.001)
    await webui.start()
    request = asyncio.create_task(session.post(f"{webui.url}/sdapi/v1/txt2img", json={"steps": 20}))
    async with asyncio.timeout(20):
        while True:
            if webui.state.progress.busy:
                break
            await asyncio.sleep(0.005)

    await asyncio.wait_for(webui.stop(), timeout=20)

    with pytest.raises(Exception) as caught:
        response = await request
        response.release()
    assert "disconnected" in str(caught.value).lower()
    assert webui.generated == 0


@pytest.mark.parametrize("speed", [0, -1, float("inf"), float("nan"), "fast", True])
def test_speed_rejects_invalid(speed) -> None:
    with pytest.raises(InvalidSpeedError):
        FakeWebUI(speed=speed)
    webui = FakeWebUI()
    with pytest.raises(InvalidSpeedError):
        webui.speed = speed


def test_create_app_uses_given_state() -> None:
    state = WebUIState(speed=3.0)

    app_with_state = create_app(state, speed=9.0)
    fresh = create_app(speed=9.0)

    assert app_with_state[STATE_KEY] is state
    assert state.speed == 3.0
    assert fresh[STATE_KEY].speed == 9.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_serve_runs_until_sigterm() -> None:
    port = _free_port()
    code = f"from fakewebui import serve; serve(port={port}, speed=500)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    try:
        body = _ping_until_up(f"http://127.0.0.1:{port}/internal/ping")
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert body == {}
    assert returncode == 0


def _ping_until_up(url: str) -> object:
    for _ in range(400):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer")


async def test_server_models_option_and_setter(session) -> None:
    async with FakeWebUI(speed=1000, models=["a.safetensors", "SDXL/b.safetensors"]) as webui:
        listed = webui.models
        webui.models = ["SDXL/b.safetensors", "c.ckpt"]
        async with session.get(f"{webui.url}/sdapi/v1/sd-models") as response:
            items = await response.json()
        async with session.get(f"{webui.url}/sdapi/v1/options") as response:
            options = await response.json()

    assert listed == ["a.safetensors", "SDXL/b.safetensors"]
    assert [item["model_name"] for item in items] == ["SDXL_b", "c"]
    # The selected model file was removed, so the setting moved to the first listed one.
    assert options["sd_model_checkpoint"] == items[0]["title"]


async def test_server_models_setter_keeps_listed_selection(session) -> None:
    async with FakeWebUI(speed=1000) as webui:
        selected = webui.state.options["sd_model_checkpoint"]
        webui.models = ["new.safetensors", *webui.models]

    assert webui.state.options["sd_model_checkpoint"] == selected
    assert webui.models[0] == "new.safetensors"


def test_server_rejects_bad_model_list() -> None:
    with pytest.raises(InvalidModelListError):
        FakeWebUI(models=[])
    webui = FakeWebUI()
    with pytest.raises(InvalidModelListError):
        webui.models = ["dup.ckpt", "dup.ckpt"]
    assert webui.models == ["v1-5-pruned-emaonly.safetensors", "sd_xl_base_1.0.safetensors"]
