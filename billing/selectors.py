"""Reads for the owner's billing page (the plan in force, what the workspace uses of it, invoices) and the
staff console (a workspace's billing at a glance)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass

from django.utils import timezone

from billing import gateway, limits, plans
from billing.models import BillingAccount
from tenants.context import workspace_schema
from tenants.models import Workspace

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Meter:
    label: str
    used: int
    limit: int | None  # None: unlimited

    @property
    def percent(self) -> int:
        return 0 if not self.limit else min(100, round(100 * self.used / self.limit))

    @property
    def level(self) -> str:
        """ok, warn (80 % and more) or full (at or over the limit)."""
        if self.limit is None:
            return "ok"
        return "full" if self.used >= self.limit else "warn" if self.percent >= 80 else "ok"


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    now = timezone.localtime(now or timezone.now(), dt.UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def conversations_this_month(workspace: Workspace) -> int:
    """Conversations started since the first of this month (UTC)."""
    from inbox.models import Conversation

    with workspace_schema(workspace.schema_name):
        return Conversation.objects.filter(created_at__gte=month_start()).count()


def meters(workspace: Workspace, plan: plans.Plan) -> list[Meter]:
    """What the workspace uses of each limit of `plan`, conversations this month first."""
    found = [
        Meter("Conversations this month", conversations_this_month(workspace), plan.conversations_per_month)
    ]
    with workspace_schema(workspace.schema_name):
        for resource in limits.RESOURCES:
            label = resource.plural[0].upper() + resource.plural[1:]
            found.append(Meter(label, resource.count(workspace), getattr(plan, resource.key)))
    return found


@dataclass(frozen=True)
class BillingSummary:
    """A workspace's plan and billing status at a glance (the staff console's lists and pages)."""

    subscribed: plans.Plan  # the plan its account is on (Free without one)
    in_force: plans.Plan | None  # whose limits apply now; None while billing is off
    status: str  # a BillingAccount.Status
    status_label: str
    grace_ends: dt.datetime | None  # a past-due workspace falls to Free's limits then
    period_end: dt.datetime | None
    cancel_at_period_end: bool
    # Staff's override while it lasts (its plan, end or None for "until cleared", and why).
    override: plans.Plan | None = None
    override_until: dt.datetime | None = None
    override_reason: str = ""
    # A trial going on now: Stripe's (a trialing subscription, to its period's end) or one staff gave
    # a workspace without a subscription (local).
    trial_plan: plans.Plan | None = None
    trial_until: dt.datetime | None = None
    trial_is_local: bool = False


def billing_summary(account: BillingAccount | None, *, now: dt.datetime | None = None) -> BillingSummary:
    """The summary of a workspace's billing from its account as already read (None: it has none), with
    no query: a list reads every row's account in its own query (select_related("billing"))."""
    status = account.status if account is not None else BillingAccount.Status.NONE
    summary = BillingSummary(
        subscribed=plans.plan_for_key(account.plan) if account is not None else plans.FREE,
        in_force=limits.plan_in_force_of(account, now=now),
        status=status,
        status_label=dict(BillingAccount.Status.choices).get(status, status),
        grace_ends=limits.grace_ends(account) if account is not None else None,
        period_end=account.current_period_end if account is not None else None,
        cancel_at_period_end=account.cancel_at_period_end if account is not None else False,
    )
    if account is None:
        return summary
    override = limits.override_in_force(account, now=now)
    local_trial = limits.local_trial_in_force(account, now=now)
    if status == BillingAccount.Status.TRIALING:
        trial = (summary.subscribed, account.current_period_end, False)
    elif local_trial is not None:
        trial = (local_trial, account.trial_until, True)
    else:
        trial = (None, None, False)
    return dataclasses.replace(
        summary,
        override=override,
        override_until=account.plan_override_until if override else None,
        override_reason=account.plan_override_reason if override else "",
        trial_plan=trial[0],
        trial_until=trial[1],
        trial_is_local=trial[2],
    )


def account_of(workspace: Workspace) -> BillingAccount:
    """The workspace's billing account as stored (an unsaved Free one if it has none yet)."""
    return BillingAccount.objects.filter(workspace=workspace).first() or BillingAccount(workspace=workspace)


def invoices(account: BillingAccount) -> list[dict] | None:
    """The last invoices Stripe holds for the account, as plain rows; None if Stripe did not answer."""
    if not account.stripe_customer_id:
        return []
    try:
        found = gateway.invoices_list(customer_id=account.stripe_customer_id, limit=10)
    except Exception:
        logger.warning(
            "invoices of %s could not be read from Stripe", account.stripe_customer_id, exc_info=True
        )
        return None
    return [
        {
            "number": invoice.get("number") or invoice["id"],
            "created": dt.datetime.fromtimestamp(invoice["created"], dt.UTC),
            "total": invoice.get("total", 0) / 100,
            "currency": (invoice.get("currency") or "").upper(),
            "status": invoice.get("status") or "",
            "pdf": invoice.get("invoice_pdf") or "",
            "page": invoice.get("hosted_invoice_url") or "",
        }
        for invoice in found
    ]


def owner_notice(workspace: Workspace) -> dict | None:
    """The banner an owner sees on every page, if any: a failed payment first, then the month's
    conversations at 80 % or more of the plan (as the periodic check last found them)."""
    account = BillingAccount.objects.filter(workspace=workspace).first()
    if account is None:
        return None
    plan = limits.plan_in_force(workspace, account=account)
    owing = account.past_due_since is not None and account.status not in BillingAccount.ENDED
    if owing:
        ends = limits.grace_ends(account)
        subscribed = plans.plan_for_key(account.plan)
        if ends and timezone.now() < ends:
            text = (
                f"The last payment failed: update the payment method by {ends:%-d %B} "
                f"to keep {subscribed.name}."
            )
        else:
            text = "The last payment failed, so Free's limits apply until it is paid. Nothing was deleted."
        return {"level": "warn", "text": text}
    this_month = account.usage_month == month_start().strftime("%Y-%m")
    if plan and plan.conversations_per_month and this_month and account.usage_level:
        used, limit = conversations_this_month(workspace), plan.conversations_per_month
        text = (
            f"{used} of {limit} conversations this month on {plan.name}. "
            + ("Visitors still get through; " if used >= limit else "")
            + "a larger plan has room for more."
        )
        return {"level": "error" if used >= limit else "warn", "text": text}
    return None
