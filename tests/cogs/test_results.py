"""Buttons under a finished image: Reroll, Variations, Delete."""

from __future__ import annotations

from bot import create_bot
from storage import JobStatus
from tests.cogs.test_status import message_by_id


async def finished_result(harness, member, **options):
    result = await member.slash(
        harness.channel, "imagine", prompt="a lighthouse", seed=7, **options
    )
    jobs = await harness.service.store.list_jobs(limit=100)
    job = await harness.wait_delivered(max(j.id for j in jobs))
    assert job.status is JobStatus.SUCCEEDED
    return job, message_by_id(harness, job.result_message_id), result


async def test_reroll_queues_same_prompt_new_seed(harness) -> None:
    ann, bob = harness.member("ann"), harness.member("bob")
    source, message, _ = await finished_result(harness, ann)

    answer = await bob.click(message, label="Reroll")

    assert not answer.ephemeral
    assert "Queued" in answer.response.content
    assert bob.mention in answer.response.content
    rerolled = await harness.wait_delivered(source.id + 1)
    assert rerolled.user_id == bob.id
    assert rerolled.params["prompt"] == "a lighthouse"
    assert rerolled.params["seed"] == -1
    assert rerolled.result["images"][0]["seed"] != 7


async def test_variations_keep_seed_with_subseed(harness) -> None:
    ann = harness.member("ann")
    source, message, _ = await finished_result(harness, ann)

    await ann.click(message, label="Variations")

    varied = await harness.wait_delivered(source.id + 1)
    assert varied.params["seed"] == 7
    assert 0 < varied.params["subseed_strength"] < 1
    assert harness.webui.requests[-1]["subseed_strength"] == varied.params["subseed_strength"]


async def test_delete_by_owner_removes_image(harness) -> None:
    ann = harness.member("ann")
    source, message, _ = await finished_result(harness, ann)

    answer = await ann.click(message, label="Delete")

    assert answer.ephemeral
    assert message_by_id(harness, source.result_message_id) is None


async def test_delete_by_other_member_rejected(harness) -> None:
    ann, bob = harness.member("ann"), harness.member("bob")
    source, message, _ = await finished_result(harness, ann)

    answer = await bob.click(message, label="Delete")

    assert answer.ephemeral
    assert "Only the member who asked" in answer.response.content
    assert message_by_id(harness, source.result_message_id) is not None


async def test_result_buttons_work_after_restart(harness) -> None:
    ann = harness.member("ann")
    source, message, _ = await finished_result(harness, ann)

    await harness.service.stop(grace_s=1)
    await harness.env.restart_bot(create_bot(harness.settings, harness.service))
    answer = await ann.click(message_by_id(harness, source.result_message_id), label="Reroll")

    assert "Queued" in answer.response.content


async def test_upscale_doubles_first_image(harness) -> None:
    import io

    from PIL import Image

    await harness.service.refresh_samplers()
    ann = harness.member("ann")
    source, message, _ = await finished_result(harness, ann, width=256, height=256)

    answer = await ann.click(message, label="Upscale")

    assert "Queued" in answer.response.content
    upscaled = await harness.wait_delivered(source.id + 1)
    assert upscaled.status is JobStatus.SUCCEEDED
    posted = message_by_id(harness, upscaled.result_message_id)
    image = Image.open(io.BytesIO(await posted.attachments[0].read()))
    assert image.size == (512, 512)
    fields = {field.name: field.value for field in posted.embeds[0].fields}
    assert fields["Upscaled"].startswith("×2 with ")
    labels = [child.label for row in posted.components for child in row.children]
    assert labels == ["Delete"]


async def test_reroll_keeps_model_upscale_unbound(harness) -> None:
    xl = "sd_xl_base_1.0.safetensors"
    await harness.service.refresh_models()
    ann = harness.member("ann")
    source, message, _ = await finished_result(harness, ann, width=256, height=256, model=xl)

    await ann.click(message, label="Reroll")
    rerolled = await harness.wait_delivered(source.id + 1)
    await ann.click(message, label="Upscale")
    upscaled = await harness.wait_delivered(source.id + 2)

    assert source.model == rerolled.model == xl
    assert rerolled.status is JobStatus.SUCCEEDED
    assert rerolled.result["model"] == "sd_xl_base_1.0"
    assert upscaled.status is JobStatus.SUCCEEDED
    assert upscaled.model is None
