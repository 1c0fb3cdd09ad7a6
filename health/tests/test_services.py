"""A health sample records the queue, the workers and the spare pool as they are, and the samples
past their keep time go in the same transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from health import services
from health.models import HealthSample
from health.tests.queue import add_job, add_worker, empty_queue
from tenants.models import Workspace

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
