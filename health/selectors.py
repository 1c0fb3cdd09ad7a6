"""Reads for the platform's health: 30 days of daily figures from the public schema (workspace sign-ups,
their hourly activity, the health samples), and the job queue as it is now.

Each daily series is one set-based query over the window (a day is a UTC day), with the days that
have no rows filled in by generate_series, so the page costs the same few queries whatever the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from health.models import ActivityDay, HealthSample
from tenants.models import Workspace, WorkspaceActivity

HISTORY_DAYS = 30


@dataclass(frozen=True)
class DailyActivity:
    """One day of every workspace's activity, from the hourly buckets."""

    active_workspaces: int  # workspaces where a conversation started or a message was written
    messages: int
    deliveries: int  # webhook delivery attempts that ended
    delivery_failures: int

    @property
    def failure_rate(self) -> float | None:
        """Failed deliveries as a share of deliveries (0 to 1); None on a day without any: no
        deliveries is no rate, not a rate of 0 %."""
        return self.delivery_failures / self.deliveries if self.deliveries else None


@dataclass(frozen=True)
class DailySamples:
    """One day of health samples, summed up by what matters on a day: its worst moment. Every figure
    is None on a day without samples (no worker ran the sampling job)."""

    samples: int
    queue_depth_peak: int | None
    oldest_job_age_peak: int | None  # seconds
    spare_pool_low: int | None
    workers_alive_low: int | None


@dataclass(frozen=True)
class PlatformHistory:
    """The console's 30 days, oldest first; every list has one entry per day of `days`."""

    days: list[date]
    signups: list[int]
    activity: list[DailyActivity]
    samples: list[DailySamples]


def history_days(*, days: int = HISTORY_DAYS, now: datetime | None = None) -> list[date]:
    """The last `days` UTC days, today (so far) last."""
    today = (now or timezone.now()).astimezone(UTC).date()
    return [today - timedelta(days=days - 1 - n) for n in range(days)]


def _window(first_day: date, last_day: date) -> dict[str, object]:
    """The query parameters of a window of whole UTC days: its days, and its bounds as instants (the
    tables' timestamps are compared with these, so their indexes on the time serve the range)."""
    return {
        "first_day": first_day,
        "last_day": last_day,
        "start": datetime.combine(first_day, time.min, tzinfo=UTC),
        "end": datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=UTC),
    }


def signups_per_day(*, first_day: date, last_day: date) -> list[int]:
    """Workspaces claimed (signed up) on each day from `first_day` to `last_day`; spares are not."""
    sql = f"""
        WITH daily AS (
            SELECT (claimed_at AT TIME ZONE 'UTC')::date AS day, count(*) AS signups
            FROM {Workspace._meta.db_table}
            WHERE claimed_at >= %(start)s AND claimed_at < %(end)s
            GROUP BY 1
        )
        SELECT coalesce(daily.signups, 0)
        FROM generate_series(%(first_day)s::date, %(last_day)s::date, interval '1 day') AS d
        LEFT JOIN daily ON daily.day = d::date
        ORDER BY d
    """  # noqa: S608 - the table name is the model's; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, _window(first_day, last_day))
        return [count for (count,) in cursor.fetchall()]


# One day's activity summed from the hourly buckets (a conversation started or a message written makes
# a workspace active that day; webhook deliveries alone, retries of yesterday's events say, do not).
DAILY_ACTIVITY_COLUMNS = """
    (hour AT TIME ZONE 'UTC')::date AS day,
    count(DISTINCT workspace_id) FILTER (WHERE conversations > 0 OR messages > 0) AS active_workspaces,
    sum(messages) AS messages,
    sum(deliveries) AS deliveries,
    sum(delivery_failures) AS delivery_failures
"""


def activity_per_day(*, first_day: date, last_day: date) -> list[DailyActivity]:
    """Every workspace's activity on each day from `first_day` to `last_day`: the finished days that
    health.services.activity_days_store stored, and the others (today, a day not stored yet) summed
    from the hourly buckets, read through their index on the hour from the first such day on."""
    sql = f"""
        WITH days AS (
            SELECT d::date AS day
            FROM generate_series(%(first_day)s::date, %(last_day)s::date, interval '1 day') AS d
        ),
        stored AS (
            SELECT day, active_workspaces, messages, deliveries, delivery_failures
            FROM {ActivityDay._meta.db_table}
            WHERE day BETWEEN %(first_day)s AND %(last_day)s
        ),
        live AS (
            SELECT {DAILY_ACTIVITY_COLUMNS}
            FROM {WorkspaceActivity._meta.db_table}
            WHERE hour >= (
                    SELECT min(day) FROM days WHERE day NOT IN (SELECT day FROM stored)
                )::timestamp AT TIME ZONE 'UTC'
              AND hour < %(end)s
            GROUP BY 1
        )
        SELECT coalesce(stored.active_workspaces, live.active_workspaces, 0),
               coalesce(stored.messages, live.messages, 0),
               coalesce(stored.deliveries, live.deliveries, 0),
               coalesce(stored.delivery_failures, live.delivery_failures, 0)
        FROM days
        LEFT JOIN stored USING (day)
        LEFT JOIN live USING (day)
        ORDER BY days.day
    """  # noqa: S608 - the table names are the models'; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, _window(first_day, last_day))
        return [
            DailyActivity(
                active_workspaces=int(active),
                messages=int(messages),
                deliveries=int(deliveries),
                delivery_failures=int(failures),
            )
            for active, messages, deliveries, failures in cursor.fetchall()
        ]


def samples_per_day(*, first_day: date, last_day: date) -> list[DailySamples]:
    """Each day's health samples from `first_day` to `last_day`: the longest queue, the longest wait,
    the smallest spare pool and the fewest live workers of the day."""
    sql = f"""
        WITH daily AS (
            SELECT (taken_at AT TIME ZONE 'UTC')::date AS day, count(*) AS samples,
                   max(queue_depth) AS queue_depth, max(oldest_job_age_seconds) AS oldest_job_age,
                   min(spare_pool_size) AS spare_pool, min(workers_alive) AS workers_alive
            FROM {HealthSample._meta.db_table}
            WHERE taken_at >= %(start)s AND taken_at < %(end)s
            GROUP BY 1
        )
        SELECT coalesce(daily.samples, 0), daily.queue_depth, daily.oldest_job_age, daily.spare_pool,
               daily.workers_alive
        FROM generate_series(%(first_day)s::date, %(last_day)s::date, interval '1 day') AS d
        LEFT JOIN daily ON daily.day = d::date
        ORDER BY d
    """  # noqa: S608 - the table name is the model's; every value is a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, _window(first_day, last_day))
        return [
            DailySamples(
                samples=samples,
                queue_depth_peak=queue_depth,
                oldest_job_age_peak=oldest_job_age,
                spare_pool_low=spare_pool,
                workers_alive_low=workers_alive,
            )
            for samples, queue_depth, oldest_job_age, spare_pool, workers_alive in cursor.fetchall()
        ]


def platform_history(*, days: int = HISTORY_DAYS, now: datetime | None = None) -> PlatformHistory:
    """The last `days` days of sign-ups, activity and health samples: three queries."""
    window = history_days(days=days, now=now)
    first_day, last_day = window[0], window[-1]
    return PlatformHistory(
        days=window,
        signups=signups_per_day(first_day=first_day, last_day=last_day),
        activity=activity_per_day(first_day=first_day, last_day=last_day),
        samples=samples_per_day(first_day=first_day, last_day=last_day),
    )


@dataclass(frozen=True)
class QueueNow:
    """procrastinate's queue and workers at this moment."""

    waiting: int  # jobs due and not yet taken by a worker
    scheduled: int  # jobs due later (retries, mostly)
    running: int
    failed: int  # jobs that failed for good (kept: delete_jobs drops only the successful ones)
    oldest_waiting_seconds: int  # how long the oldest waiting job has been due; 0 when none waits
    workers_alive: int  # workers with a heartbeat in the last PARLEY_WORKER_STALLED_AFTER seconds
    last_heartbeat_at: datetime | None  # the newest heartbeat of any worker, alive or not


# A waiting job has been due since the latest of: when it was deferred or put back (a retry, a stalled
# job retried) and the time it was scheduled for.
_QUEUE_NOW_SQL = """
    WITH jobs AS (
        SELECT id, status, scheduled_at,
               status = 'todo' AND (scheduled_at IS NULL OR scheduled_at <= now()) AS waiting
        FROM procrastinate_jobs
        WHERE status IN ('todo', 'doing', 'failed')
    )
    SELECT
        count(*) FILTER (WHERE waiting),
        count(*) FILTER (WHERE status = 'todo' AND NOT waiting),
        count(*) FILTER (WHERE status = 'doing'),
        count(*) FILTER (WHERE status = 'failed'),
        extract(epoch FROM now() - min(CASE WHEN waiting THEN greatest(
            scheduled_at,
            (SELECT max(e.at) FROM procrastinate_events AS e
             WHERE e.job_id = jobs.id AND e.type IN ('deferred', 'deferred_for_retry', 'retried'))
        ) END)),
        (SELECT count(*) FROM procrastinate_workers
         WHERE last_heartbeat > now() - make_interval(secs => %(stalled_after)s)),
        (SELECT max(last_heartbeat) FROM procrastinate_workers)
    FROM jobs
"""


def queue_now() -> QueueNow:
    """The job queue and the live workers, in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_QUEUE_NOW_SQL, {"stalled_after": settings.PARLEY_WORKER_STALLED_AFTER})
        waiting, scheduled, running, failed, oldest, alive, last_heartbeat_at = cursor.fetchone()
    return QueueNow(
        waiting=waiting,
        scheduled=scheduled,
        running=running,
        failed=failed,
        oldest_waiting_seconds=max(0, round(float(oldest or 0))),
        workers_alive=alive,
        last_heartbeat_at=last_heartbeat_at,
    )
