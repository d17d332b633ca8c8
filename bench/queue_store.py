"""Queue store throughput: enqueue, claim and finish N jobs, ours against SQLite queue libraries.

Every implementation runs in its own process on a fresh file with WAL and synchronous=FULL
(durable against power loss), one commit per operation, as each /imagine is its own request:
- ours: ``storage.JobStore`` through aiosqlite (enqueue, claim, succeed: three commits per job);
- persist-queue ``SQLiteAckQueue`` (put, get, ack);
- huey ``SqliteStorage`` (enqueue, dequeue: two commits, because it has no acknowledgement);
- litequeue 0.9 (put, pop, done), its synchronous=NORMAL raised to FULL.
Each is run ``--rounds`` times in shuffled order; the median jobs per second is reported.

Prints one JSON object as its last line with jobs_per_s per implementation and
speedup_vs_persist_queue.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = {
    "prompt": "a lighthouse at dusk, oil painting, dramatic sky",
    "user": 123456789012345678,
    "channel": 987654321098765432,
    "seed": 42,
    "steps": 20,
}


def run_ours(path: Path, jobs: int) -> float:
    import asyncio

    sys.path.insert(0, str(ROOT))
    from storage import JobStore, NewJob

    async def main() -> float:
        store = await JobStore.open(path)
        started = time.perf_counter()
        for _ in range(jobs):
            await store.enqueue(NewJob(user_id=1, channel_id=2, guild_id=3, params=PAYLOAD))
        for _ in range(jobs):
            job = await store.claim("gpu")
            assert job is not None
            await store.succeed(job.id, {"images": []})
        elapsed = time.perf_counter() - started
        await store.close()
        return elapsed

    return asyncio.run(main())


def run_persist_queue(path: Path, jobs: int) -> float:
    from persistqueue import SQLiteAckQueue

    queue = SQLiteAckQueue(str(path), auto_commit=True, multithreading=False)
    for connection in (queue._putter, queue._getter):
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
    started = time.perf_counter()
    for _ in range(jobs):
        queue.put(PAYLOAD)
    for _ in range(jobs):
        item = queue.get(raw=True)
        queue.ack(id=item["pqid"])
    return time.perf_counter() - started


def run_huey(path: Path, jobs: int) -> float:
    from huey.storage import SqliteStorage

    storage = SqliteStorage(filename=str(path / "huey.db"), fsync=True)
    data = json.dumps(PAYLOAD).encode()
    started = time.perf_counter()
    for _ in range(jobs):
        storage.enqueue(data)
    for _ in range(jobs):
        assert storage.dequeue() is not None
    return time.perf_counter() - started


def run_litequeue(path: Path, jobs: int) -> float:
    from litequeue import LiteQueue

    queue = LiteQueue(str(path / "lite.db"))
    queue.conn.execute("PRAGMA synchronous=FULL")
    data = json.dumps(PAYLOAD)
    started = time.perf_counter()
    for _ in range(jobs):
        queue.put(data)
    for _ in range(jobs):
        message = queue.pop()
        queue.done(message.message_id)
    return time.perf_counter() - started


RUNNERS = {
    "ours": run_ours,
    "persist_queue": run_persist_queue,
    "huey": run_huey,
    "litequeue": run_litequeue,
}


def child(name: str, jobs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        target = path / "queue.db" if name in ("ours", "persist_queue") else path
        elapsed = RUNNERS[name](target, jobs)
    print(json.dumps({"jobs_per_s": jobs / elapsed}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 10,000 as in the side-by-side runs this project started from: a backlog of that size is
    # where claims that scan the table fall behind claims that read an index.
    parser.add_argument("--jobs", type=int, default=10000, help="jobs per run (default 10000)")
    parser.add_argument("--rounds", type=int, default=5, help="runs per implementation")
    parser.add_argument("--child", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.jobs)
        return
    rates: dict[str, list[float]] = {name: [] for name in RUNNERS}
    for _ in range(args.rounds):
        for name in random.sample(sorted(RUNNERS), len(RUNNERS)):
            completed = subprocess.run(
                [sys.executable, __file__, "--child", name, "--jobs", str(args.jobs)],
                capture_output=True,
                text=True,
                timeout=900,
                check=True,
            )
            rates[name].append(json.loads(completed.stdout.strip().splitlines()[-1])["jobs_per_s"])
    medians = {name: round(statistics.median(values)) for name, values in rates.items()}
    result = {
        "jobs": args.jobs,
        "rounds": args.rounds,
        "jobs_per_s": medians,
        "jobs_per_s_min_max": {n: [round(min(v)), round(max(v))] for n, v in rates.items()},
        "speedup_vs_persist_queue": round(medians["ours"] / medians["persist_queue"], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
