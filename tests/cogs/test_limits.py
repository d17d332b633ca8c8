"""Per-member limits and scheduling policy, as members see them."""

from __future__ import annotations

from storage import JobStatus
from tests.conftest import make_settings, start_harness


async def test_thirty_requests_with_cap_three_queue_three(tmp_path, webui) -> None:
    # SimCord runs one operation at a time; the concurrent case runs against the loopback fake.
    settings = make_settings(tmp_path, webui.url)
    settings = settings.model_copy(
        update={"queue": settings.queue.model_copy(update={"max_queued_per_user": 3})}
    )
    async with start_harness(settings, webui, start_workers=False) as harness:
        ann = harness.member("ann")

        results = [
            await ann.slash(harness.channel, "imagine", prompt=f"burst {i}") for i in range(30)
        ]

        queued = [r for r in results if not r.ephemeral]
        refused = [r for r in results if r.ephemeral]
        assert len(queued) == 3
        assert len(refused) == 27
        assert "the limit is 3" in refused[0].response.content
        counts = await harness.service.store.counts()
        assert counts[JobStatus.QUEUED] == 3


async def test_fair_policy_interleaves_members(tmp_path, webui) -> None:
    settings = make_settings(tmp_path, webui.url)
    queue = settings.queue.model_copy(update={"policy": "fair", "max_queued_per_user": 0})
    async with start_harness(
        settings.model_copy(update={"queue": queue}), webui, start_workers=False
    ) as harness:
        ann, bob = harness.member("ann"), harness.member("bob")
        for index in range(3):
            await ann.slash(harness.channel, "imagine", prompt=f"ann {index}")

        reply = await bob.slash(harness.channel, "imagine", prompt="bob 0")

        assert "1 task ahead of you" in reply.response.content
        positions = await harness.service.store.positions()
        assert positions == {1: 0, 4: 1, 2: 2, 3: 3}


async def test_cooldown_rejects_quick_second_request(tmp_path, webui) -> None:
    settings = make_settings(tmp_path, webui.url)
    queue = settings.queue.model_copy(update={"cooldown_s": 60.0})
    async with start_harness(
        settings.model_copy(update={"queue": queue}), webui, start_workers=False
    ) as harness:
        ann = harness.member("ann")
        await ann.slash(harness.channel, "imagine", prompt="one")

        second = await ann.slash(harness.channel, "imagine", prompt="two")

        assert second.ephemeral
        assert "You can queue again <t:" in second.response.content
