"""The fake clock, its time scale, and snowflakes stamped with its time."""

from __future__ import annotations

import discord
import pytest

from tests.fakediscord import (
    TOKEN_LIFETIME_S,
    FakeClock,
    FakeDiscord,
    InvalidAdvanceError,
    InvalidTimeScaleError,
    redirect_discord,
    running_bot,
)
from tests.fakediscord.clock import SnowflakeGenerator, snowflake_timestamp
from tests.test_fakediscord.probe_bot import build_bot, wait_for_edit


class ManualTime:
    """A real-time source that moves only when the test sets ``seconds``."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def test_clock_advance_moves_fake_time() -> None:
    real = ManualTime()
    clock = FakeClock(start=1_700_000_000.0, monotonic=real)

    clock.advance(90)

    assert clock.now() == 1_700_000_090.0


def test_clock_time_scale_speeds_up_real_time() -> None:
    real = ManualTime()
    clock = FakeClock(time_scale=100, start=0.0, monotonic=real)

    real.seconds += 1.5

    assert clock.now() == pytest.approx(150.0)
    assert clock.to_real(TOKEN_LIFETIME_S) == pytest.approx(9.0)


def test_clock_token_expiry_at_scale_100() -> None:
    real = ManualTime()
    clock = FakeClock(time_scale=100, monotonic=real)
    created_at = clock.now()

    real.seconds += 8.99
    alive = clock.now() - created_at <= TOKEN_LIFETIME_S
    real.seconds += 0.02
    expired = clock.now() - created_at > TOKEN_LIFETIME_S

    assert alive
    assert expired


@pytest.mark.parametrize("time_scale", [0, -1, float("inf"), float("nan")])
def test_clock_invalid_time_scale_raises(time_scale: float) -> None:
    with pytest.raises(InvalidTimeScaleError):
        FakeClock(time_scale=time_scale)


def test_clock_negative_advance_raises() -> None:
    with pytest.raises(InvalidAdvanceError):
        FakeClock().advance(-1)


def test_snowflakes_encode_fake_time() -> None:
    clock = FakeClock(start=1_800_000_000.0, monotonic=ManualTime())
    ids = SnowflakeGenerator(clock)

    snowflake = ids.new_id()

    assert snowflake_timestamp(snowflake) == 1_800_000_000.0
    assert discord.utils.snowflake_time(snowflake).timestamp() == 1_800_000_000.0


def test_snowflakes_unique_within_one_millisecond() -> None:
    ids = SnowflakeGenerator(FakeClock(monotonic=ManualTime()))

    snowflakes = [ids.new_id() for _ in range(5000)]

    assert snowflakes == sorted(set(snowflakes))


async def test_time_scale_token_expires_after_9_real_seconds() -> None:
    real = ManualTime()
    async with FakeDiscord(clock=FakeClock(time_scale=100, monotonic=real)) as fake:
        guild = fake.create_guild("guild")
        channel = guild.create_channel("general")
        alice = fake.create_user("alice")
        bot, cog = build_bot()
        await bot.add_cog(cog)
        with redirect_discord(fake):
            async with running_bot(bot, fake):
                await bot.tree.sync()
                interaction = await fake.slash(guild, channel, alice, "ping")
                await wait_for_edit(fake, interaction)
                real.seconds += 9.01

                with pytest.raises(discord.HTTPException) as raised:
                    await cog.interactions[-1].edit_original_response(content="late")

    assert raised.value.code == 50027
    assert fake.stats.expired_token_calls == 1
    assert fake.violations == []
