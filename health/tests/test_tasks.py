"""The sampling job is a periodic task of procrastinate's app, and a real worker runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from procrastinate.contrib.django import app

from config.embedded_services import PROJECT_DIR
from conftest import subprocess_env
from health import tasks
from health.models import HealthSample


def test_the_sampler_runs_every_five_minutes_and_the_days_are_stored_hourly():
    periodic = {task.task.name: task.cron for task in app.periodic_registry.periodic_tasks.values()}
    assert periodic["health.tasks.sample_platform"] == "*/5 * * * *"
    assert periodic["health.tasks.store_activity_days"] == "15 * * * *"


@pytest.mark.django_db(transaction=True)  # the worker is another process: it must see the job
def test_a_worker_takes_a_sample_and_counts_itself_alive():
    tasks.sample_platform.defer()
    result = subprocess.run(
        [sys.executable, "manage.py", "procrastinate", "worker", "--one-shot", "--queues", "default"],
        cwd=PROJECT_DIR,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # Ours, and maybe this five minutes' periodic run, which the worker defers as it starts.
    samples = list(HealthSample.objects.all())
    assert 1 <= len(samples) <= 2
    # The worker that runs the job has sent its first heartbeat as it started.
    assert all(sample.workers_alive >= 1 for sample in samples)
