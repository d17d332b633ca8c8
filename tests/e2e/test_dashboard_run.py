"""imagine-bot run serves the dashboard when it is enabled, and only with its token."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from fakewebui import FakeWebUI
from tests.fakediscord import FakeDiscord

SCRIPT = Path(__file__).with_name("loopback_bot.py")
TOKEN = "dashboard-token-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_run_serves_dashboard_with_token(tmp_path: Path) -> None:
    port = free_port()
    async with FakeDiscord() as fake, FakeWebUI(speed=2000.0) as webui:
        env = dict(os.environ)
        env.update(
            DISCORD_TOKEN=fake.bot_token,
            IMAGINE_STORAGE__DATA_DIR=str(tmp_path),
            IMAGINE_BACKENDS=json.dumps([{"name": "gpu", "url": webui.url}]),
            IMAGINE_DASHBOARD__ENABLED="true",
            IMAGINE_DASHBOARD__PORT=str(port),
            IMAGINE_DASHBOARD__TOKEN=TOKEN,
        )
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            fake.base_url,
            fake.gateway_url,
            "run",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await fake.wait_until_connected(timeout_s=30)
            url = f"http://127.0.0.1:{port}/api/overview"
            async with aiohttp.ClientSession() as session:
                for _ in range(100):
                    try:
                        async with session.get(url) as refused:
                            refused_status = refused.status
                        break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.1)
                headers = {"Authorization": f"Bearer {TOKEN}"}
                async with session.get(url, headers=headers) as allowed:
                    allowed_status = allowed.status
                    overview = await allowed.json()
        finally:
            bot.send_signal(signal.SIGTERM)
            try:
                output, _ = await asyncio.wait_for(bot.communicate(), timeout=30)
            except TimeoutError:
                bot.kill()
                raise

    assert refused_status == 401
    assert allowed_status == 200
    assert [backend["name"] for backend in overview["backends"]] == ["gpu"]
    assert bot.returncode == 0, output.decode()[-3000:]
    assert TOKEN not in output.decode()
