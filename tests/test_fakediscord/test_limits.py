"""Message limits: 400/50035 for content and embeds, 400/50006 for empty, 413/40005 for files."""

from __future__ import annotations

import io
from typing import Any

import discord
import pytest

from tests.fakediscord import ApiError
from tests.fakediscord.limits import check_message_body, check_upload_sizes
from tests.test_fakediscord.probe_bot import Probe, wait_for_edit

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"content": "x" * 2001}, ["content"]),
        ({"embeds": [{"title": "t" * 257}]}, ["embeds", "0", "title"]),
        ({"embeds": [{"description": "d" * 4097}]}, ["embeds", "0", "description"]),
        ({"embeds": [{"footer": {"text": "f" * 2049}}]}, ["embeds", "0", "footer", "text"]),
        ({"embeds": [{"author": {"name": "a" * 257}}]}, ["embeds", "0", "author", "name"]),
        ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, ["embeds", "0", "fields"]),
        (
            {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
            ["embeds", "0", "fields", "0", "value"],
        ),
        ({"embeds": [{"title": "t"}] * 11}, ["embeds"]),
        ({"embeds": [{"description": "d" * 4000}] * 2}, ["embeds"]),
    ],
)
def test_check_message_body_over_limit(payload: dict[str, Any], path: list[str]) -> None:
    with pytest.raises(ApiError) as raised:
        check_message_body(payload, creating=True, file_count=0)

    assert raised.value.status == 400
    assert raised.value.code == 50035
    node = raised.value.errors
    for key in path:
        assert node is not None
        node = node[key]
    assert node is not None
    assert node["_errors"]


def test_check_message_body_at_limits_passes() -> None:
    embed = {"title": "t" * 256, "description": "d" * 1000, "fields": [{"name": "n", "value": "v"}]}

    check_message_body({"content": "x" * 2000, "embeds": [embed]}, creating=True, file_count=0)


def test_check_message_body_empty_create_gets_50006() -> None:
    with pytest.raises(ApiError) as raised:
        check_message_body({"content": ""}, creating=True, file_count=0)

    assert raised.value.code == 50006


def test_check_message_body_file_only_passes() -> None:
    check_message_body({}, creating=True, file_count=1)


def test_check_upload_sizes_over_limit_gets_40005() -> None:
    with pytest.raises(ApiError) as raised:
        check_upload_sizes([10, 10 * MIB + 1], 10 * MIB)

    assert raised.value.status == 413
    assert raised.value.code == 40005


async def test_post_message_2001_characters_gets_50035(probe: Probe) -> None:
    with pytest.raises(discord.HTTPException) as raised:
        await probe.text_channel().send("x" * 2001)
    await probe.text_channel().send("x" * 2000)

    assert raised.value.status == 400
    assert raised.value.code == 50035
    assert "content" in raised.value.text
    assert len(probe.channel.messages[-1].content) == 2000


async def test_post_message_embed_total_over_6000_gets_50035(probe: Probe) -> None:
    embeds = [discord.Embed(description="d" * 4000) for _ in range(2)]

    with pytest.raises(discord.HTTPException) as raised:
        await probe.text_channel().send(embeds=embeds)

    assert raised.value.code == 50035
    assert "6000" in raised.value.text


async def test_post_message_11_mib_file_gets_40005(probe: Probe) -> None:
    upload = discord.File(io.BytesIO(bytes(11 * MIB)), filename="huge.png")

    with pytest.raises(discord.HTTPException) as raised:
        await probe.text_channel().send(file=upload)

    assert raised.value.status == 413
    assert raised.value.code == 40005
    assert probe.channel.messages == []


async def test_post_message_channel_upload_limit_applies(probe: Probe) -> None:
    small = probe.guild.create_channel("small-uploads", upload_limit=1000)
    channel = await probe.fake.wait_for(lambda: probe.bot.get_channel(small.id))
    assert isinstance(channel, discord.TextChannel)

    with pytest.raises(discord.HTTPException) as raised:
        await channel.send(file=discord.File(io.BytesIO(bytes(1001)), filename="a.bin"))
    await channel.send(file=discord.File(io.BytesIO(bytes(1000)), filename="b.bin"))

    assert raised.value.code == 40005
    assert [message.attachments[0].size for message in small.messages] == [1000]


async def test_edit_original_over_interaction_limit_gets_40005(probe: Probe) -> None:
    interaction = await probe.fake.slash(probe.guild, probe.channel, probe.alice, "ping")
    await wait_for_edit(probe.fake, interaction)
    received = probe.cog.interactions[-1]
    upload = discord.File(io.BytesIO(bytes(received.filesize_limit + 1)), filename="big.png")

    with pytest.raises(discord.HTTPException) as raised:
        await received.edit_original_response(attachments=[upload])

    assert raised.value.status == 413
    assert raised.value.code == 40005
