"""The audit log that every staff action writes to, exactly once, in the action's own transaction."""

from __future__ import annotations

from accounts.models import User
from staff.models import AuditEntry
from tenants.models import Workspace

# Characters of a reason: a ticket number and a sentence or two; every action's form says the same.
REASON_MAX = 1000


class StaffError(Exception):
    """A staff action that cannot be done; the message says why, for the person who asked."""


class AddressNotProven(StaffError):
    """Staff access for an account whose address its owner has not proven: it may not be theirs."""


def reason_clean(reason: str | None, *, refused: type[StaffError] = StaffError) -> str:
    """The reason an action was given, stripped; `refused` (a StaffError) if there is none or it is
    longer than REASON_MAX."""
    reason = (reason or "").strip()
    if not reason:
        raise refused("Say why: the reason goes into the audit log.")
    if len(reason) > REASON_MAX:
        raise refused(f"Keep the reason to {REASON_MAX:,} characters.")
    return reason


def audit_record(
    *,
    staff: User | None,
    action: str,
    workspace: Workspace | None = None,
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    """Write the one audit row of a staff action; call it inside that action's own transaction."""
    if action not in AuditEntry.Action.values:
        raise ValueError(f"unknown staff action {action!r}")
    if staff is not None and not staff.is_staff:
        raise ValueError("only staff users act in the staff console")
    return AuditEntry.objects.create(
        staff=staff,
        staff_email=staff.email if staff is not None else "",
        action=action,
        workspace=workspace,
        workspace_slug=(workspace.slug or "") if workspace is not None else "",
        workspace_name=workspace.name if workspace is not None else "",
        reason=reason.strip(),
        before=before or {},
        after=after or {},
        ip_address=ip_address or None,
    )
