"""Impersonation, for support: a staff user views a workspace as one of its members, read-only, for
IMPERSONATION_LONGEST at most. Started on the console (public host), carried to the workspace's host by
a one-time link (sessions stay on their host), checked on every request there (staff.middleware);
its start, every page it shows and its end are written to the audit log."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from staff.models import AuditEntry, ImpersonationSession
from staff.services.audit import StaffError, audit_record, reason_clean
from tenants import app_settings
from tenants import selectors as tenant_selectors
from tenants import services as tenant_services
from tenants.models import Workspace

IMPERSONATION_LONGEST = timedelta(minutes=30)
ENTER_PATH = "/handoff/impersonate/"  # on the workspace's host: under /handoff/, open to the signed-out


class ImpersonationRefused(StaffError):
    """Nobody may be viewed that way: a staff account, someone not in the workspace, a spent link."""


def impersonation_start(
    *, staff: User, workspace: Workspace, member: User, reason: str, ip_address: str | None = None
) -> tuple[ImpersonationSession, str]:
    """Start viewing `workspace` as `member`; returns the impersonation and the one-time URL on the
    workspace's host that carries the staff user's browser there (within tenant_services.HANDOFF_LIFETIME)."""
    reason = reason_clean(reason, refused=ImpersonationRefused)
    # Staff are who watch; viewing one of them would borrow their access to the console's data.
    if member.is_staff or member.is_superuser:
        raise ImpersonationRefused(
            f"{member.email} is a staff account: staff accounts cannot be impersonated."
        )
    if not member.is_active:
        raise ImpersonationRefused(f"{member.email} is deactivated: there is nothing to see as them.")
    if tenant_selectors.membership_for(user=member, workspace=workspace) is None:
        raise ImpersonationRefused(f"{member.email} is not a member of {workspace.name}.")
    raw_token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        impersonation = ImpersonationSession.objects.create(
            staff=staff, member=member, workspace=workspace, reason=reason,
            handoff_token_hash=tenant_services.token_hash(raw_token),
            handoff_expires_at=now + tenant_services.HANDOFF_LIFETIME,
            expires_at=now + IMPERSONATION_LONGEST,
        )  # fmt: skip
        audit_record(
            staff=staff, action=AuditEntry.Action.IMPERSONATE_START, workspace=workspace, reason=reason,
            after={"member": member.email, "impersonation": impersonation.pk,
                   "expires_at": impersonation.expires_at},
            ip_address=ip_address,
        )  # fmt: skip
    url = app_settings.workspace_url(workspace.slug, f"{ENTER_PATH}?token={raw_token}")
    return impersonation, url


def impersonation_enter(*, raw_token: str, workspace: Workspace) -> ImpersonationSession:
    """Spend the one-time link on `workspace`'s host: the impersonation it carries, or
    ImpersonationRefused (spent, too old, ended, or no longer allowed)."""
    now = timezone.now()
    with transaction.atomic():
        impersonation = (
            ImpersonationSession.objects.select_for_update()
            .select_related("staff", "member", "workspace")
            .filter(handoff_token_hash=tenant_services.token_hash(raw_token or ""), workspace=workspace)
            .first()
        )
        if (
            impersonation is None
            or impersonation.handoff_used_at is not None
            or impersonation.handoff_expires_at <= now
        ):
            raise ImpersonationRefused("This impersonation link has expired or was already used.")
        if impersonation_end_cause(impersonation, now=now) or not impersonation.is_active(now):
            raise ImpersonationRefused("This impersonation has ended: start another from the staff console.")
        impersonation.handoff_used_at = now
        impersonation.save(update_fields=["handoff_used_at"])
    return impersonation


def impersonation_end_cause(
    impersonation: ImpersonationSession, *, now: datetime | None = None
) -> str | None:
    """Why an impersonation that has not been ended must end now, if it must: its time is up, the staff
    user is staff no more, or the member may no longer be viewed (a staff account now, deactivated,
    or out of the workspace)."""
    now = now or timezone.now()
    if now >= impersonation.expires_at:
        return ImpersonationSession.EndCause.EXPIRED
    staff, member = impersonation.staff, impersonation.member
    if (
        not (staff.is_active and staff.is_staff)
        or member.is_staff
        or member.is_superuser
        or not member.is_active
    ):
        return ImpersonationSession.EndCause.REVOKED
    if tenant_selectors.membership_for(user=member, workspace=impersonation.workspace) is None:
        return ImpersonationSession.EndCause.REVOKED
    return None


def impersonation_stop(
    *, impersonation: ImpersonationSession, cause: str, ip_address: str | None = None
) -> bool:
    """End the impersonation (Stop, or found over on a request): its one IMPERSONATE_STOP row, the first
    time only; False if it had ended already. One that ran out of time ended at its expiry."""
    now = timezone.now()
    with transaction.atomic():
        locked = (
            ImpersonationSession.objects.select_for_update().select_related("staff").get(pk=impersonation.pk)
        )
        if locked.ended_at is not None:
            return False
        expired = cause == ImpersonationSession.EndCause.EXPIRED
        locked.ended_at = min(now, locked.expires_at) if expired else now
        locked.end_cause = cause
        locked.save(update_fields=["ended_at", "end_cause"])
        staff = locked.staff if locked.staff.is_staff else None  # the log takes staff users only
        audit_record(
            staff=staff, action=AuditEntry.Action.IMPERSONATE_STOP, workspace=impersonation.workspace,
            reason=locked.get_end_cause_display(),
            before={"member": impersonation.member.email, "impersonation": locked.pk},
            after={"ended_at": locked.ended_at, "by": staff.email if staff else locked.staff.email},
            ip_address=ip_address,
        )  # fmt: skip
    impersonation.ended_at, impersonation.end_cause = locked.ended_at, locked.end_cause
    return True


def impersonation_page_record(
    *, impersonation: ImpersonationSession, path: str, status: int, ip_address: str | None = None
) -> AuditEntry:
    """A page (or a part of one, fetched by htmx) shown while impersonating: one IMPERSONATE_PAGE row."""
    return audit_record(
        staff=impersonation.staff, action=AuditEntry.Action.IMPERSONATE_PAGE,
        workspace=impersonation.workspace,
        after={"page": path[:2000], "status": status, "as": impersonation.member.email},
        ip_address=ip_address,
    )  # fmt: skip


def impersonation_in_force(
    impersonation: ImpersonationSession | None, *, ip_address: str | None = None
) -> bool:
    """Whether `impersonation` still lets its session view the workspace. One whose time or grounds
    are over (impersonation_end_cause) gets its end written, once, and is no longer in force."""
    if impersonation is None or impersonation.ended_at is not None:
        return False
    cause = impersonation_end_cause(impersonation)
    if cause is not None:
        impersonation_stop(impersonation=impersonation, cause=cause, ip_address=ip_address)
        return False
    return True
