"""Child processes for failure drills: the real bot on a loopback Discord, and the WebUI stand-in.

Both write their log lines to files, so a drill can kill them with SIGKILL at any moment and
read what they did afterwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
import time
from pathlib import Path
from typing import IO, Any

import aiohttp

from tests.fakediscord import FakeDiscord

_log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK_SCRIPT = Path(__file__).with_name("loopback_bot.py")
POLL_S = 0.01
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
_LISTENING = re.compile(r"fake WebUI listening on (http://127\.0\.0\.1:(\d+))")


class DrillProcessError(RuntimeError):
    """A child process exited or hung where a drill needed it running."""


class BotProcess:
    """The ``imagine-bot`` command line in a child process, connected to a FakeDiscord.

    Settings come from the environment, as in production: the bot token of the fake, one
    backend, and status pacing loosened to 50 requests per second, which the drills' Discord
    buckets allow.
    """

    def __init__(self, fake: FakeDiscord, data_dir: Path, backend_url: str) -> None:
        self.fake = fake
        self.data_dir = data_dir
        self.backend_url = backend_url
        self.starts = 0
        self.start_seconds: list[float] = []
        self.exit_codes: list[int] = []
        self._process: asyncio.subprocess.Process | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def sync(self, guild_id: int) -> None:
        """Upload the slash commands to the fake's guild, as ``imagine-bot sync`` does."""
        process = await self._spawn("sync", "--guild", str(guild_id))
        code = await asyncio.wait_for(process.wait(), timeout=START_TIMEOUT_S)
        self._close_log()
        if code != 0:
            raise DrillProcessError(f"imagine-bot sync exited with {code}; see {self.log_path}")

    async def start(self) -> None:
        """Start ``imagine-bot run`` and wait until it has identified on the fake's gateway."""
        started = time.monotonic()
        process = self._process = await self._spawn("run")
        self.starts += 1
        deadline = started + START_TIMEOUT_S
        while not self.fake.gateway.connected:
            if process.returncode is not None:
                raise DrillProcessError(
                    f"the bot exited with {process.returncode} before connecting; "
                    f"see {self.log_path}"
                )
            if time.monotonic() > deadline:
                raise DrillProcessError(f"the bot did not connect in {START_TIMEOUT_S:.0f} s")
            await asyncio.sleep(POLL_S)
        self.start_seconds.append(time.monotonic() - started)

    async def kill(self) -> None:
        """Send SIGKILL and wait until the fake has seen the gateway connection close."""
        process = self._require_process()
        process.send_signal(signal.SIGKILL)
        self.exit_codes.append(await process.wait())
        self._close_log()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while self.fake.gateway.connected:
            if time.monotonic() > deadline:
                raise DrillProcessError("the fake still lists the killed bot's gateway session")
            await asyncio.sleep(POLL_S)

    async def stop(self) -> int:
        """Send SIGTERM, wait for a clean exit and return the exit code (SIGKILL after 30 s)."""
        process = self._require_process()
        process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(process.wait(), timeout=STOP_TIMEOUT_S)
        except TimeoutError:
            process.kill()
            code = await process.wait()
        self.exit_codes.append(code)
        self._close_log()
        return code

    async def ensure_stopped(self) -> None:
        """Kill the bot if it still runs; for cleanup after a failed drill."""
        if self.running:
            assert self._process is not None
            self._process.kill()
            await self._process.wait()
        self._close_log()

    @property
    def log_path(self) -> Path:
        return self.data_dir / "bot.log"

    def _require_process(self) -> asyncio.subprocess.Process:
        if self._process is None or self._process.returncode is not None:
            raise DrillProcessError("the bot is not running; call start() first")
        return self._process

    async def _spawn(self, *arguments: str) -> asyncio.subprocess.Process:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("ab")
        self._log_file.write(f"=== imagine-bot {' '.join(arguments)}\n".encode())
        self._log_file.flush()
        return await asyncio.create_subprocess_exec(
            sys.executable,
            str(LOOPBACK_SCRIPT),
            self.fake.base_url,
            self.fake.gateway_url,
            *arguments,
            cwd=self.data_dir,
            env=self._environment(),
            stdout=self._log_file,
            stderr=asyncio.subprocess.STDOUT,
        )

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # The bot imports this tree's modules, whichever tree an editable install points to.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.update(
            DISCORD_TOKEN=self.fake.bot_token,
            IMAGINE_STORAGE__DATA_DIR=str(self.data_dir),
            IMAGINE_BACKENDS=json.dumps([{"name": "gpu", "url": self.backend_url}]),
            IMAGINE_STATUS__CHANNEL_REQUESTS="50",
            IMAGINE_STATUS__CHANNEL_WINDOW_S="1",
        )
        return env

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


class WebUIProcess:
    """``imagine-bot fake-webui`` in a child process that restarts on the same port."""

    def __init__(self, speed: float, log_path: Path) -> None:
        self.speed = speed
        self.log_path = log_path
        self.port = 0
        self.starts = 0
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        if not self.port:
            raise DrillProcessError("the WebUI stand-in has not started yet; call start() first")
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> float:
        """Start the stand-in, wait until it responds, and return the monotonic time when it did.

        The first start takes a free port; later starts reuse it, so the bot's URL stays valid.
        """
        if self._session is None:
            self._session = aiohttp.ClientSession()
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log_file:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(ROOT / "bot.py"),
                "fake-webui",
                "--port",
                str(self.port),
                "--speed",
                str(self.speed),
                cwd=ROOT,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
            )
        self.starts += 1
        if not self.port:
            self.port = await self._read_port(offset)
        return await self._wait_answering()

    async def kill(self) -> None:
        """Send SIGKILL and wait for the process to end."""
        if self._process is None or self._process.returncode is not None:
            raise DrillProcessError("the WebUI stand-in is not running; call start() first")
        self._process.send_signal(signal.SIGKILL)
        await self._process.wait()

    async def stop(self) -> None:
        """Stop the stand-in if it runs and close the HTTP session."""
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._process.wait(), timeout=STOP_TIMEOUT_S)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def busy(self) -> bool:
        """Return whether a txt2img job runs, from the stand-in's progress endpoint."""
        body = await self._get_json("/sdapi/v1/progress")
        return bool(body is not None and body["state"]["job_count"])

    async def received(self) -> int:
        """Return the number of txt2img requests this process received, or -1 if it is down."""
        body = await self._get_json("/fake/settings")
        return -1 if body is None else int(body["requests"])

    async def _get_json(self, path: str) -> Any:
        assert self._session is not None
        try:
            async with self._session.get(self.url + path) as response:
                return await response.json()
        except aiohttp.ClientConnectionError:
            return None

    async def _read_port(self, offset: int) -> int:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            with self.log_path.open("rb") as log_file:
                log_file.seek(offset)
                match = _LISTENING.search(log_file.read().decode(errors="replace"))
            if match is not None:
                return int(match[2])
            self._check_alive()
            await asyncio.sleep(POLL_S)
        raise DrillProcessError(f"the WebUI stand-in did not start; see {self.log_path}")

    async def _wait_answering(self) -> float:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if await self._get_json("/internal/ping") is not None:
                return time.monotonic()
            self._check_alive()
            await asyncio.sleep(POLL_S)
        raise DrillProcessError(f"the WebUI stand-in did not respond; see {self.log_path}")

    def _check_alive(self) -> None:
        if self._process is not None and self._process.returncode is not None:
            raise DrillProcessError(
                f"the WebUI stand-in exited with {self._process.returncode}; see {self.log_path}"
            )
