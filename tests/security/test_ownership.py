"""A member cannot cancel, delete or collect another member's job, by button or by command."""

from __future__ import annotations

from cogs import formatting
from storage import JobStatus
from tests.cogs.test_fallbacks import expired_token_harness, locked_channel, message_by_id_in
from tests.cogs.test_status import message_by_id, shows

OTHERS_JOB = "belongs to someone else"


async def test_cancel_command_on_others_queued_job_rejected(idle_harness) -> None:
    ann, bob = idle_harness.member("ann"), idle_harness.member("bob")
    await ann.slash(idle_harness.channel, "imagine", prompt="ann's fox")

    answer = await bob.slash(idle_harness.channel, "cancel", job=1)

    assert answer.ephemeral
    assert OTHERS_JOB in answer.response.content
    assert (await idle_harness.service.store.get(1)).status is JobStatus.QUEUED


async def test_cancel_without_job_skips_others_jobs(idle_harness) -> None:
    ann, bob = idle_harness.member("ann"), idle_harness.member("bob")
    await ann.slash(idle_harness.channel, "imagine", prompt="ann's fox")

    answer = await bob.slash(idle_harness.channel, "cancel")

    assert answer.response.content == "You have no job waiting or running to cancel."
    assert (await idle_harness.service.store.get(1)).status is JobStatus.QUEUED


async def test_others_running_job_survives_button_and_command(harness) -> None:
    harness.webui.fail_next("hang")
    ann, bob = harness.member("ann"), harness.member("bob")
    first = await ann.slash(harness.channel, "imagine", prompt="ann's slow fox")
    await shows(harness, first.response.id, "Generating")

    clicked = await bob.click(message_by_id(harness, first.response.id), label="Cancel")
    commanded = await bob.slash(harness.channel, "cancel", job=1)

    assert OTHERS_JOB in clicked.response.content
    assert OTHERS_JOB in commanded.response.content
    assert (await harness.service.store.get(1)).status is JobStatus.RUNNING
    assert not harness.webui.state.progress.interrupted
    harness.webui.clear_faults()
    job = await harness.wait_delivered(1)
    assert job.status is JobStatus.SUCCEEDED


async def test_delete_button_on_others_image_rejected(harness) -> None:
    ann, bob = harness.member("ann"), harness.member("bob")
    await ann.slash(harness.channel, "imagine", prompt="ann's lighthouse")
    job = await harness.wait_delivered(1)
    posted = message_by_id(harness, job.result_message_id)

    answer = await bob.click(posted, label="Delete")

    assert answer.ephemeral
    assert "Only the member who asked" in answer.response.content
    assert message_by_id(harness, job.result_message_id) is not None


async def test_where_am_i_hides_others_images(tmp_path, webui) -> None:
    async with await expired_token_harness(tmp_path, webui) as harness:
        channel = locked_channel(harness)
        ann, bob = harness.member("ann"), harness.member("bob")
        dm_channel_id = ann.user.dm_channel.id
        harness.env.inject_error(
            "POST", f"/channels/{dm_channel_id}/messages", status=403, code=50007, times=None
        )
        first = await ann.slash(channel, "imagine", prompt="kept for ann")
        job = await harness.wait_delivered(1)
        _ = harness.env.errors
        assert job.delivery_note == formatting.NOTE_KEPT

        answer = await bob.click(message_by_id_in(channel, first.response.id), label="Where am I?")

        assert answer.ephemeral
        assert answer.response.attachments == []
        assert "could not be posted" not in answer.response.content
        assert "Job 1 has ended" in answer.response.content
