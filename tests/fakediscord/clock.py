"""The fake Discord's clock, and snowflake ids that encode its time as Discord's ids do."""

from __future__ import annotations

import asyncio
import datetime
import math
import time
from collections.abc import Callable

from tests.fakediscord.errors import InvalidAdvanceError, InvalidTimeScaleError


class FakeClock:
    """Fake Unix time in seconds, running ``time_scale`` times faster than real time.

    Token lifetimes, rate-limit windows, the 3 s response deadline and snowflake timestamps all
    read this clock. Durations sent to clients, such as ``Retry-After``, go through ``to_real``,
    so a client that sleeps that long in real time wakes when the fake window has ended.
    ``monotonic`` is the real clock in seconds and exists so a test can drive real time by hand.
    """

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        start: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(time_scale, int | float) or not math.isfinite(time_scale):
            raise InvalidTimeScaleError(time_scale)
        if time_scale <= 0:
            raise InvalidTimeScaleError(time_scale)
        self.time_scale = float(time_scale)
        self._monotonic = monotonic
        self._real_origin = monotonic()
        self._fake_origin = time.time() if start is None else start
        self._advanced = 0.0

    def now(self) -> float:
        """Return the fake Unix time in seconds."""
        elapsed_real = self._monotonic() - self._real_origin
        return self._fake_origin + self._advanced + elapsed_real * self.time_scale

    def advance(self, seconds: float) -> None:
        """Move the fake time forward by ``seconds`` at once."""
        if not math.isfinite(seconds) or seconds < 0:
            raise InvalidAdvanceError(seconds)
        self._advanced += seconds

    def to_real(self, seconds: float) -> float:
        """Convert a fake duration in seconds to the real duration it takes."""
        return seconds / self.time_scale

    def to_datetime(self, timestamp: float | None = None) -> datetime.datetime:
        """Return ``timestamp`` (default: now) as an aware UTC datetime."""
        moment = self.now() if timestamp is None else timestamp
        return datetime.datetime.fromtimestamp(moment, datetime.UTC)

    def isoformat(self, timestamp: float | None = None) -> str:
        """Return ``timestamp`` (default: now) in ISO 8601, as Discord writes timestamps."""
        return self.to_datetime(timestamp).isoformat()

    async def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` of fake time."""
        await asyncio.sleep(self.to_real(seconds))


# Milliseconds from the Unix epoch to Discord's epoch, 2015-01-01T00:00:00Z.
DISCORD_EPOCH_MS = 1_420_070_400_000


def snowflake_timestamp(snowflake: int) -> float:
    """Return the Unix time in seconds that ``snowflake`` encodes."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


class SnowflakeGenerator:
    """A source of unique, increasing snowflakes stamped with the fake clock's time."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._last = 0

    def new_id(self) -> int:
        """Return a new snowflake for the current fake time.

        Ids made in the same millisecond count up in the low 22 bits, so ids stay unique and
        increasing.
        """
        milliseconds = int(self._clock.now() * 1000) - DISCORD_EPOCH_MS
        candidate = milliseconds << 22
        self._last = max(candidate, self._last + 1)
        return self._last
