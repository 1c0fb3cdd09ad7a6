"""The pool refill runs on the real procrastinate worker, queued by the sign-up that emptied the pool;
so does the staff list's stats refresh."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import User
from config.embedded_services import PROJECT_DIR
from conftest import subprocess_env
from tenants import activity, selectors, services
from tenants.models import Workspace, WorkspaceStats
from tenants.tasks import refresh_workspace_stats

# Committed rows: on_commit must fire, and the worker is another process.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def empty_queue(transactional_db):
    """A queue as a new deployment has it: the worker of an earlier test defers this minute's periodic
    runs (the stats refresh among them, under its queueing lock), which outlive that test."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")


def _jobs() -> list[tuple[str, str]]:
    """Jobs our code queued; a worker may also defer this minute's periodic run (args hold a timestamp)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT task_name, status FROM procrastinate_jobs WHERE NOT args ? 'timestamp' ORDER BY id"
        )
        return cursor.fetchall()


def test_a_claim_queues_a_refill_that_a_worker_carries_out():
    services.spare_schema_provision()
    services.workspace_create(
        owner=User.objects.create_user("w@example.com", "x"), name="W", slug="worker-test"
    )
    assert selectors.spare_count() == 0
    assert _jobs() == [("tenants.tasks.refill_spare_pool", "todo")]

    # A second claim while the refill waits queues nothing more (queueing lock).
    services.spare_schema_provision()
    services.workspace_create(
        owner=User.objects.create_user("v@example.com", "x"), name="V", slug="worker-two"
    )
    assert len(_jobs()) == 1

    result = subprocess.run(
        [sys.executable, "manage.py", "procrastinate", "worker", "--one-shot", "--queues", "default"],
        cwd=PROJECT_DIR,
        env=subprocess_env(PARLEY_SPARE_SCHEMAS="2"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert _jobs() == [], "done, and deleted as every succeeded job is (delete_jobs in the settings)"
    assert selectors.spare_count() == 2


def test_the_stats_refresh_runs_on_the_worker():
    (shop,) = Workspace.objects.bulk_create(
        [Workspace(schema_name="ws_job_stats", name="Job", slug="job-stats", claimed_at=timezone.now())]
    )
    activity.activity_record(schema_name=shop.schema_name, at=timezone.now(), conversations=1, messages=3)
    refresh_workspace_stats.defer()
    result = subprocess.run(
        [sys.executable, "manage.py", "procrastinate", "worker", "--one-shot", "--queues", "default"],
        cwd=PROJECT_DIR,
        env=subprocess_env(PARLEY_SPARE_SCHEMAS="0"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert _jobs() == []
    stats = WorkspaceStats.objects.get(workspace=shop)
    assert (stats.conversations_month, stats.messages_7d, stats.deliveries_24h) == (1, 3, 0)
