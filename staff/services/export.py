"""Staff export a workspace's data: the export is queued and the request audited, in one transaction."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from exports import services as export_services
from exports.models import WorkspaceExport
from staff.models import AuditEntry
from staff.services.audit import audit_record, reason_clean
from tenants.models import Workspace


def workspace_export_request(
    *, staff: User, workspace: Workspace, reason: str, ip_address: str | None = None
) -> tuple[WorkspaceExport, bool]:
    """Queue an export of the workspace's data for staff, with a reason; one audit row for an export
    queued, none when a staff export of it is already queued or running (that one is returned)."""
    reason = reason_clean(reason)
    with transaction.atomic():
        export, created = export_services.export_request(
            workspace=workspace, requested_by=staff, by_staff=True
        )
        if created:
            audit_record(
                staff=staff,
                action=AuditEntry.Action.EXPORT,
                workspace=workspace,
                reason=reason,
                after={"export_id": export.pk},
                ip_address=ip_address,
            )
    return export, created
