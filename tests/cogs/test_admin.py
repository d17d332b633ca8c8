"""/queue-admin: hidden from members, refused at run time to non-admins, and what it does."""

from __future__ import annotations

import discord
import pytest
import simcord

from storage import JobStatus
from tests.cogs.test_status import message_by_id, shows
from tests.conftest import make_settings, start_harness


def add_admin(harness, name: str = "mod"):
    role = harness.guild.create_role("mods", permissions=discord.Permissions(manage_guild=True))
    return harness.guild.add_member(harness.env.create_user(name), roles=[role])


async def test_member_cannot_see_admin_commands(idle_harness) -> None:
    member = idle_harness.member("ann")
    admin = add_admin(idle_harness)

    assert "queue-admin view" not in member.available_commands(idle_harness.channel)
    assert "queue mine" in member.available_commands(idle_harness.channel)
    assert "queue-admin view" in admin.available_commands(idle_harness.channel)
    with pytest.raises(simcord.SetupError):
        await member.slash(idle_harness.channel, "queue-admin view")


async def test_admin_command_rejects_non_admin(idle_harness) -> None:
    # A server can show the command to anyone through its integration settings.
    member = idle_harness.member("ann")
    commands = await idle_harness.bot.tree.fetch_commands()
    (admin_command,) = [command for command in commands if command.name == "queue-admin"]
    idle_harness.guild.set_command_permissions(admin_command, {member: True})

    answer = await member.slash(idle_harness.channel, "queue-admin view")

    assert answer.ephemeral
    assert "Only the bot's admins can run this" in answer.response.content


async def test_admin_listed_in_settings_can_view(tmp_path, webui) -> None:
    settings = make_settings(tmp_path, webui.url)
    async with start_harness(settings, webui, start_workers=False) as harness:
        role = harness.guild.create_role(
            "helpers", permissions=discord.Permissions(manage_guild=True)
        )
        helper = harness.guild.add_member(harness.env.create_user("helper"), roles=[role])
        listed = settings.discord.model_copy(update={"admin_user_ids": [helper.id]})
        harness.bot.settings = settings.model_copy(update={"discord": listed})

        answer = await helper.slash(harness.channel, "queue-admin view")

        assert answer.ephemeral
        assert "0 jobs running or waiting" in answer.response.content


async def test_admin_view_lists_positions(idle_harness) -> None:
    ann, bob = idle_harness.member("ann"), idle_harness.member("bob")
    await ann.slash(idle_harness.channel, "imagine", prompt="first picture")
    await bob.slash(idle_harness.channel, "imagine", prompt="second picture")
    admin = add_admin(idle_harness)

    answer = await admin.slash(idle_harness.channel, "queue-admin view")

    lines = answer.response.content.splitlines()
    assert answer.ephemeral
    assert lines[0].startswith("2 jobs running or waiting; page 1 of 1")
    assert lines[1].startswith("job 1 · 0 ahead · ann")
    assert lines[2].startswith("job 2 · 1 ahead · bob")


async def test_admin_clear_tells_each_owner(idle_harness) -> None:
    ann, bob = idle_harness.member("ann"), idle_harness.member("bob")
    first = await ann.slash(idle_harness.channel, "imagine", prompt="first")
    second = await bob.slash(idle_harness.channel, "imagine", prompt="second")
    admin = add_admin(idle_harness)

    prompt = await admin.slash(idle_harness.channel, "queue-admin clear")
    assert "Remove all 2 waiting jobs?" in prompt.response.content
    await admin.click(prompt.response.message, label="Remove them")

    counts = await idle_harness.service.store.counts()
    assert counts[JobStatus.CANCELLED] == 2
    await shows(idle_harness, first.response.id, "Cancelled.")
    await shows(idle_harness, second.response.id, "Cancelled.")


async def test_admin_remove_and_retry(idle_harness) -> None:
    ann = idle_harness.member("ann")
    await ann.slash(idle_harness.channel, "imagine", prompt="first")
    admin = add_admin(idle_harness)

    removed = await admin.slash(idle_harness.channel, "queue-admin remove", job=1)
    retried = await admin.slash(idle_harness.channel, "queue-admin retry", job=1)

    assert removed.response.content == "Job 1 was removed."
    assert "cannot be retried: it is cancelled" in retried.response.content


async def test_admin_pause_holds_jobs_and_resume_runs_them(harness) -> None:
    admin = add_admin(harness)
    await admin.slash(harness.channel, "queue-admin pause")
    ann = harness.member("ann")

    result = await ann.slash(harness.channel, "imagine", prompt="after pause")
    await shows(harness, result.response.id, "paused by an admin")
    assert (await harness.service.store.get(1)).status is JobStatus.QUEUED

    await admin.slash(harness.channel, "queue-admin resume")
    job = await harness.wait_delivered(1)
    assert job.status is JobStatus.SUCCEEDED
    assert message_by_id(harness, job.result_message_id) is not None


async def test_admin_retry_failed_job(harness) -> None:
    harness.webui.fail_next("oom")
    ann = harness.member("ann")
    result = await ann.slash(harness.channel, "imagine", prompt="too big")
    failed = await harness.wait_delivered(1)
    assert failed.status is JobStatus.FAILED
    admin = add_admin(harness)

    answer = await admin.slash(harness.channel, "queue-admin retry", job=1)

    assert answer.response.content.startswith("Job 1 is queued again")
    done = await harness.wait_for_job(1, lambda job: job.status is JobStatus.SUCCEEDED)
    assert done.attempts == 0
    await shows(harness, result.response.id, "Done.")
