"""Start-up time and resident memory with N jobs already queued.

A store with N queued jobs is prepared first (one bulk transaction, not measured), then a fresh
process opens it as ``imagine-bot run`` does: the job store, the backend client, the queue
service with its recovery, redelivery check, workers and the status notifier's first count of
every position. Discord is left out: the bot's own start is a login, whatever the queue holds.

Prints one JSON object as its last line: queued, startup_s (process start to the notifier
tracking every waiting job, interpreter and imports included) and rss_mb (resident memory
then).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prepare(data_dir: Path, queued: int) -> None:
    """Create the store with ``queued`` waiting jobs, inserted in one transaction."""
    sys.path.insert(0, str(ROOT))
    from storage import JobStore

    async def create_schema() -> None:
        store = await JobStore.open(data_dir / "imagine.db")
        await store.close()

    asyncio.run(create_schema())
    params = json.dumps(
        {
            "prompt": "a lighthouse at dusk, oil painting",
            "negative_prompt": "",
            "width": 512,
            "height": 512,
            "steps": 20,
            "cfg_scale": 7.0,
            "seed": -1,
            "sampler": "Euler a",
            "count": 1,
        }
    )
    now = time.time()
    with sqlite3.connect(data_dir / "imagine.db") as conn:
        conn.executemany(
            "INSERT INTO jobs (status, user_id, channel_id, guild_id, params, enqueued_at,"
            " status_channel_id, status_message_id, interaction_token, interaction_created_at)"
            " VALUES ('queued', ?, 1, 1, ?, ?, 1, ?, ?, ?)",
            (
                (1000 + index % 5000, params, now, 10**17 + index, "t" * 90, now)
                for index in range(queued)
            ),
        )


CHILD = """
import asyncio, json, os, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path

async def main():
    import aiohttp
    from bot import open_service
    from settings import BackendSettings, Settings, StorageSettings
    settings = Settings().model_copy(update={{
        "storage": StorageSettings(data_dir=Path({data_dir!r})),
        "backends": [BackendSettings(name="gpu", url="http://127.0.0.1:9")],
    }})
    async with aiohttp.ClientSession() as session, open_service(settings, session) as service:
        await service.start()
        notifier = service.notifier
        while len(notifier._tracked) < {queued}:
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - {started}
        with open("/proc/self/status") as status:
            rss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
        print(json.dumps({{"startup_s": round(elapsed, 2), "rss_mb": round(rss_kb / 1024, 1)}}))
        await service.stop(grace_s=1)

asyncio.run(main())
"""


def measure(data_dir: Path, queued: int) -> dict[str, float]:
    started = time.monotonic()
    code = CHILD.format(root=str(ROOT), data_dir=str(data_dir), queued=queued, started=started)
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True
    )
    result: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queued", type=int, default=100_000, help="jobs waiting at start")
    args = parser.parse_args()
    if args.queued < 0:
        parser.error(f"--queued {args.queued} is negative; give 0 or more jobs")
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        prepare(data_dir, args.queued)
        result = measure(data_dir, args.queued)
    print(json.dumps({"queued": args.queued, **result}))


if __name__ == "__main__":
    main()
