"""Writes of the staff console, one module per kind of action; each action writes its one audit row
through audit.audit_record in its own transaction. Re-exported here: callers use `services.<name>`."""

from staff.services.access import StaffGrant, staff_grant
from staff.services.audit import AddressNotProven, StaffError, audit_record
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
    "AddressNotProven",
    "SlugNotConfirmed",
    "StaffError",
    "StaffGrant",
    "audit_record",
    "staff_grant",
    "workspace_delete",
    "workspace_drop",
    "workspace_restore",
    "workspace_suspend",
    "workspace_unsuspend",
    "workspaces_drop_due",
]
