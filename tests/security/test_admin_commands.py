"""Every /queue-admin subcommand rejects a member who is not an admin and changes nothing.

Discord hides the command from members, but a server can show it to anyone through its
integration settings, so each subcommand checks the member again when it runs.
"""

from __future__ import annotations

import logging

import discord
import pytest

from storage import JobStatus

REJECTION = "Only the bot's admins can run this"
SUBCOMMANDS = [
    ("view", {}),
    ("view", {"page": 2}),
    ("remove", {"job": 1}),
    ("clear", {}),
    ("pause", {}),
    ("resume", {}),
    ("retry", {"job": 2}),
]


async def show_admin_commands_to(harness, member) -> None:
    commands = await harness.bot.tree.fetch_commands()
    (admin_command,) = [command for command in commands if command.name == "queue-admin"]
    harness.guild.set_command_permissions(admin_command, {member: True})


async def queued_and_failed_jobs(harness) -> None:
    """Leave job 1 waiting and job 2 failed, the targets of remove and retry."""
    owner = harness.member("owner")
    await owner.slash(harness.channel, "imagine", prompt="waiting")
    await owner.slash(harness.channel, "imagine", prompt="to fail")
    await harness.service.store.fail(2, "The image server failed: out of memory")


@pytest.mark.parametrize(("name", "options"), SUBCOMMANDS, ids=[f"{n}-{o}" for n, o in SUBCOMMANDS])
async def test_admin_subcommand_rejects_member(idle_harness, caplog, name, options) -> None:
    await queued_and_failed_jobs(idle_harness)
    member = idle_harness.member("ann")
    await show_admin_commands_to(idle_harness, member)

    with caplog.at_level(logging.WARNING, logger="cogs.admin"):
        answer = await member.slash(idle_harness.channel, f"queue-admin {name}", **options)

    assert answer.ephemeral
    assert REJECTION in answer.response.content
    assert answer.response.components == []
    store = idle_harness.service.store
    assert (await store.get(1)).status is JobStatus.QUEUED
    assert (await store.get(2)).status is JobStatus.FAILED
    assert not idle_harness.service.paused
    assert f"rejected /queue-admin {name} from user {member.id}" in caplog.text


async def test_admin_rejects_role_not_in_settings(idle_harness) -> None:
    await queued_and_failed_jobs(idle_harness)
    helpers = idle_harness.guild.create_role("helpers", permissions=discord.Permissions.none())
    helper = idle_harness.guild.add_member(idle_harness.env.create_user("helper"), roles=[helpers])
    await show_admin_commands_to(idle_harness, helper)

    answer = await helper.slash(idle_harness.channel, "queue-admin remove", job=1)

    assert REJECTION in answer.response.content
    assert (await idle_harness.service.store.get(1)).status is JobStatus.QUEUED


async def test_admin_role_from_settings_accepted(idle_harness) -> None:
    await queued_and_failed_jobs(idle_harness)
    helpers = idle_harness.guild.create_role("helpers", permissions=discord.Permissions.none())
    helper = idle_harness.guild.add_member(idle_harness.env.create_user("helper"), roles=[helpers])
    await show_admin_commands_to(idle_harness, helper)
    settings = idle_harness.bot.settings
    listed = settings.discord.model_copy(update={"admin_role_ids": [helpers.id]})
    idle_harness.bot.settings = settings.model_copy(update={"discord": listed})

    answer = await helper.slash(idle_harness.channel, "queue-admin remove", job=1)

    assert answer.response.content == "Job 1 was removed."
    assert (await idle_harness.service.store.get(1)).status is JobStatus.CANCELLED
