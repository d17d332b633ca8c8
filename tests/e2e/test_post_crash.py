"""A bot killed with SIGKILL at the moment it posts an image posts it exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from fakewebui import FakeWebUI
from tests.fakediscord import FakeDiscord
from tests.fakediscord.fixtures import assert_no_violations

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("loopback_bot.py")


STARTED: list[asyncio.subprocess.Process] = []


async def start_bot(fake: FakeDiscord, webui: FakeWebUI, data_dir: Path, *args: str):
    env = dict(os.environ)
    env.update(
        DISCORD_TOKEN=fake.bot_token,
        IMAGINE_STORAGE__DATA_DIR=str(data_dir),
        IMAGINE_BACKENDS=json.dumps([{"name": "gpu", "url": webui.url}]),
        IMAGINE_STATUS__CHANNEL_REQUESTS="50",
        IMAGINE_STATUS__CHANNEL_WINDOW_S="1",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        fake.base_url,
        fake.gateway_url,
        *args,
        cwd=data_dir,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    STARTED.append(process)
    return process


@pytest.fixture(autouse=True)
async def _kill_leftover_bots():
    """Kill bot processes a failing test left running."""
    yield
    for process in STARTED:
        if process.returncode is None:
            process.kill()
            await process.wait()
    STARTED.clear()


async def test_sigkill_at_post_posts_exactly_once(tmp_path: Path) -> None:
    async with FakeDiscord() as fake, FakeWebUI(speed=2000.0) as webui:
        guild = fake.create_guild("crash guild")
        channel = guild.create_channel("imagine")
        ann = fake.create_user("ann")
        guild.add_member(ann)
        sync = await start_bot(fake, webui, tmp_path, "sync", "--guild", str(guild.id))
        output, _ = await asyncio.wait_for(sync.communicate(), timeout=60)
        assert sync.returncode == 0, output.decode()[-3000:]

        first = await start_bot(fake, webui, tmp_path, "run")
        await fake.wait_until_connected(timeout_s=30)
        hold = fake.hold("POST", "/channels/{channel_id}/messages")
        reply = await fake.slash(guild, channel, ann, "imagine", prompt="posted once")
        assert "Queued" in reply.original.content
        await asyncio.wait_for(hold.reached.wait(), timeout=30)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        hold.released.set()
        posted_before_restart = [m for m in channel.messages if m.attachments]
        assert len(posted_before_restart) == 1

        second = await start_bot(fake, webui, tmp_path, "run")
        status = fake.message(reply.original.id)
        await fake.wait_for(lambda: "Done." in status.content, timeout_s=60)
        second.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(second.communicate(), timeout=30)

    assert second.returncode == 0, output.decode()[-3000:]
    posts = [m for m in channel.messages if m.attachments and not m.deleted]
    assert len(posts) == 1
    assert str(posts[0].id) in status.content
    assert_no_violations(fake)
