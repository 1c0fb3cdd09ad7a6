"""procrastinate's queue and workers as rows, for tests: jobs in any state, deferred and scheduled at
chosen times, and workers with a heartbeat of a chosen age. Times are relative to the transaction's
now(), which every query of the test's transaction shares."""

from __future__ import annotations

from django.db import connection


def empty_queue() -> None:
    """No job and no worker (in the test's transaction: rolled back with it)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_events")
        cursor.execute("DELETE FROM procrastinate_periodic_defers")
        cursor.execute("DELETE FROM procrastinate_jobs")
        cursor.execute("DELETE FROM procrastinate_workers")


def add_job(
    *, status: str = "todo", deferred_ago: float = 0, scheduled_in: float | None = None, task: str = "x.y"
) -> int:
    """A job deferred `deferred_ago` seconds ago (procrastinate's trigger records the event, moved back
    here), then set to `status`; scheduled `scheduled_in` seconds from now (negative: in the past)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, scheduled_at) "
            "VALUES ('default', %s, '{}', now() + make_interval(secs => %s)) RETURNING id",
            [task, scheduled_in],
        )
        (job_id,) = cursor.fetchone()
        cursor.execute(
            "UPDATE procrastinate_events SET at = now() - make_interval(secs => %s) WHERE job_id = %s",
            [deferred_ago, job_id],
        )
        if status != "todo":
            cursor.execute(
                "UPDATE procrastinate_jobs SET status = %s::procrastinate_job_status WHERE id = %s",
                [status, job_id],
            )
    return job_id


def add_worker(*, heartbeat_ago: float = 0) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (now() - make_interval(secs => %s)) RETURNING id",
            [heartbeat_ago],
        )
        return cursor.fetchone()[0]
