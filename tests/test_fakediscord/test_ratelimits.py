"""Rate limits: bucket headers, 429 shapes, the global limit, and discord.py's reaction to them."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.fakediscord import BucketConfig, BucketLimit, FakeDiscord
from tests.fakediscord.ratelimits import Window
from tests.test_fakediscord.probe_bot import Probe, wait_for_edit

EDIT_ROUTE = "/channels/{channel_id}/messages/{message_id}"


def test_window_take_resets_after_window() -> None:
    window = Window(BucketLimit(2, 5.0))

    granted = [window.take(100.0), window.take(101.0), window.take(104.9), window.take(105.0)]

    assert granted == [True, True, False, True]
    assert window.reset_at == 110.0
    assert window.remaining == 1


async def test_injected_429_burst_delays_then_succeeds(probe: Probe) -> None:
    message = await probe.text_channel().send("queued")
    probe.fake.inject("PATCH", EDIT_ROUTE, status=429, count=2, retry_after=0.1)

    await message.edit(content="done")

    edits = [request for request in probe.fake.requests if request.method == "PATCH"]
    assert [request.status for request in edits] == [429, 429, 200]
    assert probe.fake.message(message.id).content == "done"
    assert probe.fake.stats.rate_limited == 2


@pytest.mark.parametrize(
    "fake_discord_options", [{"buckets": BucketConfig(channel_messages=BucketLimit(5, 1.0))}]
)
async def test_channel_bucket_paces_12_edits_without_429(probe: Probe) -> None:
    message = await probe.text_channel().send("0")

    for number in range(1, 13):
        await message.edit(content=str(number))

    writes = [request for request in probe.fake.requests if request.route.startswith("/channels/")]
    assert probe.fake.stats.rate_limited == 0
    assert [request.status for request in writes] == [200] * 13
    assert probe.fake.message(message.id).content == "12"
    assert len(probe.fake.message(message.id).edits) == 12
    # Writes 0, 5 and 10 each opened a window, so discord.py waited a full window before them.
    times = [request.time for request in writes]
    assert times[5] - times[0] >= 1.0
    assert times[10] - times[5] >= 1.0


@pytest.mark.parametrize(
    "fake_discord_options", [{"buckets": BucketConfig(interaction_token=BucketLimit(2, 0.2))}]
)
async def test_webhook_bucket_paces_edits_without_429(probe: Probe) -> None:
    interaction = await probe.fake.slash(probe.guild, probe.channel, probe.alice, "ping")
    await wait_for_edit(probe.fake, interaction)
    received = probe.cog.interactions[-1]

    for number in range(6):
        await received.edit_original_response(content=f"step {number}")

    assert probe.fake.stats.rate_limited == 0
    assert interaction.original is not None
    assert interaction.original.content == "step 5"


@pytest.mark.parametrize(
    "fake_discord_options", [{"buckets": BucketConfig(channel_messages=BucketLimit(2, 5.0))}]
)
async def test_bucket_429_carries_discord_headers(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    channel = fake_discord.create_guild("guild").create_channel("general")
    path = f"channels/{channel.id}/messages"
    statuses = []
    for number in range(3):
        async with http.post(path, json={"content": str(number)}) as response:
            statuses.append(response.status)
            headers = response.headers
            body = await response.json()

    assert statuses == [200, 200, 429]
    assert headers["Content-Type"] == "application/json"
    assert headers["Via"]
    assert headers["X-RateLimit-Scope"] == "user"
    assert headers["X-RateLimit-Limit"] == "2"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert 0 < float(headers["X-RateLimit-Reset-After"]) <= 5.0
    assert float(headers["X-RateLimit-Reset"]) > 0
    assert headers["X-RateLimit-Bucket"]
    assert int(headers["Retry-After"]) >= 1
    assert body["message"] == "You are being rate limited."
    assert 0 < body["retry_after"] <= 5.0
    assert body["global"] is False
    assert fake_discord.stats.rate_limited == 1
    assert fake_discord.stats.invalid_requests == 1


async def test_bucket_headers_on_success(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    channel = fake_discord.create_guild("guild").create_channel("general")
    other = fake_discord.create_guild("other").create_channel("general")

    async with http.post(f"channels/{channel.id}/messages", json={"content": "a"}) as first:
        pass
    async with http.post(f"channels/{channel.id}/messages", json={"content": "b"}) as second:
        pass
    async with http.post(f"channels/{other.id}/messages", json={"content": "c"}) as third:
        pass

    assert first.headers["X-RateLimit-Limit"] == "5"
    assert first.headers["X-RateLimit-Remaining"] == "4"
    assert second.headers["X-RateLimit-Remaining"] == "3"
    # Buckets are keyed by channel, under one bucket hash.
    assert third.headers["X-RateLimit-Remaining"] == "4"
    assert third.headers["X-RateLimit-Bucket"] == first.headers["X-RateLimit-Bucket"]


@pytest.mark.parametrize(
    "fake_discord_options", [{"buckets": BucketConfig(global_requests=BucketLimit(3, 10.0))}]
)
async def test_global_limit_exempts_interaction_routes(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    statuses = []
    for _ in range(4):
        async with http.get("users/@me") as response:
            statuses.append(response.status)
            headers = response.headers
            body = await response.json()
    async with http.post("interactions/1/token/callback", json={"type": 5}) as callback:
        callback_body = await callback.json()

    assert statuses == [200, 200, 200, 429]
    assert body["global"] is True
    assert headers["X-RateLimit-Global"] == "true"
    assert headers["X-RateLimit-Scope"] == "global"
    assert headers["Via"]
    assert callback.status == 404
    assert callback_body["code"] == 10062


@pytest.mark.parametrize("fake_discord_options", [{"time_scale": 100.0}])
async def test_time_scale_divides_retry_after(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    channel = fake_discord.create_guild("guild").create_channel("general")
    fake_discord.inject("GET", "/users/@me", status=429, retry_after=10.0)

    async with http.get("users/@me") as limited:
        limited_body = await limited.json()
    async with http.post(f"channels/{channel.id}/messages", json={"content": "a"}) as posted:
        reset_after = float(posted.headers["X-RateLimit-Reset-After"])

    assert limited.status == 429
    assert limited_body["retry_after"] == pytest.approx(0.1)
    # The channel window is 5 fake seconds, which is 0.05 real seconds at scale 100.
    assert 0 < reset_after <= 0.05


@pytest.mark.parametrize(
    ("status", "code"), [(500, 0), (403, 50013), (404, 10008), (401, 0), (400, 50035)]
)
async def test_injected_error_has_discord_shape(
    fake_discord: FakeDiscord, http: aiohttp.ClientSession, status: int, code: int
) -> None:
    fake_discord.inject("*", "/users/@me", status=status, code=code)

    async with http.get("users/@me") as response:
        body: dict[str, Any] = await response.json()
    async with http.get("users/@me") as after:
        pass

    assert response.status == status
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert response.headers["X-RateLimit-Remaining"] == "49"
    assert after.status == 200
