"""Writes of the staff console, one module per kind of action; each action writes its one audit row
through audit.audit_record in its own transaction. Re-exported here: callers use `services.<name>`."""

from staff.services.access import StaffGrant, staff_grant
from staff.services.audit import AddressNotProven, StaffError, audit_record
from staff.services.export import workspace_export_request

__all__ = [
    "AddressNotProven",
    "StaffError",
    "StaffGrant",
    "audit_record",
    "staff_grant",
    "workspace_export_request",
]
