"""SQL statements of the job store that depend on the indexes of the jobs table.

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

# A claim limited to the models of one backend. Each scalar subquery reads the head of one
# model's queue, or of the jobs that name no model, from jobs_queued_model (FIFO) or
# jobs_queued_model_fair (FAIR). A claim therefore costs one index probe per model, however
# many jobs for other models wait ahead. The names are bound as :model_0, :model_1 and so on in
# a VALUES list, because SQLite caps a chain of UNION ALL terms at 500 but not the rows of VALUES.
_MODEL_HEAD_TEMPLATE = (
    "SELECT id FROM jobs WHERE status = 'queued' AND {match} ORDER BY {order} LIMIT 1"
)


def claim_for_models_sql(order: str, model_count: int) -> str:
    """Build the claim of the first queued job, in order, that names no model or one of N models.

    order is the queue's ORDER BY terms, "id" or "sort_key, id".
    """
    null_head = _MODEL_HEAD_TEMPLATE.format(match="model IS NULL", order=order)
    heads = f"SELECT ({null_head})"
    if model_count:
        model_head = _MODEL_HEAD_TEMPLATE.format(match="model = served.column1", order=order)
        values = ", ".join(f"(:model_{index})" for index in range(model_count))
        heads += f" UNION ALL SELECT ({model_head}) FROM (VALUES {values}) AS served"
    return (
        "UPDATE jobs SET status = 'running', backend = :backend, started_at = :now\n"
        f"WHERE id = (SELECT id FROM jobs WHERE id IN ({heads}) ORDER BY {order} LIMIT 1)\n"
        "RETURNING *"
    )


def fail_outside_models_sql(model_count: int) -> str:
    """Build the update that fails the queued jobs naming a model other than N bound models.

    The walk over jobs_queued_model skips the jobs that name no model. :error is a printf()
    format whose %s becomes the job's model.
    """
    where = "status = 'queued' AND model IS NOT NULL"
    if model_count:
        values = ", ".join(f"(:model_{index})" for index in range(model_count))
        where += f" AND model NOT IN (VALUES {values})"
    return (
        "UPDATE jobs SET status = 'failed', error = printf(:error, model), finished_at = :now\n"
        f"WHERE {where}\nRETURNING *"
    )


QUEUED_COUNT_SQL = "SELECT COUNT(*) FROM jobs WHERE status = 'queued'"

RUNNING_SQL = "SELECT * FROM jobs WHERE status = 'running' ORDER BY id"

UNDELIVERED_SQL = """
SELECT * FROM jobs
WHERE delivered_at IS NULL AND status IN ('succeeded', 'failed', 'cancelled')
ORDER BY id
"""

UNDELIVERED_COUNT_SQL = """
SELECT COUNT(*) FROM jobs
WHERE delivered_at IS NULL AND status IN ('succeeded', 'failed', 'cancelled')
"""

# The fair policy's queue order is (sort_key, id), read from the partial index jobs_queued_fair.
FAIR_CLAIM_SQL = """
UPDATE jobs SET status = 'running', backend = :backend, started_at = :now
WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY sort_key, id LIMIT 1)
RETURNING *
"""

# The row-value comparison is a range over jobs_queued_fair that also counts the jobs with an
# equal sort_key and a smaller id.
FAIR_TASKS_AHEAD_SQL = """
SELECT
    mine.status,
    (SELECT COUNT(*) FROM jobs WHERE status = 'running') AS running,
    (SELECT COUNT(*) FROM jobs
        WHERE status = 'queued' AND (sort_key, id) < (mine.sort_key, mine.id)) AS queued_before
FROM jobs AS mine WHERE mine.id = :id
"""

FAIR_POSITIONS_SQL = """
SELECT
    id,
    ROW_NUMBER() OVER (ORDER BY sort_key, id) - 1
        + (SELECT COUNT(*) FROM jobs WHERE status = 'running') AS ahead
FROM jobs WHERE status = 'queued'
ORDER BY sort_key, id
"""

# Under the fair policy a job's sort_key is max(virtual time, the member's largest sort_key among
# their queued and running jobs) + 1. A member's jobs therefore take consecutive turns from now
# on, so members who enqueue later interleave with them instead of waiting behind all of them.
FAIR_NEXT_SORT_KEY_SQL = """
SELECT MAX(
    (SELECT virtual_time FROM queue_state WHERE id = 1),
    (SELECT COALESCE(MAX(sort_key), 0) FROM jobs
        WHERE user_id = :user_id AND status IN ('queued', 'running'))
) + 1
"""

USER_ACTIVE_COUNT_SQL = """
SELECT COUNT(*) FROM jobs WHERE user_id = :user_id AND status IN ('queued', 'running')
"""

USER_LAST_ENQUEUED_AT_SQL = "SELECT MAX(enqueued_at) FROM jobs WHERE user_id = :user_id"

USER_LATEST_RESULTS_SQL = """
SELECT * FROM jobs WHERE user_id = :user_id AND status = 'succeeded'
ORDER BY finished_at DESC, id DESC
LIMIT :limit
"""

# The enqueue inserts only while the member is within both limits. A limit that is off passes
# NULL as :max_active or 0 as :cooldown_s. The cooldown term has the same form as the check that
# explains a refusal, now - last < cooldown, so both agree at the boundary.
ENQUEUE_LIMITS = """
(:max_active IS NULL OR (SELECT COUNT(*) FROM jobs
    WHERE user_id = :user_id AND status IN ('queued', 'running')) < :max_active)
AND (:cooldown_s <= 0 OR COALESCE(:enqueued_at - (SELECT MAX(enqueued_at) FROM jobs
    WHERE user_id = :user_id), :cooldown_s) >= :cooldown_s)
"""

# Counts of the tasks ahead of a new job, returned by the enqueue statement with the row. In
# them "jobs" is the inserted row, and "earlier" walks the partial index jobs_queued or
# jobs_queued_fair.
RUNNING_COUNT = "(SELECT COUNT(*) FROM jobs WHERE status = 'running')"
QUEUED_BEFORE = (
    "(SELECT COUNT(*) FROM jobs AS earlier WHERE earlier.status = 'queued'"
    " AND earlier.id < jobs.id)"
)
FAIR_QUEUED_BEFORE = (
    "(SELECT COUNT(*) FROM jobs AS earlier WHERE earlier.status = 'queued'"
    " AND (earlier.sort_key, earlier.id) < (jobs.sort_key, jobs.id))"
)

RUNNING_COUNT_SQL = "SELECT COUNT(*) FROM jobs WHERE status = 'running'"

# The queue in pages, for callers that must not hold the database for the whole queue: the
# first :limit queued jobs, then the :limit after job :id, in claim order.
QUEUED_FRONT_SQL = "SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT :limit"
QUEUED_PAGE_SQL = (
    "SELECT id FROM jobs WHERE status = 'queued' AND id > :id ORDER BY id LIMIT :limit"
)
FAIR_QUEUED_FRONT_SQL = (
    "SELECT id FROM jobs WHERE status = 'queued' ORDER BY sort_key, id LIMIT :limit"
)
FAIR_QUEUED_PAGE_SQL = """
SELECT id FROM jobs WHERE status = 'queued'
    AND (sort_key, id) > ((SELECT sort_key FROM jobs WHERE id = :id), :id)
ORDER BY sort_key, id LIMIT :limit
"""
