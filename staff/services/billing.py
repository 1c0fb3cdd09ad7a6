"""A workspace's plan and trial, changed by hand: billing makes the change (billing.overrides), the
console writes its one audit row in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction

from accounts.models import User
from billing import overrides
from staff.models import AuditEntry
from staff.services.audit import StaffError, audit_record, reason_clean
from tenants.models import Workspace


def _audited(
    *,
    staff: User,
    workspace: Workspace,
    action: str,
    reason: str,
    ip_address: str | None,
    change: Callable[[str], overrides.AccountChange],
) -> overrides.AccountChange:
    """Make billing's change (given the cleaned reason) and write its audit row, in one transaction;
    billing's refusal becomes the console's StaffError, and nothing is written."""
    reason = reason_clean(reason)
    with transaction.atomic():
        try:
            made = change(reason)
        except overrides.StaffChangeRefused as exc:
            raise StaffError(str(exc)) from None
        audit_record(
            staff=staff,
            action=action,
            workspace=workspace,
            reason=reason,
            before=made.before,
            after=made.after,
            ip_address=ip_address,
        )
    return made


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
    return _audited(
        staff=staff, workspace=workspace, action=AuditEntry.Action.PLAN_OVERRIDE, reason=reason,
        ip_address=ip_address,
        change=lambda why: overrides.plan_override_set(
            workspace=workspace, plan_key=plan_key, until=until, reason=why
        ),
    )  # fmt: skip


def plan_override_clear(
    *, staff: User, workspace: Workspace, reason: str, ip_address: str | None = None
) -> overrides.AccountChange:
    """End the workspace's plan override now: Stripe's state decides its plan again."""
    return _audited(
        staff=staff, workspace=workspace, action=AuditEntry.Action.PLAN_OVERRIDE, reason=reason,
        ip_address=ip_address,
        change=lambda why: overrides.plan_override_clear(workspace=workspace),
    )  # fmt: skip


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
    return _audited(
        staff=staff, workspace=workspace, action=AuditEntry.Action.TRIAL_EXTEND, reason=reason,
        ip_address=ip_address,
        change=lambda why: overrides.trial_extend(workspace=workspace, until=until, plan_key=plan_key),
    )  # fmt: skip
