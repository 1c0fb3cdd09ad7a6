"""A health sample records the queue, the workers and the spare pool as they are; a finished day's
activity is stored once, as the hourly buckets sum it; what is past the keep time goes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from health import selectors, services
from health.models import ActivityDay, HealthSample
from health.tests.queue import add_job, add_worker, empty_queue
from tenants.models import Workspace, WorkspaceActivity

pytestmark = pytest.mark.django_db


def test_a_sample_records_the_queue_the_workers_and_the_spare_pool():
    empty_queue()
    add_worker(heartbeat_ago=1)
    add_worker(heartbeat_ago=3600)  # long gone: not alive
    add_job(deferred_ago=42)
    add_job(deferred_ago=7)
    add_job(scheduled_in=300)  # a retry due later: not waiting yet
    Workspace.objects.bulk_create([Workspace(schema_name=f"ws_spare_health_{i}") for i in range(2)])
    spares = Workspace.objects.filter(claimed_at__isnull=True).count()

    sample = services.health_sample_record()
    assert HealthSample.objects.get() == sample
    assert (sample.queue_depth, sample.oldest_job_age_seconds, sample.workers_alive) == (2, 42, 1)
    assert sample.spare_pool_size == spares >= 2


def test_an_empty_queue_is_a_depth_and_wait_of_zero():
    empty_queue()
    sample = services.health_sample_record()
    assert (sample.queue_depth, sample.oldest_job_age_seconds, sample.workers_alive) == (0, 0, 0)


def test_samples_older_than_the_keep_time_are_dropped():
    now = timezone.now()
    kept_edge = services.health_sample_record(now=now - services.SAMPLE_KEEP)
    services.health_sample_record(now=now - services.SAMPLE_KEEP - timedelta(seconds=1))
    services.health_sample_record(now=now - timedelta(days=400))
    latest = services.health_sample_record(now=now)
    assert set(HealthSample.objects.all()) == {kept_edge, latest}


def test_finished_days_are_stored_once_as_the_buckets_sum_them_and_today_never():
    now = datetime(2031, 3, 31, 0, 5, tzinfo=UTC)  # five minutes into the 31st
    workspace = Workspace.objects.bulk_create([Workspace(schema_name="ws_days_1", claimed_at=now)])[0]
    for hour, messages, deliveries, failures in [
        (datetime(2031, 3, 29, 9, tzinfo=UTC), 5, 4, 1),
        (datetime(2031, 3, 29, 17, tzinfo=UTC), 2, 0, 0),
        (datetime(2031, 3, 30, 23, tzinfo=UTC), 1, 2, 2),  # still settling at 00:05
        (datetime(2031, 3, 31, 0, tzinfo=UTC), 9, 0, 0),  # today
    ]:
        WorkspaceActivity.objects.create(
            workspace=workspace,
            hour=hour,
            messages=messages,
            deliveries=deliveries,
            delivery_failures=failures,
            last_at=hour,
        )
    window = {"first_day": date(2031, 3, 2), "last_day": date(2031, 3, 31)}
    live = selectors.activity_per_day(**window)

    # The first run stores the days of the last 35 up to the 29th, 24 February to 29 March (the 30th
    # ended less than 10 minutes ago).
    assert services.activity_days_store(now=now) == 34
    stored = {day.day: day for day in ActivityDay.objects.all()}
    assert min(stored) == date(2031, 2, 24) and max(stored) == date(2031, 3, 29)
    assert (stored[date(2031, 3, 29)].active_workspaces, stored[date(2031, 3, 29)].messages) == (1, 7)
    assert (stored[date(2031, 3, 29)].deliveries, stored[date(2031, 3, 29)].delivery_failures) == (4, 1)
    assert stored[date(2031, 3, 28)].messages == 0
    assert selectors.activity_per_day(**window) == live  # stored or summed, the same figures

    assert services.activity_days_store(now=now) == 0  # nothing new
    later = now + timedelta(minutes=10)
    assert services.activity_days_store(now=later) == 1  # the 30th, settled
    assert ActivityDay.objects.get(day=date(2031, 3, 30)).delivery_failures == 2
    assert not ActivityDay.objects.filter(day=date(2031, 3, 31)).exists()

    # A day later the oldest stored day is past the keep time.
    services.activity_days_store(now=later + timedelta(days=1))
    assert min(ActivityDay.objects.values_list("day", flat=True)) == date(2031, 2, 25)


def test_hourly_buckets_past_the_keep_time_go_with_their_days():
    now = datetime(2031, 3, 31, 0, 15, tzinfo=UTC)
    workspace = Workspace.objects.bulk_create([Workspace(schema_name="ws_days_2", claimed_at=now)])[0]
    first_kept = datetime(2031, 2, 24, tzinfo=UTC)  # 35 days back, the first day kept
    for hour in (first_kept - timedelta(days=3), first_kept - timedelta(hours=1), first_kept, now):
        WorkspaceActivity.objects.create(workspace=workspace, hour=hour, messages=1, last_at=hour)
    services.activity_days_store(now=now)
    kept = sorted(WorkspaceActivity.objects.values_list("hour", flat=True))
    assert kept == [first_kept, now]
