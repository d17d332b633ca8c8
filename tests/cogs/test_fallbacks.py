"""Delivery that never silently fails: no channel access, closed DMs, oversize uploads."""

from __future__ import annotations

import discord

from cogs import formatting
from storage import JobStatus
from tests.conftest import make_settings, start_harness


def locked_channel(harness):
    """A channel where the bot may read but not post."""
    bot_member = harness.guild.me
    overwrite = discord.PermissionOverwrite(send_messages=False, attach_files=False)
    return harness.guild.create_text_channel("locked", overwrites={bot_member: overwrite})


async def slash_first_reply(harness, member, channel, name: str, **options):
    """Run a slash command and return its result and the first text the member saw."""
    from demo import _first_reply

    start = len(harness.env.http_requests)
    result = await member.slash(channel, name, **options)
    return result, _first_reply(harness.env.http_requests[start:])


async def newest_job(harness):
    jobs = await harness.service.store.list_jobs(limit=1000)
    return await harness.wait_delivered(max(job.id for job in jobs))


async def test_no_channel_access_uses_command_reply(harness) -> None:
    channel = locked_channel(harness)
    ann = harness.member("ann")

    _, first_reply = await slash_first_reply(harness, ann, channel, "imagine", prompt="locked out")
    job = await newest_job(harness)

    assert "lacks Send Messages, Attach Files" in first_reply
    assert job.status is JobStatus.SUCCEEDED
    assert job.result_message_id is not None
    assert job.delivery_note == formatting.NOTE_VIA_REPLY
    posted = [m for m in channel.history() if m.id == job.result_message_id]
    assert len(posted) == 1
    assert posted[0].attachments


async def expired_token_harness(tmp_path, webui):
    settings = make_settings(tmp_path, webui.url)
    discord_settings = settings.discord.model_copy(update={"token_reuse_max_s": 0.001})
    return start_harness(settings.model_copy(update={"discord": discord_settings}), webui)


async def test_no_channel_access_and_old_token_uses_dm(tmp_path, webui) -> None:
    async with await expired_token_harness(tmp_path, webui) as harness:
        channel = locked_channel(harness)
        ann = harness.member("ann")

        await ann.slash(channel, "imagine", prompt="locked out, late")
        job = await newest_job(harness)

        assert job.delivery_note == formatting.NOTE_VIA_DM
        dms = ann.user.dm_channel.history()
        assert [m.id for m in dms] == [job.result_message_id]
        assert dms[0].attachments


async def test_closed_dms_keep_image_for_where_am_i(tmp_path, webui) -> None:
    async with await expired_token_harness(tmp_path, webui) as harness:
        channel = locked_channel(harness)
        ann = harness.member("ann")
        dm_channel_id = ann.user.dm_channel.id
        harness.env.inject_error(
            "POST", f"/channels/{dm_channel_id}/messages", status=403, code=50007, times=None
        )

        first = await ann.slash(channel, "imagine", prompt="nowhere to go")
        job = await newest_job(harness)
        _ = harness.env.errors

        assert job.status is JobStatus.SUCCEEDED
        assert job.result_message_id is None
        assert job.delivery_note == formatting.NOTE_KEPT
        assert (await harness.service.store.user_prefs(ann.id)).dm_blocked_at is not None
        answer = await ann.click(message_by_id_in(channel, first.response.id), label="Where am I?")
        assert answer.ephemeral
        assert "could not be posted" in answer.response.content
        assert [a.filename for a in answer.response.attachments] == [f"imagine-{job.id}-0.png"]


def message_by_id_in(channel, message_id):
    for message in channel.history():
        if message.id == message_id:
            return message
    return None


async def test_notify_on_sends_dm_link(harness) -> None:
    ann = harness.member("ann")
    answer = await ann.slash(harness.channel, "notify", setting="on")
    assert "You will get a DM" in answer.response.content

    await ann.slash(harness.channel, "imagine", prompt="ping me")
    job = await newest_job(harness)

    dms = ann.user.dm_channel.history()
    assert len(dms) == 1
    assert str(job.result_message_id) in dms[0].content
    assert dms[0].attachments == []


async def test_dm_refused_pauses_dms_and_next_reply_explains(harness) -> None:
    ann = harness.member("ann")
    await ann.slash(harness.channel, "notify", setting="on")
    dm_channel_id = ann.user.dm_channel.id
    harness.env.inject_error(
        "POST", f"/channels/{dm_channel_id}/messages", status=403, code=50007, times=None
    )

    await ann.slash(harness.channel, "imagine", prompt="first")
    await newest_job(harness)
    _ = harness.env.errors
    _, second_reply = await slash_first_reply(
        harness, ann, harness.channel, "imagine", prompt="second"
    )

    assert (await harness.service.store.user_prefs(ann.id)).dm_blocked_at is not None
    assert formatting.DM_BLOCKED_HINT in second_reply
