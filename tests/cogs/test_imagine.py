"""/imagine end to end: a member's command, the queue, the WebUI stand-in, the image in the channel."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import discord
import pytest
from PIL import Image

from fakewebui import FakeWebUI
from storage import JobStatus
from tests.conftest import TEST_SPEED, Harness, make_settings, start_harness, wait_until


async def latest_job_id(harness) -> int:
    jobs = await harness.service.store.list_jobs(limit=1000)
    return max(job.id for job in jobs)


async def test_imagine_posts_image_in_channel(harness) -> None:
    alice = harness.member("alice")

    result = await alice.slash(harness.channel, "imagine", prompt="a lighthouse at dusk", seed=42)

    assert not result.ephemeral
    assert "Queued" in result.response.content
    assert "0 tasks ahead of you" in result.response.content
    assert alice.mention in result.response.content
    job_id = await latest_job_id(harness)
    job = await harness.wait_delivered(job_id)
    assert job.status is JobStatus.SUCCEEDED
    posted = [m for m in harness.channel.history() if m.id == job.result_message_id]
    assert len(posted) == 1
    message = posted[0]
    assert message.content.startswith(alice.mention)
    assert len(message.attachments) == 1
    data = await message.attachments[0].read()
    assert Image.open(io.BytesIO(data)).size == (512, 512)
    assert "lighthouse" not in message.attachments[0].filename
    embed = message.embeds[0]
    fields = {field.name: field.value for field in embed.fields}
    assert "lighthouse" in (embed.description or "")
    assert fields["Seed"] == "42"
    assert fields["Size"] == "512×512"
    assert fields["Steps"] == "20"
    assert fields["Sampler"] == "Euler a"


async def test_imagine_status_message_tracks_job(harness) -> None:
    alice = harness.member("alice")

    result = await alice.slash(harness.channel, "imagine", prompt="a red fox")
    job_id = await latest_job_id(harness)
    job = await harness.wait_delivered(job_id)

    status = [m for m in harness.channel.history() if m.id == job.status_message_id]
    assert len(status) == 1
    assert status[0].id == result.response.id
    assert "Done." in status[0].content
    assert str(job.result_message_id) in status[0].content


async def test_imagine_positions_count_tasks_ahead(idle_harness) -> None:
    members = [idle_harness.member(name) for name in ("ann", "bob", "cy")]

    replies = [
        await member.slash(idle_harness.channel, "imagine", prompt=f"picture {index}")
        for index, member in enumerate(members)
    ]

    assert "0 tasks ahead" in replies[0].response.content
    assert "1 task ahead of you" in replies[1].response.content
    assert "2 tasks ahead of you" in replies[2].response.content


async def test_imagine_rejects_unknown_sampler(harness) -> None:
    alice = harness.member("alice")

    result = await alice.slash(harness.channel, "imagine", prompt="a cat", sampler="k_euler_fancy")

    assert result.ephemeral
    assert "Unknown sampler 'k_euler_fancy'" in result.response.content
    assert "Euler a" in result.response.content
    assert await harness.service.store.list_jobs() == []


async def test_imagine_rejects_size_not_multiple_of_8(harness) -> None:
    alice = harness.member("alice")

    result = await alice.slash(harness.channel, "imagine", prompt="a cat", width=500)

    assert result.ephemeral
    assert "width 500 is not a multiple of 8: use 496 or 504." in result.response.content


async def test_imagine_prompt_cannot_ping(harness) -> None:
    alice = harness.member("alice")
    role = harness.guild.create_role("mods")

    await alice.slash(harness.channel, "imagine", prompt=f"@everyone @here {role.mention} hi")
    job = await harness.wait_delivered(await latest_job_id(harness))

    for message in harness.channel.history():
        if message.id in (job.status_message_id, job.result_message_id):
            assert not message.mention_everyone
            assert message.role_mentions == []
            assert [user.id for user in message.mentions] in ([], [alice.id])


async def test_imagine_long_prompt_shortened_in_messages(harness) -> None:
    alice = harness.member("alice")
    prompt = "a very detailed castle " * 65

    await alice.slash(harness.channel, "imagine", prompt=prompt[:1500])
    job = await harness.wait_delivered(await latest_job_id(harness))

    assert job.status is JobStatus.SUCCEEDED
    for message in harness.channel.history():
        assert len(message.content) <= 2000
        for embed in message.embeds:
            assert len(embed) <= 6000
            assert isinstance(embed, discord.Embed)


async def test_imagine_batch_posts_grid_and_singles(harness) -> None:
    alice = harness.member("alice")

    await alice.slash(
        harness.channel, "imagine", prompt="three boats", count=3, width=256, height=256
    )
    job = await harness.wait_delivered(await latest_job_id(harness))

    (message,) = [m for m in harness.channel.history() if m.id == job.result_message_id]
    names = [attachment.filename for attachment in message.attachments]
    assert names == [f"imagine-{job.id}-grid.png"] + [f"imagine-{job.id}-{i}.png" for i in range(3)]
    grid = Image.open(io.BytesIO(await message.attachments[0].read()))
    assert grid.size == (512, 512)
    assert message.embeds[0].image.url.endswith(f"imagine-{job.id}-grid.png")


async def test_redelivery_after_crash_does_not_post_twice(harness) -> None:
    from cogs.delivery import DiscordDelivery

    alice = harness.member("alice")
    await alice.slash(harness.channel, "imagine", prompt="posted once")
    job = await harness.wait_delivered(await latest_job_id(harness))
    # A process started after the job finished sees it as undelivered, as after a crash
    # between the post and its record.
    restarted = DiscordDelivery(harness.bot, harness.service)

    await restarted.job_finished(job)

    posts = [m for m in harness.channel.history() if m.attachments]
    assert [m.id for m in posts] == [job.result_message_id]


async def test_imagine_storage_failure_gets_a_reply(idle_harness) -> None:
    await idle_harness.service.store.close()

    result = await idle_harness.member("alice").slash(idle_harness.channel, "imagine", prompt="x")

    assert result.ephemeral
    assert "could not store your request" in result.response.content


MANY_MODELS = [f"SDXL/style-{index:02d}.safetensors" for index in range(30)] + [
    "anime.safetensors",
    "photo-real.ckpt",
]


@pytest.fixture
async def model_harness(tmp_path) -> AsyncIterator[Harness]:
    """A running bot whose one backend lists MANY_MODELS."""
    async with FakeWebUI(speed=TEST_SPEED, models=MANY_MODELS) as webui:
        async with start_harness(make_settings(tmp_path, webui.url), webui) as running:

            async def listed_models() -> list[str]:
                return running.service.models()

            # The worker reads the model list when it starts, alongside the bot.
            await wait_until(listed_models)
            yield running


async def test_imagine_model_autocomplete_lists_models(model_harness) -> None:
    alice = model_harness.member("alice")

    everything = await alice.autocomplete(model_harness.channel, "imagine", "model", "")
    filtered = await alice.autocomplete(model_harness.channel, "imagine", "model", "ANIME")
    styles = await alice.autocomplete(model_harness.channel, "imagine", "model", "style-1")

    assert len(everything) == 25
    assert [choice["value"] for choice in everything] == sorted(MANY_MODELS, key=str.casefold)[:25]
    assert filtered == [{"name": "anime.safetensors", "value": "anime.safetensors"}]
    assert [choice["value"] for choice in styles] == [
        f"SDXL/style-{index}.safetensors" for index in range(10, 20)
    ]


async def test_imagine_model_is_stored_and_used(model_harness) -> None:
    alice = model_harness.member("alice")

    result = await alice.slash(
        model_harness.channel, "imagine", prompt="a cel-shaded cat", model="anime"
    )
    job = await model_harness.wait_delivered(await latest_job_id(model_harness))

    assert not result.ephemeral
    assert job.status is JobStatus.SUCCEEDED
    assert job.model == "anime.safetensors"
    assert job.params["model"] == "anime.safetensors"
    assert job.result["model"] == "anime"
    (checkpoint,) = [c for c in model_harness.webui.state.checkpoints if c.name == job.model]
    sent = model_harness.webui.requests[-1]
    assert sent["override_settings"] == {"sd_model_checkpoint": checkpoint.title}
    assert sent["override_settings_restore_afterwards"] is True
    options = model_harness.webui.state.options
    assert options["sd_model_checkpoint"] == model_harness.webui.state.checkpoints[0].title


async def test_imagine_without_model_sends_no_override(harness) -> None:
    alice = harness.member("alice")

    await alice.slash(harness.channel, "imagine", prompt="any model will do")
    job = await harness.wait_delivered(await latest_job_id(harness))

    assert job.model is None
    assert "override_settings" not in harness.webui.requests[-1]


async def test_imagine_rejects_unknown_model(model_harness) -> None:
    alice = model_harness.member("alice")

    result = await alice.slash(
        model_harness.channel, "imagine", prompt="a cat", model="missing.safetensors"
    )

    assert result.ephemeral
    assert result.response.content.startswith(
        "Unknown model 'missing.safetensors'. Choose one of: anime.safetensors, "
    )
    assert "which the model option suggests as you type" in result.response.content
    assert await model_harness.service.store.list_jobs() == []
