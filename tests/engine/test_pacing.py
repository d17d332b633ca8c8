"""Token buckets and the pacer that keeps requests under Discord's limits."""

from __future__ import annotations

import pytest

from engine import Pacer, PacingLimits
from engine.pacing import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_capacity_then_waits() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5, 5.0, clock)

    for _ in range(5):
        assert bucket.wait_s() == 0
        bucket.take()

    assert bucket.wait_s() == pytest.approx(1.0)
    clock.now = 1.0
    assert bucket.wait_s() == 0


def test_pacer_channel_route_counts_global_and_channel() -> None:
    clock = FakeClock()
    pacer = Pacer(
        PacingLimits(channel_requests=2, channel_window_s=2.0, global_requests_per_s=3), clock
    )

    pacer.take(channel_id=1)
    pacer.take(channel_id=1)
    pacer.take(channel_id=2)

    assert pacer.wait_s(channel_id=1) > 0
    assert pacer.wait_s(channel_id=3) > 0, "the global bucket is empty"


def test_pacer_token_route_skips_global_bucket() -> None:
    clock = FakeClock()
    pacer = Pacer(PacingLimits(token_requests=2, global_requests_per_s=1), clock)
    pacer.take(channel_id=1)

    assert pacer.wait_s(token_key="a") == 0
    pacer.take(token_key="a")
    pacer.take(token_key="a")
    assert pacer.wait_s(token_key="a") > 0
    assert pacer.wait_s(token_key="b") == 0


async def test_pacer_urgent_request_goes_first() -> None:
    import asyncio

    pacer = Pacer(PacingLimits(channel_requests=1, channel_window_s=0.2))
    pacer.take(channel_id=1)
    order: list[str] = []

    async def request(name: str, urgent: bool) -> None:
        await pacer.acquire(channel_id=1, urgent=urgent)
        order.append(name)

    routine = asyncio.create_task(request("status edit", False))
    await asyncio.sleep(0.05)
    await request("result post", True)
    await routine

    assert order == ["result post", "status edit"]
