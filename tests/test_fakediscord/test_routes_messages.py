"""Channel messages and DMs through discord.py: uploads, edits, pings, permissions, DMs."""

from __future__ import annotations

import io

import discord
import pytest

from tests.test_fakediscord.probe_bot import Probe, file_bytes, wait_for_edit

MIB = 1024 * 1024


async def test_post_message_multipart_bytes_intact(probe: Probe) -> None:
    interaction = await probe.fake.slash(
        probe.guild, probe.channel, probe.alice, "upload", size=300_000
    )
    await wait_for_edit(probe.fake, interaction)
    posted = probe.channel.messages[-1]

    assert posted.author is probe.fake.bot
    assert [attachment.filename for attachment in posted.attachments] == ["blob.bin"]
    assert posted.attachments[0].size == 300_000
    assert posted.attachments[0].data == file_bytes(300_000)
    upload = next(request for request in probe.fake.requests if request.files)
    assert upload.files == [("blob.bin", 300_000)]
    assert upload.payload["attachments"] == [{"id": 0, "filename": "blob.bin"}]


async def test_post_message_attachment_url_serves_bytes(probe: Probe) -> None:
    upload = discord.File(io.BytesIO(b"picture bytes"), filename="a.png")

    message = await probe.text_channel().send("here", file=upload)

    assert await message.attachments[0].read() == b"picture bytes"


async def test_post_message_stores_nonce_and_allowed_mentions(probe: Probe) -> None:
    content = f"<@{probe.alice.id}> your image is ready"

    await probe.text_channel().send(
        content, nonce=12345, allowed_mentions=discord.AllowedMentions.none()
    )
    stored = probe.channel.messages[-1]

    assert stored.nonce == "12345"
    assert stored.allowed_mentions == {"parse": []}
    assert stored.mentions == []


async def test_post_message_pings_only_listed_users(probe: Probe) -> None:
    bob = probe.fake.create_user("bob")
    content = f"<@{probe.alice.id}> and <@{bob.id}>"
    allowed = discord.AllowedMentions(users=[discord.Object(bob.id)])

    await probe.text_channel().send(content, allowed_mentions=allowed)

    assert probe.channel.messages[-1].mentions == [bob.id]


async def test_post_message_without_allowed_mentions_pings_everyone_mentioned(
    probe: Probe,
) -> None:
    await probe.text_channel().send(f"<@{probe.alice.id}> @everyone")
    stored = probe.channel.messages[-1]

    assert stored.allowed_mentions is None
    assert stored.mentions == [probe.alice.id]
    # The bot lacks MENTION_EVERYONE, so @everyone does not ping.
    assert stored.mention_everyone is False


async def test_patch_message_records_edit_history(probe: Probe) -> None:
    message = await probe.text_channel().send("queued")

    await message.edit(content="running")
    probe.fake.clock.advance(60)
    await message.edit(content="done")
    stored = probe.fake.message(message.id)

    assert stored.content == "done"
    assert [edit.content for edit in stored.edits] == ["running", "done"]
    assert stored.edits[1].timestamp - stored.edits[0].timestamp >= 60
    assert stored.edited_at == stored.edits[1].timestamp


async def test_patch_message_adds_file(probe: Probe) -> None:
    message = await probe.text_channel().send("result")

    edited = await message.edit(attachments=[discord.File(io.BytesIO(b"png"), "job.png")])

    assert [attachment.filename for attachment in edited.attachments] == ["job.png"]
    assert probe.fake.message(message.id).attachments[0].data == b"png"


async def test_delete_message_then_fetch_gets_10008(probe: Probe) -> None:
    message = await probe.text_channel().send("temporary")

    await message.delete()

    assert probe.fake.message(message.id).deleted
    with pytest.raises(discord.NotFound) as raised:
        await probe.text_channel().fetch_message(message.id)
    assert raised.value.code == 10008


async def test_get_message_unknown_gets_10008(probe: Probe) -> None:
    with pytest.raises(discord.NotFound) as raised:
        await probe.text_channel().fetch_message(1234)

    assert raised.value.code == 10008


async def test_post_message_unknown_channel_gets_10003(probe: Probe) -> None:
    with pytest.raises(discord.NotFound) as raised:
        await probe.bot.get_partial_messageable(1234).send("hello")

    assert raised.value.code == 10003


async def test_post_message_without_view_gets_50001(probe: Probe) -> None:
    probe.channel.view = False

    with pytest.raises(discord.Forbidden) as raised:
        await probe.text_channel().send("hello")

    assert raised.value.code == 50001


async def test_post_message_without_send_gets_50013(probe: Probe) -> None:
    probe.channel.send = False

    with pytest.raises(discord.Forbidden) as raised:
        await probe.text_channel().send("hello")

    assert raised.value.code == 50013


async def test_post_message_file_without_attach_gets_50013(probe: Probe) -> None:
    probe.channel.attach_files = False
    upload = discord.File(io.BytesIO(b"x"), filename="x.png")

    with pytest.raises(discord.Forbidden) as raised:
        await probe.text_channel().send("hello", file=upload)
    await probe.text_channel().send("text still works")

    assert raised.value.code == 50013
    assert probe.channel.messages[-1].content == "text still works"


async def test_set_permissions_updates_bot_cache(probe: Probe) -> None:
    probe.channel.set_permissions(send=False)

    await probe.fake.wait_for(
        lambda: (
            not probe.text_channel().permissions_for(probe.text_channel().guild.me).send_messages
        )
    )

    assert probe.text_channel().permissions_for(probe.text_channel().guild.me).view_channel


async def test_open_dm_with_integer_recipient(probe: Probe) -> None:
    channel = await probe.bot.create_dm(discord.Object(probe.alice.id))
    await channel.send("your result")

    opened = next(
        request for request in probe.fake.requests if request.route == "/users/@me/channels"
    )
    assert opened.payload == {"recipient_id": probe.alice.id}
    assert [message.content for message in probe.fake.dm_messages(probe.alice)] == ["your result"]


async def test_dm_to_closed_inbox_gets_50007(probe: Probe) -> None:
    closed = probe.fake.create_user("private", dms_open=False)
    channel = await probe.bot.create_dm(discord.Object(closed.id))

    with pytest.raises(discord.Forbidden) as raised:
        await channel.send("your result")

    assert raised.value.code == 50007
    assert probe.fake.dm_messages(closed) == []


async def test_dm_command_records_50007(probe: Probe) -> None:
    closed = probe.fake.create_user("private", dms_open=False)

    interaction = await probe.fake.slash(probe.guild, probe.channel, closed, "dm")
    await wait_for_edit(probe.fake, interaction)

    assert [error.code for error in probe.cog.errors] == [50007]
    assert interaction.original is not None
    assert interaction.original.content == "done"
