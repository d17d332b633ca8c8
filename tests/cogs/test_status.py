"""Status messages through SimCord: live positions, "Where am I?", /queue mine."""

from __future__ import annotations

import re

from bot import create_bot
from tests.conftest import wait_until


def message_by_id(harness, message_id: int):
    for message in harness.channel.history():
        if message.id == message_id:
            return message
    return None


async def shows(harness, message_id: int, expected: str) -> None:
    """Wait until the message with ``message_id`` contains ``expected``."""

    async def probe() -> bool:
        message = message_by_id(harness, message_id)
        return message is not None and expected in message.content

    try:
        await wait_until(probe, timeout_s=15)
    except AssertionError:
        message = message_by_id(harness, message_id)
        raise AssertionError(
            f"{expected!r} not in {message.content if message else None!r}"
        ) from None


async def test_positions_follow_enqueue_start_finish_cancel(harness) -> None:
    ann, bob, cy = (harness.member(name) for name in ("ann", "bob", "cy"))
    harness.webui.fail_next("hang")

    first = await ann.slash(harness.channel, "imagine", prompt="ann one")
    await shows(harness, first.response.id, "Generating")
    second = await bob.slash(harness.channel, "imagine", prompt="bob one")
    third = await cy.slash(harness.channel, "imagine", prompt="cy one")
    fourth = await ann.slash(harness.channel, "imagine", prompt="ann two")

    await shows(harness, second.response.id, "1 task ahead of you")
    await shows(harness, third.response.id, "2 tasks ahead of you")
    await shows(harness, fourth.response.id, "3 tasks ahead of you")

    third_job = int(re.search(r"\(job (\d+)\)", third.response.content)[1])
    await harness.service.cancel(third_job)
    await shows(harness, fourth.response.id, "2 tasks ahead of you")
    await shows(harness, second.response.id, "1 task ahead of you")

    harness.webui.clear_faults()
    harness.webui.fail_next("hang")
    await shows(harness, first.response.id, "Done.")
    await shows(harness, second.response.id, "Generating")
    await shows(harness, fourth.response.id, "1 task ahead of you")

    harness.webui.clear_faults()
    await shows(harness, second.response.id, "Done.")
    await shows(harness, fourth.response.id, "Done.")


async def test_where_am_i_answers_exact_position(idle_harness) -> None:
    ann, bob = idle_harness.member("ann"), idle_harness.member("bob")
    await ann.slash(idle_harness.channel, "imagine", prompt="first")
    second = await bob.slash(idle_harness.channel, "imagine", prompt="second")

    answer = await bob.click(second.response.message, label="Where am I?")

    assert answer.ephemeral
    assert "1 task ahead of you" in answer.response.content
    assert "estimated start <t:" in answer.response.content


async def test_where_am_i_works_after_restart(idle_harness) -> None:
    ann, bob = idle_harness.member("ann"), idle_harness.member("bob")
    await ann.slash(idle_harness.channel, "imagine", prompt="first")
    second = await bob.slash(idle_harness.channel, "imagine", prompt="second")

    await idle_harness.env.restart_bot(create_bot(idle_harness.settings, idle_harness.service))
    answer = await bob.click(message_by_id(idle_harness, second.response.id), label="Where am I?")

    assert answer.ephemeral
    assert "1 task ahead of you" in answer.response.content


async def test_queue_mine_lists_own_jobs(idle_harness) -> None:
    ann, bob = idle_harness.member("ann"), idle_harness.member("bob")
    await ann.slash(idle_harness.channel, "imagine", prompt="ann first")
    await bob.slash(idle_harness.channel, "imagine", prompt="bob first")
    await ann.slash(idle_harness.channel, "imagine", prompt="ann second")

    answer = await ann.slash(idle_harness.channel, "queue mine")

    assert answer.ephemeral
    lines = answer.response.content.splitlines()
    assert lines[0].startswith("Job 1: 0 tasks ahead of you")
    assert lines[1].startswith("Job 3: 2 tasks ahead of you")
    assert len(lines) == 2


async def test_queue_mine_without_jobs(idle_harness) -> None:
    answer = await idle_harness.member("ann").slash(idle_harness.channel, "queue mine")

    assert "You have no jobs in the queue" in answer.response.content


async def test_running_job_shows_progress_and_preview(tmp_path, webui) -> None:
    from tests.conftest import make_settings, start_harness

    settings = make_settings(
        tmp_path, webui.url, status={"progress_interval_s": 1, "preview_interval_s": 1}
    )
    # About 4.6 s for 40 steps, so the 1-second progress polls see several steps.
    webui.speed = 0.5
    async with start_harness(settings, webui) as harness:
        result = await harness.member("ann").slash(
            harness.channel, "imagine", prompt="slow", steps=40
        )
        await shows(harness, result.response.id, "step ")

        async def preview_attached() -> bool:
            message = message_by_id(harness, result.response.id)
            return bool(message.attachments)

        await wait_until(preview_attached, timeout_s=15)
        assert (
            message_by_id(harness, result.response.id)
            .attachments[0]
            .filename.startswith("preview-")
        )
        assert "▰" in message_by_id(harness, result.response.id).content
        await shows(harness, result.response.id, "Done.")
        assert message_by_id(harness, result.response.id).attachments == []


async def test_status_says_when_backend_is_unreachable(tmp_path) -> None:
    from fakewebui import FakeWebUI
    from tests.conftest import make_settings, start_harness

    # Nothing listens on this port until the stand-in below starts on it.
    async with FakeWebUI() as probe:
        port = int(probe.url.rsplit(":", 1)[1])
    settings = make_settings(tmp_path, f"http://127.0.0.1:{port}")
    settings = settings.model_copy(
        update={
            "queue": settings.queue.model_copy(
                update={"backoff_initial_s": 0.1, "backoff_max_s": 0.2}
            )
        }
    )
    webui = FakeWebUI(port=port, speed=2000.0)
    async with start_harness(settings, webui) as harness:
        result = await harness.member("ann").slash(harness.channel, "imagine", prompt="waits")
        await shows(harness, result.response.id, "not reachable right now")

        await webui.start()
        try:
            await shows(harness, result.response.id, "Done.")
        finally:
            await webui.stop()
