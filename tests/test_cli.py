"""The ``imagine-bot`` command line: help, fake-webui arguments, Discord errors, logging."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot

ROOT = Path(__file__).resolve().parents[1]


def clean_environment(**extra: str) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith("IMAGINE_") and name != "DISCORD_TOKEN"
    }
    environment.update(extra)
    return environment


def run_cli(
    tmp_path: Path, *args: str, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment or clean_environment(),
        timeout=60,
    )


def run_python(
    tmp_path: Path, code: str, environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{code}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment or clean_environment(),
        timeout=60,
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_cli_help_describes_product(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        bot.cli(["--help"])

    stdout = capsys.readouterr().out
    assert caught.value.code == 0
    assert "A Discord bot that puts a Stable Diffusion WebUI behind" in stdout
    assert "Entry point" not in stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(["--port", "70000"], "'70000' is not a valid port", id="port-too-large"),
        pytest.param(["--port", "-1"], "'-1' is not a valid port", id="port-negative"),
        pytest.param(["--port", "http"], "'http' is not a valid port", id="port-text"),
        pytest.param(["--speed", "nan"], "'nan' is invalid", id="speed-nan"),
        pytest.param(["--speed", "inf"], "'inf' is invalid", id="speed-inf"),
        pytest.param(["--speed", "0"], "'0' is invalid", id="speed-zero"),
        pytest.param(["--speed", "fast"], "'fast' is not a number", id="speed-text"),
        pytest.param(["--host", "bad host!"], "'bad host!' is not an IP address", id="host"),
    ],
)
def test_fake_webui_bad_argument_exits_2(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    with pytest.raises(SystemExit) as caught:
        bot.cli(["fake-webui", *args])

    stderr = capsys.readouterr().err
    assert caught.value.code == 2
    assert expected in stderr
    assert "invalid port_number value" not in stderr


def test_fake_webui_port_in_use_exits_2(tmp_path: Path, busy_port: int) -> None:
    completed = run_cli(tmp_path, "fake-webui", "--port", str(busy_port))

    assert completed.returncode == 2
    assert f"cannot listen on 127.0.0.1 port {busy_port}" in completed.stderr
    assert "Address already in use" in completed.stderr
    assert "pick another --port" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_listen_error_unresolvable_host() -> None:
    error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    message = bot._describe_listen_error(error, "gpu.invalid", 7860)

    assert message.startswith("--host 'gpu.invalid' cannot be resolved")
    assert "Name or service not known" in message
    assert "127.0.0.1" in message


def test_sync_without_network_exits_1(tmp_path: Path) -> None:
    code = (
        "import discord.http, bot\n"
        # Points the real Discord client at a closed loopback port, so no request leaves the host.
        f"discord.http.Route.BASE = 'http://127.0.0.1:{closed_port()}/api/v10'\n"
        "sys.exit(bot.cli(['sync']))\n"
    )

    completed = run_python(tmp_path, code, clean_environment(DISCORD_TOKEN="abc.def.ghi"))

    assert completed.returncode == 1
    assert "imagine-bot: cannot reach Discord (" in completed.stderr
    assert "check the network" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(("level", "expected"), [("DEBUG", "DEBUG INFO"), ("ERROR", "ERROR ERROR")])
def test_configure_logging_keeps_aiosqlite_quiet(tmp_path: Path, level: str, expected: str) -> None:
    code = (
        "import logging, bot\n"
        f"bot.configure_logging({level!r})\n"
        "print(logging.getLevelName(logging.getLogger().level),"
        " logging.getLevelName(logging.getLogger('aiosqlite').getEffectiveLevel()))\n"
    )

    completed = run_python(tmp_path, code)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == expected


def test_debug_log_shows_no_query_parameters(tmp_path: Path) -> None:
    code = (
        "import asyncio, bot\n"
        "from storage import JobStore\n"
        "bot.configure_logging('DEBUG')\n"
        "async def main():\n"
        "    store = await JobStore.open('jobs.db')\n"
        "    await store.get(424242)\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )

    completed = run_python(tmp_path, code)

    assert completed.returncode == 0, completed.stderr
    assert "storage.store" in completed.stderr
    assert "aiosqlite" not in completed.stderr
    assert "424242" not in completed.stderr


@pytest.mark.parametrize(
    ("config", "environment", "expected"),
    [
        pytest.param(
            b'[[backends]]\nname = "a"\nurl = "http://127.0.0.1:99999"\n',
            {},
            "backends[0].url",
            id="url-port",
        ),
        pytest.param(b"[limits]\n# caf\xe9\n", {}, "line 2 is not UTF-8", id="latin-1"),
        pytest.param(
            b"", {"IMAGINE_BACKENDS": "notjson"}, "IMAGINE_BACKENDS", id="environment-json"
        ),
    ],
)
def test_cli_bad_configuration_exits_2(
    tmp_path: Path, config: bytes, environment: dict[str, str], expected: str
) -> None:
    (tmp_path / "c.toml").write_bytes(config)

    completed = run_cli(
        tmp_path, "run", "--config", "c.toml", environment=clean_environment(**environment)
    )

    assert completed.returncode == 2
    assert expected in completed.stderr
    assert "Traceback" not in completed.stderr


def test_fake_webui_bad_model_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    model = "a.safetensors"
    code = bot.cli(["fake-webui", "--port", "0", "--model", model, "--model", model])

    stderr = capsys.readouterr().err
    assert code == 2
    assert "'a.safetensors' is listed more than once" in stderr
