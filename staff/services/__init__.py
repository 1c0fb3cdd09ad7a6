"""Writes of the staff console, one module per kind of action; each action writes its one audit row
through audit.audit_record in its own transaction. Re-exported here: callers use `services.<name>`."""

from staff.services.access import StaffGrant, staff_grant
from staff.services.audit import AddressNotProven, StaffError, audit_record
from staff.services.billing import plan_override_clear, plan_override_set, trial_extend
from staff.services.export import workspace_export_request
from staff.services.impersonation import (
    IMPERSONATION_LONGEST,
    ImpersonationRefused,
    impersonation_end_cause,
    impersonation_enter,
    impersonation_in_force,
    impersonation_page_record,
    impersonation_start,
    impersonation_stop,
)
from staff.services.members import MemberNotFound, verification_resend
from staff.services.suspension import (
    SlugNotConfirmed,
    workspace_delete,
    workspace_drop,
    workspace_restore,
    workspace_suspend,
    workspace_unsuspend,
    workspaces_drop_due,
)

__all__ = [
    "IMPERSONATION_LONGEST",
    "AddressNotProven",
    "ImpersonationRefused",
    "MemberNotFound",
    "SlugNotConfirmed",
    "StaffError",
    "StaffGrant",
    "audit_record",
    "impersonation_end_cause",
    "impersonation_enter",
    "impersonation_in_force",
    "impersonation_page_record",
    "impersonation_start",
    "impersonation_stop",
    "plan_override_clear",
    "plan_override_set",
    "staff_grant",
    "trial_extend",
    "verification_resend",
    "workspace_delete",
    "workspace_drop",
    "workspace_export_request",
    "workspace_restore",
    "workspace_suspend",
    "workspace_unsuspend",
    "workspaces_drop_due",
]
