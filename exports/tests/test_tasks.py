"""Exports on the real procrastinate worker, in another process: a requested export is built from its
job and downloaded; its progress shows on the owner's panel while the worker writes; the expiry job
deletes old files."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from config.embedded_services import PROJECT_DIR
from conftest import host_client, subprocess_env
from exports import services
from exports.models import WorkspaceExport
from exports.tasks import exports_expired_delete
from exports.tests.data import add_messages, fill, zip_files
from tenants import app_settings
from tests.polling import eventually
from webhooks.tests.workers import start_worker, stop

# Committed rows: the worker is another process.
pytestmark = pytest.mark.django_db(transaction=True)

PANEL, DOWNLOAD = "/settings/export/", "/settings/export/download/"


def one_shot_worker(queue: str, export_dir) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "procrastinate", "worker", "--one-shot", "--queues", queue],
        cwd=PROJECT_DIR,
        env=subprocess_env(PARLEY_EXPORT_DIR=str(export_dir)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def export_jobs() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT queue_name, status FROM procrastinate_jobs "
            "WHERE task_name = 'exports.tasks.export_build' ORDER BY id"
        )
        return cursor.fetchall()


def test_the_worker_builds_the_export_an_owner_requested(tx_workspaces, export_dir):
    workspace, owner = tx_workspaces.alpha, tx_workspaces.owner_a
    filled = fill(workspace, owner, "alpha")
    fill(tx_workspaces.beta, tx_workspaces.owner_b, "beta")
    client = host_client(app_settings.workspace_hostname(workspace.slug), owner)
    assert client.post(PANEL).status_code == 302
    assert export_jobs() == [("exports", "todo")]

    one_shot_worker("exports", export_dir)

    export = WorkspaceExport.objects.get()
    assert export.status == "done", export.error
    assert export_jobs() == [], "done, and deleted as every succeeded job is"
    response = client.get(DOWNLOAD)
    assert response.status_code == 200
    files = zip_files(b"".join(response.streaming_content))
    assert [
        m["id"] for m in map(json.loads, files["messages.jsonl"].decode().splitlines())
    ] == filled.message_ids
    assert "beta" not in b"".join(files.values()).decode()


def test_the_panel_shows_the_progress_while_the_worker_builds(tx_workspaces, export_dir):
    workspace, owner = tx_workspaces.alpha, tx_workspaces.owner_a
    filled = fill(workspace, owner, "alpha", visitors=3)
    add_messages(workspace, 20)
    total = 3 + 3 + len(filled.message_ids) + 20 + 1  # contacts, conversations, messages, the owner
    client = host_client(app_settings.workspace_hostname(workspace.slug), owner)
    export, _ = services.export_request(workspace=workspace, requested_by=owner)

    # Contacts are written first, then conversations, whose objects read their labels: holding that
    # table stops the build just after the contacts, at a known point, until the test lets it go.
    db = connection.settings_dict
    holder = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"],
        port=db["PORT"] or None,
    )
    worker = None
    try:
        holder.execute(
            f"LOCK TABLE {workspace.schema_name}.inbox_conversation_labels IN ACCESS EXCLUSIVE MODE"
        )
        queued = client.get(PANEL).content.decode()
        assert "Waiting to start" in queued and 'hx-trigger="every 1s"' in queued

        worker = start_worker(PARLEY_EXPORT_DIR=str(export_dir), PARLEY_EXPORT_BATCH="2")

        def held_after_the_contacts():
            export.refresh_from_db()
            return export.status == "running" and export.progress_done == 3

        eventually(held_after_the_contacts, timeout=60, what="the build past the contacts")
        assert export.progress_total == total
        running = client.get(PANEL).content.decode()
        assert "Preparing the export" in running and f"3 of {total} rows" in running
        assert 'hx-trigger="every 1s"' in running
    finally:
        holder.rollback()  # lets the build go on
        holder.close()

    def ready():
        export.refresh_from_db()
        return export.status == "done"

    try:
        eventually(ready, timeout=60, what="the export ready")
    finally:
        if worker is not None:
            stop(worker)
    assert export.progress_done == export.progress_total
    done = client.get(PANEL).content.decode()
    assert "hx-trigger" not in done and "Download ZIP" in done


def test_the_expiry_job_deletes_old_files_on_the_worker(tx_workspaces, export_dir):
    workspace, owner = tx_workspaces.alpha, tx_workspaces.owner_a
    export, _ = services.export_request(workspace=workspace, requested_by=owner)
    one_shot_worker("exports", export_dir)
    export.refresh_from_db()
    assert (export_dir / export.file_name).exists()
    WorkspaceExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    exports_expired_delete.defer()
    one_shot_worker("default", export_dir)

    export.refresh_from_db()
    assert export.status == "expired" and list(export_dir.iterdir()) == []
