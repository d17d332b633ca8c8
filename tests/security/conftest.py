"""The loopback fake of Discord, for the security tests that log the bot in."""

from __future__ import annotations

from tests.fakediscord.fixtures import fake_discord, fake_discord_options

__all__ = ["fake_discord", "fake_discord_options"]
