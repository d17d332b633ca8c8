"""SQL statements of the job store that depend on the partial indexes of the jobs table.

Each WHERE clause repeats the WHERE terms of a partial index from storage.schema exactly,
because SQLite uses a partial index only when the query's terms imply the index's terms.
"""

from __future__ import annotations

# The subquery walks the partial index jobs_queued, so the oldest queued job is found without
# reading the history, and the whole claim is one atomic statement.
CLAIM_SQL = """
UPDATE jobs SET status = 'running', backend = :backend, started_at = :now
WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1)
RETURNING *
"""

# Both counts are range counts over the partial indexes jobs_running and jobs_queued.
TASKS_AHEAD_SQL = """
SELECT
    status,
    (SELECT COUNT(*) FROM jobs WHERE status = 'running') AS running,
    (SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND id < :id) AS queued_before
FROM jobs WHERE id = :id
"""

POSITIONS_SQL = """
SELECT
    id,
    ROW_NUMBER() OVER (ORDER BY id) - 1
        + (SELECT COUNT(*) FROM jobs WHERE status = 'running') AS ahead
FROM jobs WHERE status = 'queued'
ORDER BY id
"""

QUEUED_COUNT_SQL = "SELECT COUNT(*) FROM jobs WHERE status = 'queued'"

RUNNING_SQL = "SELECT * FROM jobs WHERE status = 'running' ORDER BY id"

UNDELIVERED_SQL = """
SELECT * FROM jobs
WHERE delivered_at IS NULL AND status IN ('succeeded', 'failed', 'cancelled')
ORDER BY id
"""
