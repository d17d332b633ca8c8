"""The whole bot over the loopback Discord, fed hostile prompts and member names: every message
it sends or edits fits Discord's limits and pings no one but the member it answers."""

from __future__ import annotations

import re

from tests.fakediscord import FakeDiscord, FakeUser
from tests.fakediscord.models import MEMBER_PERMISSIONS, FakeRole
from tests.loopback.conftest import Loopback, loopback_settings, start_loopback

JOB_ID = re.compile(r"\(job (\d+)\)")


def hostile_names(victim: FakeUser, role: FakeRole) -> list[str]:
    """Return display names of up to 32 characters, as Discord allows them."""
    return [
        "@everyone",
        "@here **bold**",
        f"<@&{role.id}>",
        f"<@{victim.id}>",
        "\u202eevil\u202c `code` ||x||",
        "https://evil.example/x_y",
    ]


def hostile_requests(victim: FakeUser, role: FakeRole) -> list[dict[str, str]]:
    """Return /imagine options with hostile prompts and negative prompts."""
    mentions = f"@everyone @here <@&{role.id}> <@{victim.id}> <@!{victim.id}>"
    return [
        # Escaping lengthens every mention, which must still fit the status message.
        {"prompt": (f"{mentions} a red fox " * 20)[:1500], "negative_prompt": mentions},
        {
            "prompt": "[free nitro](https://evil.example/claim) https://evil.example/a_b "
            "> quote\n# heading\n-# small\n```code``` ||spoiler|| ~~gone~~ **bold** __under__"
        },
        {"prompt": "\x00\x07 nul \u200b\u202e reversed \ufeff 狐狸 مرحبا 😀 e\u0301 \U0001d54f"},
        # Escaping doubles these, which must still fit the embed's description and field.
        {"prompt": "_" * 1500, "negative_prompt": "*" * 1000},
    ]


def add_role(loopback: Loopback) -> FakeRole:
    role = FakeRole(loopback.fake.state.ids.new_id(), "mods", MEMBER_PERMISSIONS)
    loopback.guild.roles.append(role)
    return role


def assert_pings_no_one(fake: FakeDiscord, victim: FakeUser) -> None:
    rejected = [(r.method, r.route, r.code) for r in fake.requests if r.status == 400]
    assert rejected == []
    for message in fake.state.messages.values():
        states = [
            (message.content, message.mentions),
            *((e.content, e.mentions) for e in message.edits),
        ]
        assert not message.mention_everyone, message.content
        assert message.mention_roles == [], message.content
        for content, mentions in states:
            assert len(content) <= 2000
            assert victim.id not in mentions, content
            assert len(mentions) <= 1, content


async def test_hostile_prompts_and_names_ping_no_one(tmp_path, fake_discord, webui) -> None:
    fake = fake_discord
    admin = fake.create_user("@everyone admin")
    settings = loopback_settings(tmp_path, webui.url)
    listed = settings.discord.model_copy(update={"admin_user_ids": [admin.id]})
    settings = settings.model_copy(update={"discord": listed})
    async with start_loopback(fake, settings, webui) as loopback:
        victim = fake.create_user("victim")
        loopback.guild.add_member(victim)
        role = add_role(loopback)
        members = [fake.create_user(name) for name in hostile_names(victim, role)]
        webui.fail_next("hang")

        replies = []
        for member, options in zip(members, hostile_requests(victim, role), strict=False):
            replies.append(
                await fake.slash(loopback.guild, loopback.channel, member, "imagine", **options)
            )
        wrong_size = await fake.slash(
            loopback.guild, loopback.channel, members[4], "imagine", prompt="@here", width=1001
        )
        wrong_sampler = await fake.slash(
            loopback.guild, loopback.channel, members[5], "imagine", prompt="x", sampler="@here"
        )
        view = await fake.slash(loopback.guild, loopback.channel, admin, "queue-admin view")
        mine = await fake.slash(loopback.guild, loopback.channel, members[2], "queue mine")
        waiting = replies[-1].original
        where = await fake.click(waiting, waiting.custom_ids()[0], replies[-1].user)
        webui.clear_faults()
        for reply in replies:
            job_id = int(JOB_ID.search(reply.original.content)[1])
            await loopback.job(job_id, lambda job: job.delivered_at is not None)

        assert "width 1001 is not a multiple of 8" in wrong_size.original.content
        assert "Unknown sampler '@here'" in wrong_sampler.original.content
        assert view.original.content.startswith("4 jobs running or waiting")
        assert mine.original.content.startswith("Job ")
        assert where.original.content.startswith("Job ")
        assert_pings_no_one(fake, victim)
