"""/cancel and the Cancel button: owners and admins only, queued and running jobs."""

from __future__ import annotations

import discord

from storage import JobStatus
from tests.cogs.test_status import message_by_id, shows


async def test_cancel_button_cancels_own_queued_job(idle_harness) -> None:
    ann, bob = idle_harness.member("ann"), idle_harness.member("bob")
    first = await ann.slash(idle_harness.channel, "imagine", prompt="first")
    second = await bob.slash(idle_harness.channel, "imagine", prompt="second")

    answer = await ann.click(first.response.message, label="Cancel")

    assert answer.ephemeral
    assert answer.response.content == "Job 1 was cancelled."
    assert (await idle_harness.service.store.get(1)).status is JobStatus.CANCELLED
    assert await idle_harness.service.store.tasks_ahead(2) == 0
    await shows(idle_harness, first.response.id, "Cancelled.")
    assert second.response.id != first.response.id


async def test_cancel_someone_elses_job_rejected(idle_harness) -> None:
    ann, bob = idle_harness.member("ann"), idle_harness.member("bob")
    first = await ann.slash(idle_harness.channel, "imagine", prompt="first")

    answer = await bob.click(first.response.message, label="Cancel")

    assert answer.ephemeral
    assert "belongs to someone else" in answer.response.content
    assert (await idle_harness.service.store.get(1)).status is JobStatus.QUEUED


async def test_admin_cancels_member_job(idle_harness) -> None:
    mods = idle_harness.guild.create_role(
        "mods", permissions=discord.Permissions(manage_guild=True)
    )
    ann = idle_harness.member("ann")
    moderator = idle_harness.guild.add_member(idle_harness.env.create_user("mod"), roles=[mods])
    await ann.slash(idle_harness.channel, "imagine", prompt="first")

    answer = await moderator.slash(idle_harness.channel, "cancel", job=1)

    assert answer.response.content == "Job 1 was cancelled by an admin."
    assert (await idle_harness.service.store.get(1)).status is JobStatus.CANCELLED


async def test_cancel_without_job_takes_newest(idle_harness) -> None:
    ann = idle_harness.member("ann")
    await ann.slash(idle_harness.channel, "imagine", prompt="first")
    await ann.slash(idle_harness.channel, "imagine", prompt="second")

    answer = await ann.slash(idle_harness.channel, "cancel")

    assert answer.response.content == "Job 2 was cancelled."
    assert (await idle_harness.service.store.get(1)).status is JobStatus.QUEUED


async def test_cancel_running_job_interrupts_backend(harness) -> None:
    harness.webui.speed = 0.2
    ann = harness.member("ann")
    first = await ann.slash(harness.channel, "imagine", prompt="slow", steps=60)
    await shows(harness, first.response.id, "Generating")

    answer = await ann.slash(harness.channel, "cancel", job=1)

    assert answer.response.content == "Job 1 was cancelled."
    await shows(harness, first.response.id, "Cancelled.")
    harness.webui.speed = 2000.0
    job = await harness.service.store.get(1)
    assert job.status is JobStatus.CANCELLED
    assert job.result_message_id is None
    posted = [m for m in harness.channel.history() if m.attachments]
    assert posted == []
    assert harness.webui.state.progress.interrupted, "the backend was not interrupted"


async def test_cancel_unknown_job(idle_harness) -> None:
    answer = await idle_harness.member("ann").slash(idle_harness.channel, "cancel", job=99)

    assert "Job 99 does not exist" in answer.response.content
    assert message_by_id(idle_harness, 0) is None
