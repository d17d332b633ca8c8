"""The other commands' options at Discord's extremes: /cancel, /notify and /queue-admin."""

from __future__ import annotations

import discord

from storage import JobStatus
from tests.hostile.discord_rules import assert_content_valid

# simcord accepts integer options up to 2**53 - 1, and the job options start at 1.
JOB_NUMBERS = (1, 2, 2**31 - 1, 2**31, 2**53 - 1)


def add_admin(harness):
    role = harness.guild.create_role("mods", permissions=discord.Permissions(manage_guild=True))
    return harness.guild.add_member(harness.env.create_user("mod"), roles=[role])


async def test_cancel_extreme_job_numbers_answered(idle_harness) -> None:
    ann, bob = idle_harness.member("ann"), idle_harness.member("bob")
    await bob.slash(idle_harness.channel, "imagine", prompt="bob's fox")

    for job in JOB_NUMBERS:
        answer = await ann.slash(idle_harness.channel, "cancel", job=job)

        assert answer.ephemeral, job
        assert_content_valid(answer.response.content, label=str(job))
        assert f"Job {job} " in answer.response.content, answer.response.content
    assert (await idle_harness.service.store.get(1)).status is JobStatus.QUEUED


async def test_notify_each_setting_answered(idle_harness) -> None:
    ann = idle_harness.member("ann")

    for setting, enabled in (("on", True), ("off", False), ("on", True)):
        answer = await ann.slash(idle_harness.channel, "notify", setting=setting)

        assert answer.ephemeral
        assert_content_valid(answer.response.content, label=setting)
        assert (await idle_harness.service.store.user_prefs(ann.id)).dm_opt_in is enabled


async def test_admin_extreme_numbers_answered(idle_harness) -> None:
    ann = idle_harness.member("ann")
    await ann.slash(idle_harness.channel, "imagine", prompt="ann's fox")
    admin = add_admin(idle_harness)

    for number in JOB_NUMBERS[1:]:
        view = await admin.slash(idle_harness.channel, "queue-admin view", page=number)
        removed = await admin.slash(idle_harness.channel, "queue-admin remove", job=number)
        retried = await admin.slash(idle_harness.channel, "queue-admin retry", job=number)

        for answer in (view, removed, retried):
            assert answer.ephemeral, number
            assert_content_valid(answer.response.content, label=str(number))
        assert f"page {number} of 1" in view.response.content
        assert f"Job {number} does not exist" in removed.response.content
        assert f"Job {number} " in retried.response.content
    assert (await idle_harness.service.store.get(1)).status is JobStatus.QUEUED


async def test_imagine_lone_surrogate_removed(idle_harness) -> None:
    answer = await idle_harness.member("ann").slash(
        idle_harness.channel, "imagine", prompt="a red fox \ud800"
    )

    assert not answer.ephemeral
    assert "tasks ahead" in answer.response.content or "task ahead" in answer.response.content
    [job] = await idle_harness.service.store.list_jobs(limit=10)
    assert job.params["prompt"] == "a red fox"
