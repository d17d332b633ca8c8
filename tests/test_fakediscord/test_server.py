"""FakeDiscord's lifecycle, the redirect, and the fixture's teardown check."""

from __future__ import annotations

import pytest
from discord.gateway import DiscordWebSocket
from discord.http import Route

from tests.fakediscord import FakeDiscord, ServerNotStartedError, redirect_discord
from tests.fakediscord.fixtures import assert_no_violations


def test_server_url_before_start_raises() -> None:
    with pytest.raises(ServerNotStartedError):
        _ = FakeDiscord().url


async def test_server_urls_are_loopback() -> None:
    async with FakeDiscord() as fake:
        assert fake.base_url.startswith("http://127.0.0.1:")
        assert fake.base_url.endswith("/api/v10")
        assert fake.gateway_url.startswith("ws://127.0.0.1:")


async def test_redirect_sets_and_restores_urls() -> None:
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake:
        with redirect_discord(fake):
            inside = (Route.BASE, str(DiscordWebSocket.DEFAULT_GATEWAY))

    assert inside == (fake.base_url, fake.gateway_url)
    assert Route.BASE == base
    assert DiscordWebSocket.DEFAULT_GATEWAY == gateway


def test_assert_no_violations_fails_on_violation() -> None:
    fake = FakeDiscord()
    fake.violations.append("POST /channels/{channel_id}/messages: body $.content: invalid")

    with pytest.raises(pytest.fail.Exception, match="1 problem"):
        assert_no_violations(fake)


def test_assert_no_violations_passes_when_clean() -> None:
    assert_no_violations(FakeDiscord())
