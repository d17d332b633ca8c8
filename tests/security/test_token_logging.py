"""Secrets stay out of the logs: the bot token at DEBUG on every path, and interaction tokens
under the logging configuration that ``imagine-bot run`` installs."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import discord
import pytest

from bot import configure_logging, sync_commands
from tests.fakediscord import FakeDiscord
from tests.loopback.conftest import loopback_settings, start_loopback

WRONG_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.wrong0.not-the-bot-token-at-all-0123456789"
# The loggers that configure_logging() sets a level on, restored after each test.
CONFIGURED_LOGGERS = ("", "discord.http", "aiohttp.access", "aiosqlite")


class ListHandler(logging.Handler):
    """A log handler that keeps every record in ``records``."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def record_text(record: logging.LogRecord) -> str:
    """Return everything a handler could write for ``record``, traceback included."""
    text = record.getMessage()
    if record.exc_info is not None and record.exc_info[0] is not None:
        text += "".join(traceback.format_exception(*record.exc_info))
    return text + (record.exc_text or "") + (record.stack_info or "")


def leaks(records: list[logging.LogRecord], secret: str) -> list[str]:
    """Return the bot's log records that contain ``secret``, skipping the fakes' own records."""
    bots = [record for record in records if not record.name.startswith(("tests.", "fakewebui"))]
    return [f"{r.name} {r.levelname}" for r in bots if secret in record_text(r)]


def exception_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


@contextmanager
def run_logging_configuration(level: str) -> Iterator[ListHandler]:
    """Apply configure_logging(level) as ``imagine-bot run`` does, and undo it afterwards."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    levels = {name: logging.getLogger(name).level for name in CONFIGURED_LOGGERS}
    capture = ListHandler()
    configure_logging(level)
    root.addHandler(capture)
    try:
        yield capture
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)


async def run_one_job_with_faults(tmp_path, fake: FakeDiscord, webui) -> str:
    """Run the bot through start-up, a job and failing requests, then return the job's token."""
    async with start_loopback(fake, loopback_settings(tmp_path, webui.url), webui) as loopback:
        ann = fake.create_user("ann")
        loopback.guild.add_member(ann)
        fake.inject("POST", f"/channels/{loopback.channel.id}/messages", status=403, code=50013)
        fake.inject("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/*", status=500)
        reply = await fake.slash(loopback.guild, loopback.channel, ann, "imagine", prompt="a fox")
        await loopback.job(1, lambda job: job.delivered_at is not None)
    return reply.token


async def test_bot_token_absent_from_debug_run(tmp_path, fake_discord, webui, caplog) -> None:
    caplog.set_level(logging.DEBUG)

    await run_one_job_with_faults(tmp_path, fake_discord, webui)

    assert len(caplog.records) > 50
    assert leaks(caplog.records, fake_discord.bot_token) == []


async def test_rejected_token_absent_from_logs_and_error(
    tmp_path, fake_discord, webui, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = loopback_settings(tmp_path, webui.url)

    with pytest.raises(discord.LoginFailure) as raised:
        await sync_commands(settings, WRONG_TOKEN, None)

    assert WRONG_TOKEN not in exception_text(raised.value)
    assert leaks(caplog.records, WRONG_TOKEN) == []
    assert [r.status for r in fake_discord.requests] == [401]


async def test_bot_token_absent_when_discord_fails_at_login(
    tmp_path, fake_discord, webui, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = loopback_settings(tmp_path, webui.url)
    # discord.py 2.7 retries 500, 502, 504 and 524 itself, but raises a 503 at once.
    fake_discord.inject("GET", "/users/@me", status=503)

    with pytest.raises(discord.DiscordServerError) as raised:
        await sync_commands(settings, fake_discord.bot_token, None)

    assert fake_discord.bot_token not in exception_text(raised.value)
    assert leaks(caplog.records, fake_discord.bot_token) == []


async def test_bot_token_absent_when_network_fails(tmp_path, fake_discord, webui, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    settings = loopback_settings(tmp_path, webui.url)
    await fake_discord.stop()

    with pytest.raises(aiohttp.ClientError) as raised:
        await sync_commands(settings, fake_discord.bot_token, None)

    assert fake_discord.bot_token not in exception_text(raised.value)
    assert leaks(caplog.records, fake_discord.bot_token) == []


async def test_interaction_token_absent_from_run_debug_logs(tmp_path, fake_discord, webui) -> None:
    with run_logging_configuration("DEBUG") as capture:
        token = await run_one_job_with_faults(tmp_path, fake_discord, webui)

    assert capture.records
    assert leaks(capture.records, fake_discord.bot_token) == []
    assert leaks(capture.records, token) == []
