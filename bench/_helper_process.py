"""Helper processes of the benchmarks, and the JSON-lines protocol the parent uses with them.

A helper writes one JSON object per line on stdout and nothing else there (its logs go to
stderr), reads JSON objects from stdin, and exits when its stdin closes. Keeping a stand-in in
its own process keeps its CPU work out of the event loop that a benchmark measures.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any

_log = logging.getLogger(__name__)

READ_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 15.0
# A result line can list every latency of a run, so lines may be longer than asyncio's 64 KiB.
LINE_LIMIT_BYTES = 16 * 1024 * 1024


class HelperExitedError(RuntimeError):
    """A helper process ended before it wrote the line the benchmark waited for."""

    def __init__(self, script: Path, returncode: int | None) -> None:
        super().__init__(
            f"helper {script.name} exited with code {returncode} before writing its result; "
            f"its error is on stderr above"
        )
        self.script = script
        self.returncode = returncode


class HelperProcess:
    """Runs ``script`` with this interpreter as a child and exchanges JSON lines with it."""

    def __init__(self, script: Path, *args: str) -> None:
        self.script = script
        self._argv = [sys.executable, str(script), *args]
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> HelperProcess:
        self._process = await asyncio.create_subprocess_exec(
            *self._argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=LINE_LIMIT_BYTES,
        )
        _log.info("started %s as process %d", self.script.name, self._process.pid)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process = self._require()
        if process.stdin is not None and not process.stdin.is_closing():
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            _log.warning("%s did not exit after its stdin closed; killing it", self.script.name)
            process.kill()
            await process.wait()

    async def read(self, timeout_s: float = READ_TIMEOUT_S) -> dict[str, Any]:
        """Return the next JSON object the helper writes.

        Raises:
            HelperExitedError: the helper exited first.
            TimeoutError: no line came within ``timeout_s``.
        """
        process = self._require()
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout_s)
        if not line:
            raise HelperExitedError(self.script, await process.wait())
        message: dict[str, Any] = json.loads(line)
        return message

    async def send(self, message: dict[str, Any]) -> None:
        """Write one JSON object to the helper's stdin."""
        process = self._require()
        assert process.stdin is not None
        process.stdin.write(json.dumps(message).encode() + b"\n")
        await process.stdin.drain()

    def _require(self) -> asyncio.subprocess.Process:
        if self._process is None:
            raise RuntimeError(f"helper {self.script.name} is not started; use it in async with")
        return self._process


def write_message(message: dict[str, Any]) -> None:
    """Write one JSON object as a line on stdout, for the parent benchmark (helper side)."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def read_messages() -> AsyncIterator[dict[str, Any]]:
    """Yield the JSON objects the parent writes to stdin until it closes stdin (helper side)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT_BYTES)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        if line.strip():
            yield json.loads(line)
