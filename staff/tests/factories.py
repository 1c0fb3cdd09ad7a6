"""Many workspaces at once, for the list: public rows only (no schema is made; the list never looks
into one), with owners, members and billing accounts where a test asks for them."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from billing.models import BillingAccount
from tenants.models import Membership, Workspace, WorkspaceStats


def add_workspaces(
    count: int,
    *,
    prefix: str = "shop",
    name: str | None = None,
    members: int = 1,
    plan: str | None = None,
    status: str = BillingAccount.Status.ACTIVE,
    newest_at=None,
) -> list[Workspace]:
    """`count` claimed workspaces named "<name or Prefix> <i>" with slugs "<prefix>-<i>", the first
    the newest, a minute apart; each with an owner (owner@<prefix>-<i>.example) and `members` - 1
    agents; with a billing account on `plan` in `status` if a plan is given."""
    # A day ahead by default: above the session's alpha and beta, signed up moments ago.
    newest_at = newest_at or timezone.now() + timedelta(days=1)
    workspaces = Workspace.objects.bulk_create(
        [
            Workspace(
                schema_name=f"ws_list_{prefix.replace('-', '_')}_{i}",
                name=f"{name or prefix.title()} {i}",
                slug=f"{prefix}-{i}",
                claimed_at=newest_at - timedelta(minutes=i),
            )
            for i in range(count)
        ]
    )
    users = User.objects.bulk_create(
        [
            User(email=f"{'owner' if n == 0 else f'agent{n}'}@{w.slug}.example", signup_email="")
            for w in workspaces
            for n in range(members)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(
                user=users[i * members + n],
                workspace=w,
                role=Membership.Role.OWNER if n == 0 else Membership.Role.AGENT,
            )
            for i, w in enumerate(workspaces)
            for n in range(members)
        ]
    )
    if plan is not None:
        BillingAccount.objects.bulk_create(
            [BillingAccount(workspace=w, plan=plan, status=status) for w in workspaces]
        )
    return workspaces


def add_spare() -> Workspace:
    """A spare schema's row, as the pool keeps them: no slug, no name, not claimed."""
    return Workspace.objects.bulk_create([Workspace(schema_name="ws_list_spare")])[0]


def add_stats(
    workspace: Workspace,
    *,
    conversations_month: int = 0,
    messages_7d: int = 0,
    deliveries_24h: int = 0,
    delivery_failures_24h: int = 0,
    last_activity_at=None,
) -> WorkspaceStats:
    """The list's figures of a workspace, as the activity job would have left them."""
    return WorkspaceStats.objects.create(
        workspace=workspace,
        conversations_month=conversations_month,
        messages_7d=messages_7d,
        deliveries_24h=deliveries_24h,
        delivery_failures_24h=delivery_failures_24h,
        failure_rate_24h=delivery_failures_24h / deliveries_24h if deliveries_24h else None,
        last_activity_at=last_activity_at,
        refreshed_at=timezone.now(),
    )
