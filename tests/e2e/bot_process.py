"""A bot process for crash tests: the real bot on SimCord, started with ``python bot_process.py``.

``enqueue N``: build the offline guild, have N members type /imagine, print QUEUED, keep working.
``resume``: build the same guild (SimCord's ids are deterministic), start the queue, wait until
every job has been delivered, and print the jobs as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import aiohttp
import simcord

from bot import configure_logging, create_bot, open_service
from settings import BackendSettings, Settings, StatusSettings, StorageSettings

MEMBERS = 6


async def main(mode: str, data_dir: Path, webui_url: str, count: int) -> None:
    settings = Settings().model_copy(
        update={
            "storage": StorageSettings(data_dir=data_dir),
            "backends": [BackendSettings(name="gpu", url=webui_url)],
            # SimCord has no rate limits, so the bot's own pacing would only slow the test.
            "status": StatusSettings(channel_requests=50, channel_window_s=1.0),
        }
    )
    async with aiohttp.ClientSession() as session, open_service(settings, session) as service:
        bot = create_bot(settings, service)
        async with simcord.run(bot, settle_timeout=20.0, check_errors=False) as env:
            guild = env.create_guild(name="crash test")
            channel = guild.create_text_channel("imagine")
            members = [guild.add_member(env.create_user(f"member-{i}")) for i in range(MEMBERS)]
            await bot.tree.sync()
            await service.start()
            if mode == "enqueue":
                for index in range(count):
                    member = members[index % MEMBERS]
                    await member.slash(channel, "imagine", prompt=f"crash test picture {index}")
                print("QUEUED", flush=True)
                await asyncio.Event().wait()
            while True:
                counts = await service.store.counts()
                undelivered = await service.store.undelivered()
                if not counts.get("queued") and not counts.get("running") and not undelivered:
                    break
                await asyncio.sleep(0.05)
            jobs = await service.store.list_jobs(limit=10_000)
            posted = {message.id for message in channel.history() if message.attachments}
            report = [
                {
                    "id": job.id,
                    "status": str(job.status),
                    "attempts": job.attempts,
                    "result_message_id": job.result_message_id,
                    "posted_in_this_run": job.result_message_id in posted,
                }
                for job in jobs
            ]
            await service.stop()
            print(json.dumps(report), flush=True)


if __name__ == "__main__":
    configure_logging("INFO")
    mode, data, url = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    asyncio.run(main(mode, data, url, int(sys.argv[4]) if len(sys.argv) > 4 else 0))
