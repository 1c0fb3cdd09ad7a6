"""Suspension and deletion of a workspace: the business side of the staff console's actions
(staff.services.suspension audits each)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from tenants import app_settings, hooks
from tenants.exceptions import (
    WorkspaceStateRefused,
)
from tenants.models import Workspace


def _workspace_locked(workspace: Workspace) -> Workspace:
    """The workspace's row as it is now, locked until the transaction ends: two staff acting on it at
    once take turns, and the drop job cannot run between a restore's check and its write."""
    return Workspace.objects.select_for_update().get(pk=workspace.pk)


def workspace_suspend(*, workspace: Workspace, reason: str) -> Workspace:
    """Suspend a workspace: its pages, sockets, API and webhook deliveries stop (each checks
    `suspended_at`), and the sockets open on it close once this commits. Nothing is deleted."""
    with transaction.atomic():
        workspace = _workspace_locked(workspace)
        if workspace.is_suspended:
            raise WorkspaceStateRefused(f"{workspace.name} is already suspended.")
        _suspension_start(workspace, reason)
    return workspace


def _suspension_start(workspace: Workspace, reason: str) -> None:
    workspace.suspended_at = timezone.now()
    workspace.suspension_reason = reason.strip()
    workspace.save(update_fields=["suspended_at", "suspension_reason"])
    hooks.workspace_suspended(workspace=workspace)


def workspace_unsuspend(*, workspace: Workspace) -> Workspace:
    """Lift a suspension: everything works again, and the webhook deliveries held back go out."""
    with transaction.atomic():
        workspace = _workspace_locked(workspace)
        if not workspace.is_suspended:
            raise WorkspaceStateRefused(f"{workspace.name} is not suspended.")
        if workspace.deletion_due_at is not None:
            raise WorkspaceStateRefused(
                f"{workspace.name} is scheduled for deletion: restore it, which also lifts the suspension."
            )
        _suspension_end(workspace)
    return workspace


def _suspension_end(workspace: Workspace) -> None:
    workspace.suspended_at = None
    workspace.suspension_reason = ""
    workspace.deletion_due_at = None
    workspace.save(update_fields=["suspended_at", "suspension_reason", "deletion_due_at"])
    hooks.workspace_unsuspended(workspace=workspace)


def workspace_deletion_schedule(*, workspace: Workspace, reason: str) -> Workspace:
    """Delete a workspace after the grace period (PARLEY_DELETE_GRACE_DAYS): it is suspended at once
    (if it was not already) and its schema dropped by a job at `deletion_due_at`, unless restored."""
    with transaction.atomic():
        workspace = _workspace_locked(workspace)
        if workspace.deletion_due_at is not None:
            raise WorkspaceStateRefused(
                f"{workspace.name} is already scheduled for deletion on {workspace.deletion_due_at:%d %b %Y}."
            )
        if not workspace.is_suspended:
            _suspension_start(workspace, reason)
        workspace.deletion_due_at = timezone.now() + timedelta(days=app_settings.delete_grace_days())
        workspace.save(update_fields=["deletion_due_at"])
    return workspace


def workspace_restore(*, workspace: Workspace) -> Workspace:
    """Take back a deletion before it is due: the workspace is no longer scheduled for deletion, nor
    suspended. Refused once the time has come (the drop job may be dropping its schema)."""
    with transaction.atomic():
        workspace = _workspace_locked(workspace)
        if workspace.deletion_due_at is None:
            raise WorkspaceStateRefused(f"{workspace.name} is not scheduled for deletion.")
        if workspace.deletion_due_at <= timezone.now():
            raise WorkspaceStateRefused(
                f"{workspace.name} was due for deletion on {workspace.deletion_due_at:%d %b %Y, %H:%M} UTC: "
                "too late to restore it."
            )
        _suspension_end(workspace)
    return workspace


def workspace_drop(*, workspace: Workspace) -> None:
    """Drop a workspace whose deletion is due: its schema (every conversation, contact, message,
    website, webhook and API key in it) and its rows in the public schema (domains, memberships,
    invitations, site keys, activity, billing account; audit entries keep the slug and name copied in
    them). Its jobs still queued are taken off the queue. WorkspaceStateRefused if it is not due
    (restored meanwhile): nothing is dropped, and the caller's transaction may roll back with it."""
    with transaction.atomic():
        locked = (
            Workspace.objects.select_for_update()
            .filter(pk=workspace.pk, deletion_due_at__lte=timezone.now())
            .first()
        )
        if locked is None:
            raise WorkspaceStateRefused(f"{workspace.name} is not due for deletion.")
        with connection.cursor() as cursor:
            # Jobs of a workspace's schema name it in their arguments (webhooks.tasks.deliver): left
            # queued, each would fail, and be retried, against a schema that is gone.
            cursor.execute(
                "DELETE FROM procrastinate_jobs WHERE status = 'todo' AND args->>'schema_name' = %s",
                [locked.schema_name],
            )
        # DROP SCHEMA … CASCADE, then the row, and its public rows by cascade. PostgreSQL's DDL is
        # transactional: the schema and the rows go together, at the commit, or not at all.
        locked.delete(force_drop=True)
