"""Reads of the staff console: every workspace at a glance, one workspace in full, its audit trail.

Everything here reads the public schema, where workspaces, members, billing and the audit log live;
only a workspace's own page looks into its schema (its websites), through tenants.context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from allauth.account.models import EmailAddress
from django.db import models
from django.db.models import (
    Count,
    Exists,
    Expression,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from billing import plans
from billing import selectors as billing_selectors
from billing.models import BillingAccount
from config.keyset import SortValue, sort_cursor_decode, sort_cursor_encode
from inbox import selectors as inbox_selectors
from inbox.models import Website
from staff.models import AuditEntry, ImpersonationSession
from tenants.context import run_in_workspace
from tenants.models import Invitation, Membership, Workspace, WorkspaceStats
from webhooks import selectors as webhook_selectors
from webhooks.models import Attempt

WORKSPACE_PAGE_SIZE = 50
AUDIT_TRAIL_SIZE = 50
QUERY_MAX = 100  # characters of a search that are used

_ROLE_ORDER = {Membership.Role.OWNER: 0, Membership.Role.ADMIN: 1, Membership.Role.AGENT: 2}


@dataclass(frozen=True)
class WorkspaceSort:
    """A way to sort the list: by `value` (an expression over a workspace and its WorkspaceStats, with
    no NULL, so that a page ends at a (value, id) position), then by id."""

    label: str
    value: Callable[[], Expression]
    kind: type[SortValue]
    descending_first: bool  # the direction a first click on its column sorts in
    ascending: str  # the directions in words: "oldest first", "A to Z"...
    descending: str


# The activity figures of a workspace with no WorkspaceStats row (no activity yet) read as zeros;
# as last activity, a time before any; as failure rate, below 0 %: under the workspaces with
# deliveries that all succeeded.
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)
SORTS: dict[str, WorkspaceSort] = {
    "created": WorkspaceSort(
        "Created", lambda: F("claimed_at"), datetime, True, "oldest first", "newest first"
    ),
    "name": WorkspaceSort("Name", lambda: Lower("name"), str, False, "A to Z", "Z to A"),
    "conversations": WorkspaceSort(
        "Conversations this month",
        lambda: Coalesce("stats__conversations_month", Value(0)),
        int,
        True,
        "fewest first",
        "most first",
    ),
    "messages": WorkspaceSort(
        "Messages, 7\u00a0days",  # no break inside a figure and its unit
        lambda: Coalesce("stats__messages_7d", Value(0)),
        int,
        True,
        "fewest first",
        "most first",
    ),
    "activity": WorkspaceSort(
        "Last activity",
        lambda: Coalesce("stats__last_activity_at", Value(_NEVER)),
        datetime,
        True,
        "longest ago first",
        "latest first",
    ),
    "failures": WorkspaceSort(
        "Webhook failures, 24\u00a0h",
        lambda: Coalesce("stats__failure_rate_24h", Value(-1.0), output_field=FloatField()),
        float,
        True,
        "lowest rate first",
        "highest rate first",
    ),
}
DEFAULT_SORT = "-created"  # newest sign-up first


class WorkspaceState(models.TextChoices):
    """Whether a workspace runs, is suspended, or is suspended and waiting to be deleted."""

    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    DELETING = "deleting", "Scheduled for deletion"


@dataclass(frozen=True)
class WorkspaceFilters:
    """The list's search, filters and sort, as read from a query string (anything unknown is dropped)."""

    query: str = ""  # part of a name, a slug or a member's email
    plan: str = ""  # a key of billing.plans.PLANS: the plan the workspace's account is on
    status: str = ""  # a BillingAccount.Status
    state: str = ""  # a WorkspaceState
    sort: str = DEFAULT_SORT  # a key of SORTS, after a "-" for descending

    @property
    def active(self) -> bool:
        return bool(self.query or self.plan or self.status or self.state)

    @property
    def sort_key(self) -> str:
        return self.sort.removeprefix("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    def as_query(self) -> dict[str, str]:
        found = {"q": self.query, "plan": self.plan, "status": self.status, "state": self.state}
        if self.sort != DEFAULT_SORT:
            found["sort"] = self.sort
        return {name: value for name, value in found.items() if value}


def workspace_filters_from(params) -> WorkspaceFilters:
    plan = params.get("plan", "")
    status = params.get("status", "")
    state = params.get("state", "")
    sort = params.get("sort", "")
    return WorkspaceFilters(
        query=" ".join(str(params.get("q", "")).split())[:QUERY_MAX],
        plan=plan if plan in plans.PLANS else "",
        status=status if status in BillingAccount.Status.values else "",
        state=state if state in WorkspaceState.values else "",
        sort=sort if sort.removeprefix("-") in SORTS else DEFAULT_SORT,
    )


def sort_choices() -> list[tuple[str, str]]:
    """Every sort of the list in both directions, as (value of `sort`, what it says), the default first."""
    choices = []
    for key, sort in SORTS.items():
        both = [(f"-{key}", sort.descending), (key, sort.ascending)]
        for value, words in both if sort.descending_first else both[::-1]:
            choices.append((value, f"{sort.label}, {words}"))
    choices.sort(key=lambda choice: choice[0] != DEFAULT_SORT)
    return choices


@dataclass(frozen=True)
class WorkspaceRow:
    """One line of the list, its activity figures read with it from WorkspaceStats (public schema,
    kept by a periodic job from the activity counters): never a query into the workspace's schema."""

    workspace: Workspace
    owner_email: str | None
    member_count: int
    billing: billing_selectors.BillingSummary
    conversations_month: int
    messages_7d: int
    last_activity_at: datetime | None
    deliveries_24h: int
    failure_rate_24h: float | None  # None without deliveries

    @property
    def failure_percent(self) -> str:
        """The failure rate as people read it ("0 %", "37.5 %", "< 0.1 %"); empty without deliveries."""
        if self.failure_rate_24h is None:
            return ""
        if 0 < self.failure_rate_24h < 0.001:
            return "< 0.1 %"  # not "0 %": some failed
        return f"{self.failure_rate_24h * 100:.1f}".removesuffix(".0") + " %"


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
    if filters.state == WorkspaceState.ACTIVE:
        workspaces = workspaces.filter(suspended_at__isnull=True, deletion_due_at__isnull=True)
    elif filters.state == WorkspaceState.SUSPENDED:
        workspaces = workspaces.filter(suspended_at__isnull=False, deletion_due_at__isnull=True)
    elif filters.state == WorkspaceState.DELETING:
        workspaces = workspaces.filter(deletion_due_at__isnull=False)
    return workspaces


def _cursor_encode(filters: WorkspaceFilters, workspace: Workspace) -> str:
    # The sort is part of the cursor: a cursor of another sort (or direction) means the first page.
    return f"{filters.sort}:{sort_cursor_encode(workspace.sort_value, workspace.pk)}"


def _cursor_decode(filters: WorkspaceFilters, cursor: str | None) -> tuple[SortValue, int] | None:
    sort, _, position = (cursor or "").partition(":")
    return sort_cursor_decode(position, SORTS[filters.sort_key].kind) if sort == filters.sort else None


def workspace_page(
    *, filters: WorkspaceFilters, cursor: str | None = None, limit: int | None = None
) -> WorkspacePage:
    """One page of workspaces (WORKSPACE_PAGE_SIZE unless `limit`) in the filters' sort, by keyset (a
    page boundary stays put while workspaces are added): one query whatever the page's size and sort,
    owner, member count, billing account and activity figures included."""
    limit = limit or WORKSPACE_PAGE_SIZE
    sort = SORTS[filters.sort_key]
    order = ("-sort_value", "-id") if filters.descending else ("sort_value", "id")
    # The page's ids first, sorted over narrow rows (a workspace and the one figure it is sorted by,
    # and only the joins its filters need), then everything the rows show, for those ids alone: the
    # billing accounts, owners and member counts of the page, not of every workspace that matches.
    page_ids = _filtered_workspaces(filters).annotate(sort_value=sort.value())
    if after := _cursor_decode(filters, cursor):
        value, pk = after
        # The first condition says the same as the second, in a form an index on the value can use
        # to start at the cursor.
        if filters.descending:
            page_ids = page_ids.filter(Q(sort_value__lte=value), Q(sort_value__lt=value) | Q(id__lt=pk))
        else:
            page_ids = page_ids.filter(Q(sort_value__gte=value), Q(sort_value__gt=value) | Q(id__gt=pk))
    page_ids = page_ids.order_by(*order).values("pk")[: limit + 1]
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
        Workspace.objects.filter(pk__in=page_ids)
        .select_related("billing")
        .annotate(
            sort_value=sort.value(),
            owner_email=Subquery(owner_email),
            member_count=Coalesce(Subquery(member_count, output_field=IntegerField()), 0),
            conversations_month=F("stats__conversations_month"),
            messages_7d=F("stats__messages_7d"),
            last_activity_at=F("stats__last_activity_at"),
            deliveries_24h=F("stats__deliveries_24h"),
            failure_rate_24h=F("stats__failure_rate_24h"),
        )
        .order_by(*order)
    )
    rows = [
        WorkspaceRow(
            workspace=workspace,
            owner_email=workspace.owner_email,
            member_count=workspace.member_count,
            billing=billing_selectors.billing_summary(_loaded_account(workspace)),
            conversations_month=workspace.conversations_month or 0,
            messages_7d=workspace.messages_7d or 0,
            last_activity_at=workspace.last_activity_at,
            deliveries_24h=workspace.deliveries_24h or 0,
            failure_rate_24h=workspace.failure_rate_24h,
        )
        for workspace in found[:limit]
    ]
    next_cursor = _cursor_encode(filters, found[limit - 1]) if len(found) > limit else None
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
    stats: WorkspaceStats | None  # None: no activity counted yet
    webhook_failures: list[Attempt]  # the latest, from its schema
    audit_trail: list[AuditEntry]


def claimed_workspace(workspace_id: int) -> Workspace | None:
    """The workspace an action of the console names, None for no such workspace (or a spare)."""
    return Workspace.objects.filter(pk=workspace_id, claimed_at__isnull=False).first()


def workspace_detail(workspace_id: int) -> WorkspaceDetail | None:
    """Everything the console's page of one workspace shows; None for no such workspace (or a spare)."""
    workspace = (
        Workspace.objects.filter(pk=workspace_id, claimed_at__isnull=False)
        .select_related("billing", "stats")
        .prefetch_related("domains")
        .first()
    )
    if workspace is None:
        return None
    billing = billing_selectors.billing_summary(_loaded_account(workspace))
    # Its schema, only for these reads: run_in_workspace puts the connection back in public.
    websites, webhook_failures = run_in_workspace(workspace.schema_name, _schema_reads)
    proven = EmailAddress.objects.filter(
        user=OuterRef("user"), email__iexact=OuterRef("user__email"), verified=True
    )
    members = sorted(
        # email_verified: whether the member has proven their address (a resend is offered if not).
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .annotate(email_verified=Exists(proven)),
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
        websites=websites,
        stats=getattr(workspace, "stats", None),
        webhook_failures=webhook_failures,
        audit_trail=audit_trail(workspace=workspace),
    )


def _schema_reads() -> tuple[list[Website], list[Attempt]]:
    return list(inbox_selectors.websites_of_workspace()), webhook_selectors.recent_failed_attempts()


def audit_trail(*, workspace: Workspace, limit: int = AUDIT_TRAIL_SIZE) -> list[AuditEntry]:
    """What staff did to a workspace, newest first."""
    return list(AuditEntry.objects.filter(workspace=workspace).order_by("-created_at", "-id")[:limit])


def impersonation_for(impersonation_id: object) -> ImpersonationSession | None:
    """The impersonation a session's marker names, with its staff user, member and workspace; None if
    there is no such row (or the marker is not an id)."""
    if not isinstance(impersonation_id, int):
        return None
    return (
        ImpersonationSession.objects.select_related("staff", "member", "workspace")
        .filter(pk=impersonation_id)
        .first()
    )
