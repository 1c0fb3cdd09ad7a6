"""Suspension and deletion of a workspace, by staff: suspend and unsuspend; delete (suspended at once,
its schema dropped after PARLEY_DELETE_GRACE_DAYS) and restore; and the job's drop when the time
comes. The business rules are tenants.services'; each action here adds its one audit row, in the
same transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

from accounts.models import User
from billing import services as billing_services
from exports import services as export_services
from staff.models import AuditEntry
from staff.services.audit import StaffError, audit_record, reason_clean
from tenants import selectors as tenant_selectors
from tenants import services as tenant_services
from tenants.exceptions import WorkspaceStateRefused
from tenants.models import Workspace

logger = logging.getLogger(__name__)


class SlugNotConfirmed(StaffError):
    """A deletion whose confirmation is not the workspace's address."""


def _state(workspace: Workspace) -> dict:
    """What these actions change, for the audit row's before and after."""
    return {
        "suspended_at": workspace.suspended_at,
        "suspension_reason": workspace.suspension_reason,
        "deletion_due_at": workspace.deletion_due_at,
    }


def _act(
    *,
    staff: User,
    action: str,
    workspace: Workspace,
    reason: str,
    ip_address: str | None,
    change: Callable[[Workspace], Workspace],
) -> Workspace:
    """Run `change(workspace)` (a tenants service) and write the audit row, in one transaction; the
    service's refusal becomes a StaffError, and nothing is written. `before` is read under the row's
    lock, which the service takes again: nobody changes the row between the two reads."""
    try:
        with transaction.atomic():
            before = _state(Workspace.objects.select_for_update().get(pk=workspace.pk))
            changed = change(workspace)
            audit_record(
                staff=staff,
                action=action,
                workspace=changed,
                reason=reason,
                before=before,
                after=_state(changed),
                ip_address=ip_address,
            )
    except WorkspaceStateRefused as exc:
        raise StaffError(str(exc)) from None
    return changed


def workspace_suspend(
    *, staff: User, workspace: Workspace, reason: str, ip_address: str | None = None
) -> Workspace:
    """Suspend the workspace (pages, widget, API and webhooks stop; nothing is deleted); audited."""
    reason = reason_clean(reason)
    return _act(
        staff=staff, action=AuditEntry.Action.SUSPEND, workspace=workspace, reason=reason,
        ip_address=ip_address,
        change=lambda w: tenant_services.workspace_suspend(workspace=w, reason=reason),
    )  # fmt: skip


def workspace_unsuspend(
    *, staff: User, workspace: Workspace, reason: str, ip_address: str | None = None
) -> Workspace:
    """Lift the suspension (held webhook deliveries go out); audited."""
    reason = reason_clean(reason)
    return _act(
        staff=staff, action=AuditEntry.Action.UNSUSPEND, workspace=workspace, reason=reason,
        ip_address=ip_address,
        change=lambda w: tenant_services.workspace_unsuspend(workspace=w),
    )  # fmt: skip


def workspace_delete(
    *, staff: User, workspace: Workspace, slug_typed: str, reason: str, ip_address: str | None = None
) -> Workspace:
    """Schedule the workspace's deletion, its address typed to confirm: suspended now, its schema
    dropped PARLEY_DELETE_GRACE_DAYS later unless restored; audited."""
    if (slug_typed or "").strip().lower() != workspace.slug:
        raise SlugNotConfirmed(f"Type the workspace's address, {workspace.slug}, to confirm.")
    reason = reason_clean(reason)
    return _act(
        staff=staff, action=AuditEntry.Action.DELETE, workspace=workspace, reason=reason,
        ip_address=ip_address,
        change=lambda w: tenant_services.workspace_deletion_schedule(workspace=w, reason=reason),
    )  # fmt: skip


def workspace_restore(
    *, staff: User, workspace: Workspace, reason: str, ip_address: str | None = None
) -> Workspace:
    """Take back a deletion before it is due (the workspace is unsuspended too); audited."""
    reason = reason_clean(reason)
    return _act(
        staff=staff, action=AuditEntry.Action.RESTORE, workspace=workspace, reason=reason,
        ip_address=ip_address,
        change=lambda w: tenant_services.workspace_restore(workspace=w),
    )  # fmt: skip


def workspace_drop(*, workspace: Workspace) -> bool:
    """Drop one workspace whose deletion is due (the job's, staff=None), with its one SCHEMA_DROP audit
    row. Its paid subscription, if any, is cancelled at Stripe first: if that fails nothing is dropped
    (the next run tries again), so no deleted workspace is ever still billed. False if it was not due
    after all (restored meanwhile). Its export files are deleted with it."""
    billing_services.subscription_cancel_now(workspace=workspace)
    try:
        with transaction.atomic():
            # Written first, while the row it names exists; the drop then sets its workspace to null
            # (the slug and name are copied in it). Refused, the drop rolls this row back too.
            audit_record(
                staff=None,
                action=AuditEntry.Action.SCHEMA_DROP,
                workspace=workspace,
                reason=f"The grace period of its deletion ended on {workspace.deletion_due_at:%d %b %Y}.",
                before={**_state(workspace), "schema_name": workspace.schema_name},
                after={},
            )
            # Its export files are the workspace's data too: expired here, deleted at the commit (a
            # refused drop rolls this back, and they stay).
            export_services.workspace_exports_discard(workspace=workspace)
            tenant_services.workspace_drop(workspace=workspace)
    except WorkspaceStateRefused:
        return False
    return True


def workspaces_drop_due() -> int:
    """Drop every workspace whose deletion is due (the periodic job); returns how many were dropped.
    One that fails (Stripe unreachable) is logged and left for the next run; the others go on."""
    dropped = 0
    for workspace in tenant_selectors.workspaces_due_for_deletion():
        try:
            dropped += workspace_drop(workspace=workspace)
        except Exception:
            logger.exception("could not drop workspace %s (%s); will try again", workspace.pk, workspace.slug)
    return dropped
