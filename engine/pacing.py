"""App-level rate limits, so the bot stays under Discord's limits instead of running into 429s."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass


class TokenBucket:
    """Allows ``capacity`` requests per ``window_s``, refilled evenly."""

    def __init__(self, capacity: int, window_s: float, clock: Callable[[], float]) -> None:
        self.capacity = capacity
        self.window_s = window_s
        self._clock = clock
        self._tokens = float(capacity)
        self._updated = clock()

    def wait_s(self) -> float:
        """Return how long until a request may go out, 0 when it may go now."""
        self._refill()
        if self._tokens >= 1:
            return 0.0
        return (1 - self._tokens) * self.window_s / self.capacity

    def take(self) -> None:
        self._refill()
        self._tokens -= 1

    def _refill(self) -> None:
        now = self._clock()
        rate = self.capacity / self.window_s
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * rate)
        self._updated = now


@dataclass(frozen=True, slots=True)
class PacingLimits:
    """Request budgets; defaults sit a little under what Discord is observed to allow."""

    channel_requests: int = 4
    channel_window_s: float = 5.0
    token_requests: int = 4
    token_window_s: float = 2.0
    global_requests_per_s: int = 40


class Pacer:
    """One place that decides when each outgoing Discord request may be sent.

    Requests through a channel count against that channel's bucket and the bot's global one.
    Requests through an interaction token count against that token's bucket only, because
    Discord exempts interaction endpoints from the global limit.
    """

    def __init__(self, limits: PacingLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._global = TokenBucket(limits.global_requests_per_s, 1.0, clock)
        self._channels: dict[Hashable, TokenBucket] = {}
        self._tokens: dict[Hashable, TokenBucket] = {}
        self._urgent: Counter[Hashable] = Counter()

    def wait_s(self, *, channel_id: int | None = None, token_key: Hashable | None = None) -> float:
        """Return how long a request on that route must wait, without reserving anything."""
        return max(bucket.wait_s() for bucket in self._buckets(channel_id, token_key))

    def take(self, *, channel_id: int | None = None, token_key: Hashable | None = None) -> None:
        for bucket in self._buckets(channel_id, token_key):
            bucket.take()

    async def acquire(
        self,
        *,
        channel_id: int | None = None,
        token_key: Hashable | None = None,
        urgent: bool = False,
    ) -> None:
        """Wait until a request on that route may go out, and count it.

        An ``urgent`` request (a finished image, its final status) goes before the others
        waiting for the same channel, so position updates never hold a result back.
        """
        if urgent and channel_id is not None:
            self._urgent[channel_id] += 1
        try:
            while True:
                delay_s = self.wait_s(channel_id=channel_id, token_key=token_key)
                yields = not urgent and channel_id is not None and self._urgent[channel_id] > 0
                if delay_s <= 0 and not yields:
                    break
                # Polling is right here: the bucket refills with time, not on an event.
                await asyncio.sleep(delay_s if delay_s > 0 else self._yield_s())
        finally:
            if urgent and channel_id is not None:
                self._urgent[channel_id] -= 1
        self.take(channel_id=channel_id, token_key=token_key)

    def _yield_s(self) -> float:
        # How long a routine request steps aside for an urgent one: one token's refill time.
        return self.limits.channel_window_s / self.limits.channel_requests

    def forget_token(self, token_key: Hashable) -> None:
        self._tokens.pop(token_key, None)

    def _buckets(self, channel_id: int | None, token_key: Hashable | None) -> list[TokenBucket]:
        limits = self.limits
        if token_key is not None:
            return [
                self._bucket(self._tokens, token_key, limits.token_requests, limits.token_window_s)
            ]
        buckets = [self._global]
        if channel_id is not None:
            channels = self._channels
            buckets.append(
                self._bucket(channels, channel_id, limits.channel_requests, limits.channel_window_s)
            )
        return buckets

    def _bucket(
        self, table: dict[Hashable, TokenBucket], key: Hashable, capacity: int, window_s: float
    ) -> TokenBucket:
        bucket = table.get(key)
        if bucket is None:
            bucket = table[key] = TokenBucket(capacity, window_s, self._clock)
        return bucket
