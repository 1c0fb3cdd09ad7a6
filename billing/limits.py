"""What a workspace's plan lets it create, checked by the services that create those things (so pages,
the REST API and management commands all obey it).

Limits apply only while billing is on. A workspace with no subscription, a canceled one, or one past
due for longer than the grace period has Free's limits. Nothing is ever removed: a workspace over a
limit keeps what it has and only cannot create more. A visitor's message is never refused for a
plan (conversations per month only warn)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from billing import plans
from billing.models import BillingAccount
from tenants.models import Workspace

# Statuses under which the subscribed plan holds (past due only within the grace period).
_PLAN_HOLDS = {BillingAccount.Status.ACTIVE, BillingAccount.Status.TRIALING}
# Statuses of an account with no subscription that pays or is on trial: none ever made, its first
# payment not (yet) made, or ended. A trial staff give (local_trial_in_force) applies only in these.
NO_SUBSCRIPTION = frozenset(
    {BillingAccount.Status.NONE, BillingAccount.Status.INCOMPLETE, *BillingAccount.ENDED}
)


class PlanLimitReached(Exception):
    """Creating one more would take the workspace past its plan."""

    code = "plan_limit"
    status = 402

    def __init__(self, resource: Resource, plan: plans.Plan, limit: int) -> None:
        self.resource, self.plan, self.limit = resource, plan, limit
        super().__init__(
            f"The {plan.name} plan allows {limit} {resource.label(limit)}, and this workspace has "
            f"reached that. An owner can move it to a larger plan."
        )


@dataclass(frozen=True)
class Resource:
    key: str  # the Plan attribute holding its limit
    singular: str
    plural: str
    count: Callable[[Workspace], int]  # how many the workspace has now (its schema is current)

    def label(self, n: int) -> str:
        return self.singular if n == 1 else self.plural


def _seats(workspace: Workspace) -> int:
    """Members, and invitations still waiting: each will take a seat once accepted."""
    from tenants.models import Invitation, Membership

    pending = Invitation.objects.filter(
        workspace=workspace, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).count()
    return Membership.objects.filter(workspace=workspace).count() + pending


def _members(workspace: Workspace) -> int:
    from tenants.models import Membership

    return Membership.objects.filter(workspace=workspace).count()


def _websites(workspace: Workspace) -> int:
    from inbox.models import Website

    return Website.objects.count()


def _webhook_endpoints(workspace: Workspace) -> int:
    from webhooks.models import Endpoint

    return Endpoint.objects.count()


def _api_keys(workspace: Workspace) -> int:
    from api.models import ApiKey

    return ApiKey.objects.filter(revoked_at__isnull=True).count()


SEATS = Resource(
    "seats", "seat (members and pending invitations)", "seats (members and pending invitations)", _seats
)
# Accepting an invitation turns a pending seat into a member: only members count then (an invitation
# sent under the limit is refused at acceptance only if the plan has shrunk since).
MEMBERS = Resource("seats", "seat", "seats", _members)
WEBSITES = Resource("websites", "website", "websites", _websites)
WEBHOOK_ENDPOINTS = Resource("webhook_endpoints", "webhook endpoint", "webhook endpoints", _webhook_endpoints)
API_KEYS = Resource("api_keys", "live API key", "live API keys", _api_keys)
RESOURCES = (SEATS, WEBSITES, WEBHOOK_ENDPOINTS, API_KEYS)


def plan_in_force(
    workspace: Workspace, *, account: BillingAccount | None = None, now: dt.datetime | None = None
) -> plans.Plan | None:
    """The plan whose limits apply now; None while billing is off (no limits). `account`: the
    workspace's, if the caller has read it already."""
    if not plans.billing_enabled():
        return None
    if account is None or account.pk is None:
        account = BillingAccount.objects.filter(workspace=workspace).first()
    return plan_in_force_of(account, now=now)


def plan_in_force_of(account: BillingAccount | None, *, now: dt.datetime | None = None) -> plans.Plan | None:
    """`plan_in_force` from an account already read (None: the workspace has none), with no query:
    a staff override while it lasts, else the subscription's plan, else a staff-given trial's, else Free."""
    if not plans.billing_enabled():
        return None
    if account is None:
        return plans.FREE
    now = now or timezone.now()
    if override := override_in_force(account, now=now):
        return override
    if account.status in _PLAN_HOLDS:
        return plans.plan_for_key(account.plan)
    ends = grace_ends(account)
    if account.status == BillingAccount.Status.PAST_DUE and ends and now < ends:
        return plans.plan_for_key(account.plan)
    if trial := local_trial_in_force(account, now=now):
        return trial
    return plans.FREE


def override_in_force(account: BillingAccount, *, now: dt.datetime | None = None) -> plans.Plan | None:
    """The plan staff set for the account, while it lasts (past its end date, Stripe's state again)."""
    if not account.plan_override or account.plan_override not in plans.PLANS:
        return None
    if account.plan_override_until is not None and (now or timezone.now()) >= account.plan_override_until:
        return None
    return plans.PLANS[account.plan_override]


def local_trial_in_force(account: BillingAccount, *, now: dt.datetime | None = None) -> plans.Plan | None:
    """The plan of a trial staff gave a workspace without a subscription, until its end. A
    subscription made since decides instead: a trial never lifts the limits of a workspace whose
    payment is overdue."""
    if account.status not in NO_SUBSCRIPTION:
        return None
    if not account.trial_until or (now or timezone.now()) >= account.trial_until:
        return None
    plan = plans.PLANS.get(account.trial_plan)
    return plan if plan is not None and plan.is_paid else None


def grace_ends(account: BillingAccount) -> dt.datetime | None:
    """When a past-due workspace falls to Free's limits (PARLEY_BILLING_GRACE_DAYS after the first
    failed payment); None while nothing is owed."""
    if account.past_due_since is None:
        return None
    return account.past_due_since + dt.timedelta(days=settings.PARLEY_BILLING_GRACE_DAYS)


def invitation_limit_check(*, workspace: Workspace) -> None:
    """tenants.hooks.before_invitation: a pending invitation holds a seat."""
    limit_check(SEATS, workspace)


def joining_limit_check(*, workspace: Workspace) -> None:
    """tenants.hooks.before_joining: only members count once an invitation is accepted."""
    limit_check(MEMBERS, workspace)


def limit_check(resource: Resource, workspace: Workspace | None = None) -> None:
    """Raise PlanLimitReached if the workspace cannot have one more of `resource`. Call it inside the
    transaction that creates it: it holds a lock on (workspace, resource) until that commits, so two
    requests at once cannot both take the last one. `workspace` defaults to the current schema's."""
    if not plans.billing_enabled():
        return
    if workspace is None:
        workspace = Workspace.objects.get(schema_name=connection.schema_name)
    plan = plan_in_force(workspace)
    limit = getattr(plan, resource.key)
    if limit is None:
        return
    if not connection.in_atomic_block:
        raise RuntimeError("limit_check must run in the transaction that creates the item")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"plan-limit:{workspace.pk}:{resource.key}"]
        )
    if resource.count(workspace) >= limit:
        raise PlanLimitReached(resource, plan, limit)
