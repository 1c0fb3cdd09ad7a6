"""Writes for the platform's health: the samples the console charts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from health import selectors
from health.models import HealthSample
from tenants import selectors as tenants_selectors

# The console charts 30 days; five more keep its oldest day whole, with room to spare.
SAMPLE_KEEP = timedelta(days=35)


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
