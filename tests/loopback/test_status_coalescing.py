"""Changes near the front of the queue that come close together go out as one status edit."""

from __future__ import annotations

import asyncio

import pytest

from storage import JobStatus
from tests.conftest import wait_until
from tests.loopback.conftest import job_id_of, loopback_settings, start_loopback


@pytest.mark.parametrize(("coalesce_s", "edits"), [(0.0, 2), (1.0, 1)])
async def test_close_changes_share_one_edit(
    tmp_path, fake_discord, webui, coalesce_s: float, edits: int
) -> None:
    settings = loopback_settings(tmp_path, webui.url, coalesce_s=coalesce_s)
    async with start_loopback(fake_discord, settings, webui) as loopback:
        fake = loopback.fake
        loopback.webui.fail_next("hang")
        replies = []
        for name in ("ann", "bob", "cy", "dan"):
            member = fake.create_user(name)
            loopback.guild.add_member(member)
            replies.append(
                await fake.slash(loopback.guild, loopback.channel, member, "imagine", prompt=name)
            )
        first, second, third, last = replies
        await loopback.job(job_id_of(first), lambda job: job.status is JobStatus.RUNNING)
        status = fake.message(last.original.id)
        await wait_until(lambda: _shows(status, "3 tasks ahead"))
        edits_before = len(status.edits)

        # Two changes further apart than the notifier's debounce, closer than the window.
        await loopback.service.cancel(job_id_of(second))
        await asyncio.sleep(0.4)
        await loopback.service.cancel(job_id_of(third))
        await wait_until(lambda: _shows(status, "1 task ahead"))
        await asyncio.sleep(0.5)

        position_edits = [
            edit for edit in status.edits[edits_before:] if "ahead" in (edit.content or "")
        ]
        assert len(position_edits) == edits
        loopback.webui.clear_faults()


async def _shows(message, text: str) -> bool:
    return text in (message.content or "")
