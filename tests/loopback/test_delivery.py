"""Status updates and delivery over the real HTTP stack: token lifetime, 429s, sizes, caps."""

from __future__ import annotations

import asyncio

from storage import JobStatus
from tests.loopback.conftest import job_id_of


async def test_job_waiting_20_minutes_is_updated_and_posted(loopback) -> None:
    fake = loopback.fake
    ann, bob = fake.create_user("ann"), fake.create_user("bob")
    loopback.guild.add_member(ann)
    loopback.guild.add_member(bob)
    loopback.webui.fail_next("hang")

    first = await fake.slash(loopback.guild, loopback.channel, ann, "imagine", prompt="first")
    waiting = await fake.slash(loopback.guild, loopback.channel, bob, "imagine", prompt="second")
    assert "1 task ahead of you" in waiting.original.content
    await loopback.job(job_id_of(first), lambda job: job.status is JobStatus.RUNNING)

    fake.clock.advance(20 * 60)
    # Slow enough (about 2 s) for the start of the second job to get its own status edit.
    loopback.webui.speed = 1.0
    loopback.webui.clear_faults()
    job = await loopback.job(job_id_of(waiting), lambda job: job.delivered_at is not None)

    assert job.status is JobStatus.SUCCEEDED
    status = fake.message(job.status_message_id)
    assert any("Generating" in edit.content for edit in status.edits if edit.content)
    assert "Done." in status.content
    posted = fake.message(job.result_message_id)
    assert posted.attachments
    assert posted.mentions == [bob.id]
    assert fake.stats.expired_token_calls == 0


async def test_burst_of_429s_delays_but_loses_nothing(loopback) -> None:
    fake = loopback.fake
    members = [fake.create_user(f"member-{i}") for i in range(4)]
    for member in members:
        loopback.guild.add_member(member)
    fake.inject(
        "PATCH",
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        status=429,
        count=6,
        retry_after=0.3,
    )
    fake.inject("POST", "/channels/{channel_id}/messages", status=429, count=3, retry_after=0.3)

    replies = [
        await fake.slash(loopback.guild, loopback.channel, member, "imagine", prompt=f"burst {i}")
        for i, member in enumerate(members)
    ]
    jobs = [
        await loopback.job(job_id_of(reply), lambda job: job.delivered_at is not None)
        for reply in replies
    ]

    assert all(job.status is JobStatus.SUCCEEDED for job in jobs)
    assert all(fake.message(job.result_message_id).attachments for job in jobs)
    assert all("Done." in fake.message(job.status_message_id).content for job in jobs)
    assert fake.stats.rate_limited >= 1


async def test_oversize_image_is_reencoded_not_dropped(loopback) -> None:
    fake = loopback.fake
    ann = fake.create_user("ann")
    loopback.guild.add_member(ann)
    small = loopback.guild.create_channel("small-uploads", upload_limit=40_000)

    reply = await fake.slash(
        loopback.guild, small, ann, "imagine", prompt="big and detailed", width=1024, height=1024
    )
    job = await loopback.job(job_id_of(reply), lambda job: job.delivered_at is not None)

    posted = fake.message(job.result_message_id)
    assert posted.attachments
    assert all(attachment.size <= 40_000 for attachment in posted.attachments)
    assert "re-encoded" in posted.content


async def test_thirty_concurrent_requests_cap_three(tmp_path, fake_discord, webui) -> None:
    from tests.loopback.conftest import loopback_settings, start_loopback

    settings = loopback_settings(tmp_path, webui.url)
    settings = settings.model_copy(
        update={"queue": settings.queue.model_copy(update={"max_queued_per_user": 3})}
    )
    webui.fail_next("hang")
    async with start_loopback(fake_discord, settings, webui) as loopback:
        ann = fake_discord.create_user("ann")
        loopback.guild.add_member(ann)

        replies = await asyncio.gather(
            *(
                fake_discord.slash(
                    loopback.guild, loopback.channel, ann, "imagine", prompt=f"burst {i}"
                )
                for i in range(30)
            )
        )

        queued = [r for r in replies if r.original is not None and "Queued" in r.original.content]
        refused = [
            r for r in replies if r.original is not None and "the limit is 3" in r.original.content
        ]
        assert len(queued) == 3
        assert len(refused) == 27
        counts = await loopback.service.store.counts()
        assert counts[JobStatus.QUEUED] + counts[JobStatus.RUNNING] == 3
        webui.clear_faults()
