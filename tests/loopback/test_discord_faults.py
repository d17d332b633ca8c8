"""Discord failures during delivery: rate limits, server errors, missing access, closed DMs and
a deleted status message. In each case the image reaches the member and nothing is lost."""

from __future__ import annotations

from cogs import formatting
from storage import Job, JobStatus
from tests.fakediscord import TOKEN_LIFETIME_S, FakeInteraction, FakeUser
from tests.loopback.conftest import Loopback, job_id_of, loopback_settings, start_loopback

CHANNEL_POST = "/channels/{channel_id}/messages"
WEBHOOK_EDIT = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
FOLLOWUP = "/webhooks/{webhook_id}/{webhook_token}"
CALLBACK = "/interactions/{interaction_id}/{interaction_token}/callback"


async def imagine(loopback: Loopback, user: FakeUser, prompt: str) -> tuple[FakeInteraction, int]:
    """Run /imagine as ``user`` and return the interaction and the job's id."""
    loopback.guild.add_member(user)
    reply = await loopback.fake.slash(
        loopback.guild, loopback.channel, user, "imagine", prompt=prompt
    )
    return reply, job_id_of(reply)


async def delivered(loopback: Loopback, job_id: int) -> Job:
    job = await loopback.job(job_id, lambda job: job.delivered_at is not None)
    assert job.status is JobStatus.SUCCEEDED
    return job


def images_in_channel(loopback: Loopback) -> list[int]:
    return [message.id for message in loopback.channel.messages if message.attachments]


async def finish_after_token_expired(loopback: Loopback, job_id: int) -> Job:
    """Hold the job on the backend until its interaction token has expired, then let it finish."""
    await loopback.job(job_id, lambda job: job.status is JobStatus.RUNNING)
    loopback.fake.clock.advance(TOKEN_LIFETIME_S + 60)
    loopback.webui.clear_faults()
    return await loopback.job(job_id, lambda job: job.delivered_at is not None)


async def test_429_on_reply_and_followup_delays_only(loopback) -> None:
    fake = loopback.fake
    ann = fake.create_user("ann")
    fake.inject("POST", CALLBACK, status=429, count=1, retry_after=0.2)
    fake.inject("POST", f"/channels/{loopback.channel.id}/messages", status=403, code=50013)
    fake.inject("POST", FOLLOWUP, status=429, count=1, retry_after=0.2)

    reply, job_id = await imagine(loopback, ann, "a lighthouse in fog")
    job = await delivered(loopback, job_id)

    assert "Queued" in reply.callbacks[0]["data"]["content"]
    await fake.wait_for(lambda: "Done." in reply.original.content, timeout_s=5)
    assert job.delivery_note == formatting.NOTE_VIA_REPLY
    assert [message.id for message in reply.followups] == [job.result_message_id]
    assert fake.message(job.result_message_id).attachments
    assert fake.stats.rate_limited >= 2


async def test_500_on_result_post_retried_once(loopback) -> None:
    fake = loopback.fake
    ann = fake.create_user("ann")
    fake.inject("POST", f"/channels/{loopback.channel.id}/messages", status=500, count=1)

    reply, job_id = await imagine(loopback, ann, "a red fox")
    job = await delivered(loopback, job_id)

    assert images_in_channel(loopback) == [job.result_message_id]
    assert job.delivery_note is None
    assert "Done." in fake.message(job.status_message_id).content
    posts = [r for r in fake.requests if r.route == CHANNEL_POST and r.method == "POST"]
    assert [r.status for r in posts] == [500, 200]


async def test_503_on_result_post_delivered_after_restart(tmp_path, fake_discord, webui) -> None:
    settings = loopback_settings(tmp_path, webui.url)
    async with start_loopback(fake_discord, settings, webui) as first:
        channel = first.channel
        ann = fake_discord.create_user("ann")
        # discord.py 2.7 retries 500, 502, 504 and 524 itself, but raises a 503 at once.
        fake_discord.inject("POST", f"/channels/{channel.id}/messages", status=503, count=1)
        _, job_id = await imagine(first, ann, "a stone bridge")
        await first.job(job_id, lambda job: job.status is JobStatus.SUCCEEDED)
        await fake_discord.wait_for(lambda: any(r.status == 503 for r in fake_discord.requests))
        undelivered = await first.service.store.get(job_id)
        assert undelivered.delivered_at is None

    async with start_loopback(fake_discord, settings, webui) as second:
        job = await delivered(second, job_id)

    posted = [message for message in channel.messages if message.attachments]
    assert [message.id for message in posted] == [job.result_message_id]
    assert "Done." in fake_discord.message(job.status_message_id).content


async def test_500_on_status_edit_retried(loopback) -> None:
    fake = loopback.fake
    ann = fake.create_user("ann")
    fake.inject("PATCH", WEBHOOK_EDIT, status=500, count=1)

    _, job_id = await imagine(loopback, ann, "a quiet harbour")
    job = await delivered(loopback, job_id)

    status = fake.message(job.status_message_id)
    assert "Done." in status.content
    assert str(job.result_message_id) in status.content
    edits = [r for r in fake.requests if r.route == WEBHOOK_EDIT and r.method == "PATCH"]
    assert edits[0].status == 500
    assert edits[-1].status == 200


async def test_missing_access_falls_back_to_reply(loopback) -> None:
    fake = loopback.fake
    for code in (50001, 50013):
        member = fake.create_user(f"member-{code}")
        fake.inject("POST", f"/channels/{loopback.channel.id}/messages", status=403, code=code)

        reply, job_id = await imagine(loopback, member, f"locked out {code}")
        job = await delivered(loopback, job_id)

        assert job.delivery_note == formatting.NOTE_VIA_REPLY, code
        assert [message.id for message in reply.followups] == [job.result_message_id], code
        posted = fake.message(job.result_message_id)
        assert posted.attachments, code
        assert posted.mentions == [member.id], code
        assert formatting.NOTE_VIA_REPLY in fake.message(job.status_message_id).content, code


async def test_missing_access_old_token_falls_back_to_dm(loopback) -> None:
    fake = loopback.fake
    ann = fake.create_user("ann")
    loopback.webui.fail_next("hang")
    fake.inject("POST", f"/channels/{loopback.channel.id}/messages", status=403, code=50001)

    reply, job_id = await imagine(loopback, ann, "a late image")
    job = await finish_after_token_expired(loopback, job_id)

    assert job.status is JobStatus.SUCCEEDED
    assert job.delivery_note == formatting.NOTE_VIA_DM
    assert reply.followups == []
    dms = fake.dm_messages(ann)
    assert [message.id for message in dms] == [job.result_message_id]
    assert dms[0].attachments
    assert formatting.NOTE_VIA_DM in fake.message(job.status_message_id).content
    assert fake.stats.expired_token_calls == 0


async def test_dm_50007_keeps_image_for_where_am_i(loopback) -> None:
    fake = loopback.fake
    ann = fake.create_user("ann", dms_open=False)
    loopback.webui.fail_next("hang")
    fake.inject("POST", f"/channels/{loopback.channel.id}/messages", status=403, code=50013)

    reply, job_id = await imagine(loopback, ann, "nowhere to go")
    job = await finish_after_token_expired(loopback, job_id)

    assert job.status is JobStatus.SUCCEEDED
    assert job.result_message_id is None
    assert job.delivery_note == formatting.NOTE_KEPT
    assert fake.dm_messages(ann) == []
    assert (await loopback.service.store.user_prefs(ann.id)).dm_blocked_at is not None
    status = fake.message(job.status_message_id)
    assert formatting.NOTE_KEPT in status.content
    answer = await fake.click(status, f"imagine:where:{job_id}", ann)
    assert answer.ephemeral
    assert "could not be posted" in answer.original.content
    names = [attachment.filename for attachment in answer.original.attachments]
    assert names == [f"imagine-{job_id}-0.png"]


async def test_dm_link_50007_marks_dms_closed(loopback) -> None:
    fake = loopback.fake
    ann = fake.create_user("ann", dms_open=False)
    loopback.guild.add_member(ann)
    await fake.slash(loopback.guild, loopback.channel, ann, "notify", setting="on")

    _, job_id = await imagine(loopback, ann, "tell me by DM")
    job = await delivered(loopback, job_id)

    assert images_in_channel(loopback) == [job.result_message_id]
    assert job.delivery_note is None
    prefs = await loopback.service.store.user_prefs(ann.id)
    assert prefs.dm_opt_in
    assert prefs.dm_blocked_at is not None
    dm_posts = [r for r in fake.requests if r.method == "POST" and r.code == 50007]
    assert len(dm_posts) == 1


async def test_deleted_status_message_gets_no_more_edits(loopback) -> None:
    fake = loopback.fake
    ann, bob = fake.create_user("ann"), fake.create_user("bob")
    loopback.webui.fail_next("hang")
    _, first = await imagine(loopback, ann, "first")
    for index in range(3):
        await imagine(loopback, ann, f"waiting {index}")
    reply, job_id = await imagine(loopback, bob, "behind four others")
    await loopback.job(first, lambda job: job.status is JobStatus.RUNNING)
    status_id = reply.original.id
    # A moderator deletes bob's status message while four jobs are still ahead of it.
    fake.state.delete_message(reply.original)

    loopback.webui.clear_faults()
    job = await delivered(loopback, job_id)

    edits = [
        r
        for r in fake.requests
        if r.method == "PATCH" and r.path.endswith(f"/messages/{status_id}")
    ]
    assert len(edits) <= 1, [r.code for r in edits]
    posted = fake.message(job.result_message_id)
    assert posted.channel is loopback.channel
    assert posted.attachments
    assert posted.mentions == [bob.id]
    assert job.delivery_note is None


async def test_reply_too_late_withdraws_job(loopback) -> None:
    fake = loopback.fake
    ann = fake.create_user("ann")
    loopback.guild.add_member(ann)
    fake.inject("POST", CALLBACK, status=404, code=10062)

    reply = await fake.slash(loopback.guild, loopback.channel, ann, "imagine", prompt="a fox")

    assert reply.original is None
    job = await loopback.job(1, lambda job: job.status is JobStatus.CANCELLED)
    assert job.result_message_id is None
    assert not [message for message in loopback.channel.messages if message.attachments]
