"""Reads of the staff console: every workspace at a glance, one workspace in full, its audit trail.

Everything here reads the public schema, where workspaces, members, billing and the audit log live;
only a workspace's own page looks into its schema (its websites), through tenants.context.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from billing import plans
from billing import selectors as billing_selectors
from billing.models import BillingAccount
from config.keyset import cursor_decode, cursor_encode
from inbox import selectors as inbox_selectors
from inbox.models import Website
from staff.models import AuditEntry
from tenants.context import run_in_workspace
from tenants.models import Invitation, Membership, Workspace

WORKSPACE_PAGE_SIZE = 50
AUDIT_TRAIL_SIZE = 50
QUERY_MAX = 100  # characters of a search that are used

_ROLE_ORDER = {Membership.Role.OWNER: 0, Membership.Role.ADMIN: 1, Membership.Role.AGENT: 2}


@dataclass(frozen=True)
class WorkspaceFilters:
    """The list's search and filters, as read from a query string (anything unknown is dropped)."""

    query: str = ""  # part of a name, a slug or a member's email
    plan: str = ""  # a key of billing.plans.PLANS: the plan the workspace's account is on
    status: str = ""  # a BillingAccount.Status

    @property
    def active(self) -> bool:
        return bool(self.query or self.plan or self.status)

    def as_query(self) -> dict[str, str]:
        found = {"q": self.query, "plan": self.plan, "status": self.status}
        return {name: value for name, value in found.items() if value}


def workspace_filters_from(params) -> WorkspaceFilters:
    plan = params.get("plan", "")
    status = params.get("status", "")
    return WorkspaceFilters(
        query=" ".join(str(params.get("q", "")).split())[:QUERY_MAX],
        plan=plan if plan in plans.PLANS else "",
        status=status if status in BillingAccount.Status.values else "",
    )


@dataclass(frozen=True)
class WorkspaceRow:
    """One line of the list. Activity counters (conversations this month, messages in the last 7 days,
    last activity, webhook failure rate over 24 h) are to join here as fields once they are kept per
    workspace in the public schema (issue 16): read with the row, never by a query into each schema."""

    workspace: Workspace
    owner_email: str | None
    member_count: int
    billing: billing_selectors.BillingSummary


@dataclass(frozen=True)
class WorkspacePage:
    rows: list[WorkspaceRow]
    next_cursor: str | None


def claimed_workspace_count() -> int:
    """Workspaces people have signed up for (spare schemas waiting in the pool are not workspaces)."""
    return Workspace.objects.filter(claimed_at__isnull=False).count()


def _filtered_workspaces(filters: WorkspaceFilters) -> QuerySet[Workspace]:
    workspaces = Workspace.objects.filter(claimed_at__isnull=False)
    if filters.query:
        member_matches = Membership.objects.filter(
            workspace=OuterRef("pk"), user__email__icontains=filters.query
        )
        workspaces = workspaces.filter(
            Q(name__icontains=filters.query) | Q(slug__icontains=filters.query) | Exists(member_matches)
        )
    if filters.plan:
        # A workspace with no account, or an account on a key we no longer have, is on Free.
        paid = [key for key in plans.PLANS if key != plans.FREE.key]
        if filters.plan == plans.FREE.key:
            workspaces = workspaces.filter(Q(billing__isnull=True) | ~Q(billing__plan__in=paid))
        else:
            workspaces = workspaces.filter(billing__plan=filters.plan)
    if filters.status:
        if filters.status == BillingAccount.Status.NONE:
            workspaces = workspaces.filter(Q(billing__isnull=True) | Q(billing__status=filters.status))
        else:
            workspaces = workspaces.filter(billing__status=filters.status)
    return workspaces


def _cursor_encode(workspace: Workspace) -> str:
    return cursor_encode(workspace.claimed_at, workspace.pk)


def workspace_page(
    *, filters: WorkspaceFilters, cursor: str | None = None, limit: int | None = None
) -> WorkspacePage:
    """One page of workspaces (WORKSPACE_PAGE_SIZE unless `limit`), newest sign-up first, by keyset (a
    page boundary stays put while workspaces are added): one query whatever the page's size, owner,
    member count and billing account included."""
    limit = limit or WORKSPACE_PAGE_SIZE
    workspaces = _filtered_workspaces(filters)
    if after := cursor_decode(cursor):
        stamp, pk = after
        workspaces = workspaces.filter(Q(claimed_at__lt=stamp) | Q(claimed_at=stamp, id__lt=pk))
    owner_email = (
        Membership.objects.filter(workspace=OuterRef("pk"), role=Membership.Role.OWNER)
        .order_by("created_at", "id")
        .values("user__email")[:1]
    )
    member_count = (
        Membership.objects.filter(workspace=OuterRef("pk"))
        .order_by()
        .values("workspace")
        .annotate(n=Count("id"))
        .values("n")
    )
    found = list(
        workspaces.select_related("billing")
        .annotate(
            owner_email=Subquery(owner_email),
            member_count=Coalesce(Subquery(member_count, output_field=IntegerField()), 0),
        )
        .order_by("-claimed_at", "-id")[: limit + 1]
    )
    rows = [
        WorkspaceRow(
            workspace=workspace,
            owner_email=workspace.owner_email,
            member_count=workspace.member_count,
            billing=billing_selectors.billing_summary(_loaded_account(workspace)),
        )
        for workspace in found[:limit]
    ]
    next_cursor = _cursor_encode(found[limit - 1]) if len(found) > limit else None
    return WorkspacePage(rows=rows, next_cursor=next_cursor)


def _loaded_account(workspace: Workspace) -> BillingAccount | None:
    """The account select_related("billing") read with the workspace, None if it has none (no query)."""
    try:
        return workspace.billing
    except BillingAccount.DoesNotExist:
        return None


@dataclass(frozen=True)
class WorkspaceDetail:
    workspace: Workspace
    hostnames: list[str]
    billing: billing_selectors.BillingSummary
    meters: list[billing_selectors.Meter]  # empty while billing is off
    members: list[Membership]
    invitations: list[Invitation]  # waiting to be accepted
    websites: list[Website]
    audit_trail: list[AuditEntry]


def workspace_detail(workspace_id: int) -> WorkspaceDetail | None:
    """Everything the console's page of one workspace shows; None for no such workspace (or a spare)."""
    workspace = (
        Workspace.objects.filter(pk=workspace_id, claimed_at__isnull=False)
        .select_related("billing")
        .prefetch_related("domains")
        .first()
    )
    if workspace is None:
        return None
    billing = billing_selectors.billing_summary(_loaded_account(workspace))
    members = sorted(
        Membership.objects.filter(workspace=workspace).select_related("user"),
        key=lambda m: (_ROLE_ORDER.get(m.role, 9), m.created_at, m.pk),
    )
    invitations = list(
        Invitation.objects.filter(
            workspace=workspace,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).order_by("created_at")
    )
    return WorkspaceDetail(
        workspace=workspace,
        hostnames=sorted(domain.domain for domain in workspace.domains.all()),
        billing=billing,
        meters=billing_selectors.meters(workspace, billing.in_force) if billing.in_force else [],
        members=members,
        invitations=invitations,
        # Its schema, only for this read: run_in_workspace puts the connection back in public.
        websites=run_in_workspace(workspace.schema_name, _websites),
        audit_trail=audit_trail(workspace=workspace),
    )


def _websites() -> list[Website]:
    return list(inbox_selectors.websites_of_workspace())


def audit_trail(*, workspace: Workspace, limit: int = AUDIT_TRAIL_SIZE) -> list[AuditEntry]:
    """What staff did to a workspace, newest first."""
    return list(AuditEntry.objects.filter(workspace=workspace).order_by("-created_at", "-id")[:limit])


def claimed_workspace(workspace_id: int) -> Workspace | None:
    """The workspace of this id, None for none (or a spare): what the console's actions act on."""
    return Workspace.objects.filter(pk=workspace_id, claimed_at__isnull=False).first()
