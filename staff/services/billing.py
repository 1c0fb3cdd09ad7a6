"""A workspace's plan and trial, changed by hand: billing makes the change (billing.overrides), the
console writes its one audit row in the same transaction."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from accounts.models import User
from billing import overrides
from staff.models import AuditEntry
from staff.services.audit import StaffError, audit_record, reason_clean
from tenants.models import Workspace


def plan_override_set(
    *,
    staff: User,
    workspace: Workspace,
    plan_key: str,
    until: dt.datetime | None,
    reason: str,
    ip_address: str | None = None,
) -> overrides.AccountChange:
    """Put the workspace on `plan_key`'s limits until `until` (None: until cleared), whatever Stripe says."""
    reason = reason_clean(reason)
    with transaction.atomic():
        try:
            change = overrides.plan_override_set(
                workspace=workspace, plan_key=plan_key, until=until, reason=reason
            )
        except overrides.StaffChangeRefused as exc:
            raise StaffError(str(exc)) from None
        audit_record(
            staff=staff, action=AuditEntry.Action.PLAN_OVERRIDE, workspace=workspace, reason=reason,
            before=change.before, after=change.after, ip_address=ip_address,
        )  # fmt: skip
    return change


def plan_override_clear(
    *, staff: User, workspace: Workspace, reason: str, ip_address: str | None = None
) -> overrides.AccountChange:
    """End the workspace's plan override now: Stripe's state decides its plan again."""
    reason = reason_clean(reason)
    with transaction.atomic():
        try:
            change = overrides.plan_override_clear(workspace=workspace)
        except overrides.StaffChangeRefused as exc:
            raise StaffError(str(exc)) from None
        audit_record(
            staff=staff, action=AuditEntry.Action.PLAN_OVERRIDE, workspace=workspace, reason=reason,
            before=change.before, after=change.after, ip_address=ip_address,
        )  # fmt: skip
    return change


def trial_extend(
    *,
    staff: User,
    workspace: Workspace,
    until: dt.datetime,
    plan_key: str,
    reason: str,
    ip_address: str | None = None,
) -> overrides.AccountChange:
    """Make the workspace's trial last until `until`: in Stripe if it has a subscription on trial, else
    a trial of `plan_key` of our own (billing.overrides.trial_extend says why)."""
    reason = reason_clean(reason)
    with transaction.atomic():
        try:
            change = overrides.trial_extend(workspace=workspace, until=until, plan_key=plan_key)
        except overrides.StaffChangeRefused as exc:
            raise StaffError(str(exc)) from None
        audit_record(
            staff=staff, action=AuditEntry.Action.TRIAL_EXTEND, workspace=workspace, reason=reason,
            before=change.before, after=change.after, ip_address=ip_address,
        )  # fmt: skip
    return change
