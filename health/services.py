"""Writes for the platform's health: the samples the console charts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from health import selectors
from health.models import ActivityDay, HealthSample
from tenants import selectors as tenants_selectors
from tenants.models import WorkspaceActivity

# The console charts 30 days; five more keep its oldest day whole, with room to spare.
SAMPLE_KEEP = timedelta(days=35)
# A day is summed and stored this long after it ends: a write that counts an event of 23:59:59 commits
# a moment later, into that day's last bucket.
DAY_SETTLES = timedelta(minutes=10)


def health_sample_record(*, now: datetime | None = None) -> HealthSample:
    """Record the queue, the workers and the spare pool as they are, and drop samples past SAMPLE_KEEP."""
    now = now or timezone.now()
    queue = selectors.queue_now()
    with transaction.atomic():
        sample = HealthSample.objects.create(
            taken_at=now,
            queue_depth=queue.waiting,
            oldest_job_age_seconds=queue.oldest_waiting_seconds,
            spare_pool_size=tenants_selectors.spare_count(),
            workers_alive=queue.workers_alive,
        )
        HealthSample.objects.filter(taken_at__lt=now - SAMPLE_KEEP).delete()
    return sample


def activity_days_store(*, now: datetime | None = None) -> int:
    """Sum and store every finished day of the last SAMPLE_KEEP not stored yet (all of them the first
    time, then each day once, after it ends); drop the stored days past SAMPLE_KEEP, and the hourly
    buckets too (nothing reads them past a month: the list's figures go back to the 1st of the month,
    the charts 30 days). Returns how many days it stored."""
    now = now or timezone.now()
    last_day = (now - DAY_SETTLES).astimezone(UTC).date() - timedelta(days=1)
    first_day = (now - SAMPLE_KEEP).astimezone(UTC).date()
    sql = f"""
        WITH days AS (
            SELECT d::date AS day
            FROM generate_series(%(first_day)s::date, %(last_day)s::date, interval '1 day') AS d
            WHERE d::date NOT IN (SELECT day FROM {ActivityDay._meta.db_table})
        ),
        daily AS (
            SELECT {selectors.DAILY_ACTIVITY_COLUMNS}
            FROM {WorkspaceActivity._meta.db_table}
            WHERE hour >= (SELECT min(day) FROM days)::timestamp AT TIME ZONE 'UTC'
              AND hour < (%(last_day)s::date + 1)::timestamp AT TIME ZONE 'UTC'
            GROUP BY 1
        )
        INSERT INTO {ActivityDay._meta.db_table}
            (day, active_workspaces, messages, deliveries, delivery_failures, stored_at)
        SELECT days.day, coalesce(daily.active_workspaces, 0), coalesce(daily.messages, 0),
               coalesce(daily.deliveries, 0), coalesce(daily.delivery_failures, 0), %(now)s
        FROM days LEFT JOIN daily USING (day)
        ON CONFLICT (day) DO NOTHING
    """  # noqa: S608 - the table names are the models'; every value is a parameter
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, {"first_day": first_day, "last_day": last_day, "now": now})
        stored = cursor.rowcount
        ActivityDay.objects.filter(day__lt=first_day).delete()
        first_hour = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
        WorkspaceActivity.objects.filter(hour__lt=first_hour).delete()
    return stored
