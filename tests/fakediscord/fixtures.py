"""The ``fake_discord`` pytest fixture. Import both fixtures into a conftest.py to use them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fakediscord.client import redirect_discord
from tests.fakediscord.server import FakeDiscord


@pytest.fixture
def fake_discord_options() -> dict[str, Any]:
    """Keyword arguments for FakeDiscord. Override this fixture to set time_scale or buckets."""
    return {}


@pytest.fixture
async def fake_discord(fake_discord_options: dict[str, Any]) -> AsyncIterator[FakeDiscord]:
    """Yield a running fake Discord with discord.py pointed at it.

    At teardown the test fails if any request broke Discord's OpenAPI spec or a handler of
    the fake crashed. A test that sends invalid requests on purpose clears ``fake.violations``.
    """
    async with FakeDiscord(**fake_discord_options) as fake:
        with redirect_discord(fake):
            yield fake
    assert_no_violations(fake)


def assert_no_violations(fake: FakeDiscord) -> None:
    """Fail the test if a request broke Discord's OpenAPI spec or a handler of the fake crashed."""
    problems = [*fake.violations, *fake.handler_errors]
    if problems:
        listed = "\n".join(problems)
        pytest.fail(
            f"The fake Discord recorded {len(problems)} problem(s):\n{listed}", pytrace=False
        )
