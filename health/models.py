"""The platform's health over time, in the public schema: what a query at page load cannot tell about
the past (how long the queue was last Tuesday at 3 a.m.), or could only at a price (a month of every
workspace's hourly activity)."""

from __future__ import annotations

from django.db import models


class HealthSample(models.Model):
    """The job queue, the workers and the spare pool at one moment.

    Written every five minutes by `health.tasks.sample_platform` (through
    `health.services.health_sample_record`), kept `services.SAMPLE_KEEP` (35 days): the console charts
    30 days of them. A day without samples is a day no worker ran the job, which the charts show as
    a gap, not as zero.
    """

    taken_at = models.DateTimeField()
    queue_depth = models.PositiveIntegerField()  # jobs due and waiting for a worker
    oldest_job_age_seconds = models.PositiveIntegerField()  # how long the oldest of them waited; 0: none
    spare_pool_size = models.PositiveIntegerField()  # spare schemas ready for sign-ups
    workers_alive = models.PositiveIntegerField()  # workers whose heartbeat is recent

    class Meta:
        indexes = [models.Index(fields=["taken_at"], name="health_sample_taken_at_idx")]

    def __str__(self) -> str:
        return f"Health at {self.taken_at:%Y-%m-%d %H:%M}"


class ActivityDay(models.Model):
    """Every workspace's activity on one finished UTC day, summed from the hourly buckets
    (tenants.models.WorkspaceActivity) once the day is over.

    Written by `health.services.activity_days_store` (hourly, for every finished day of the window not
    stored yet), so the console reads 30 rows instead of a month of buckets (some 600,000 rows at
    10,000 workspaces: a second of work at each page load). Today, and any day not stored yet, is
    summed from the buckets at page load.
    """

    day = models.DateField(unique=True)
    active_workspaces = models.PositiveIntegerField()  # a conversation started or a message written
    messages = models.PositiveIntegerField()
    deliveries = models.PositiveIntegerField()
    delivery_failures = models.PositiveIntegerField()
    stored_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Activity on {self.day:%Y-%m-%d}"
