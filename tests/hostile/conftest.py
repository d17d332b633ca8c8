"""The loopback fake of Discord, for the hostile-input tests that run the whole bot."""

from __future__ import annotations

from tests.fakediscord.fixtures import fake_discord, fake_discord_options

__all__ = ["fake_discord", "fake_discord_options"]
