"""What Parley's staff change by hand in a workspace's billing: its plan (an override, with an optional
end) and its trial. The staff console calls these and writes its audit row in the same transaction;
each returns the state before and after, for that row. Stripe's own events (billing.services) never
touch what is set here: limits.plan_in_force_of weighs the two."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing import gateway, limits, services
from billing.models import BillingAccount
from billing.plans import PLANS, billing_enabled

# Stripe refuses a trial_end further ahead than this; a trial given here keeps to the same.
TRIAL_LONGEST = dt.timedelta(days=730)


class StaffChangeRefused(Exception):
    """A plan override or a trial that cannot be set; the message says why, for the staff user."""


@dataclass(frozen=True)
class AccountChange:
    """What a staff change did to a workspace's billing, for the audit log."""

    account: BillingAccount
    before: dict[str, Any]
    after: dict[str, Any]


def _account_locked(workspace: Any) -> BillingAccount:
    """The workspace's account (made, on Free, if it has none yet), locked until the transaction ends."""
    BillingAccount.objects.get_or_create(workspace=workspace)
    return BillingAccount.objects.select_for_update().get(workspace=workspace)


def _billing_on() -> None:
    if not billing_enabled():
        raise StaffChangeRefused("Billing is off on this Parley: there are no plans or trials.")


def _override_state(account: BillingAccount, now: dt.datetime) -> dict[str, Any]:
    in_force = limits.plan_in_force_of(account, now=now)
    return {
        "plan_override": account.plan_override or None,
        "plan_override_until": account.plan_override_until,
        "plan_in_force": in_force.key if in_force else None,
    }


_OVERRIDE_FIELDS = ["plan_override", "plan_override_until", "plan_override_reason", "updated_at"]


def plan_override_set(
    *, workspace: Any, plan_key: str, until: dt.datetime | None, reason: str, now: dt.datetime | None = None
) -> AccountChange:
    """Give the workspace `plan_key`'s limits whatever Stripe says, until `until` (None: until cleared),
    then Stripe's state again. Stripe is not told: nothing is charged or refunded."""
    _billing_on()
    now = now or timezone.now()
    if plan_key not in PLANS:
        raise StaffChangeRefused(f"There is no plan {plan_key!r}: choose one of {', '.join(PLANS)}.")
    if until is not None and until <= now:
        raise StaffChangeRefused("The end date has passed: choose a later day, or none.")
    if not reason.strip():
        raise StaffChangeRefused("Say why the plan is overridden.")
    with transaction.atomic():
        account = _account_locked(workspace)
        before = _override_state(account, now)
        account.plan_override, account.plan_override_until = plan_key, until
        account.plan_override_reason = reason.strip()
        account.save(update_fields=_OVERRIDE_FIELDS)
        return AccountChange(account=account, before=before, after=_override_state(account, now))


def plan_override_clear(*, workspace: Any, now: dt.datetime | None = None) -> AccountChange:
    """End staff's override at once: Stripe's state (or a trial staff gave) decides the plan again."""
    _billing_on()
    now = now or timezone.now()
    with transaction.atomic():
        account = _account_locked(workspace)
        if not account.plan_override:
            raise StaffChangeRefused("This workspace's plan is not overridden.")
        before = _override_state(account, now)
        account.plan_override, account.plan_override_until, account.plan_override_reason = "", None, ""
        account.save(update_fields=_OVERRIDE_FIELDS)
        return AccountChange(account=account, before=before, after=_override_state(account, now))


def _trial_state(account: BillingAccount) -> dict[str, Any]:
    if account.status == BillingAccount.Status.TRIALING:
        return {"trial": "stripe", "trial_plan": account.plan, "trial_until": account.current_period_end}
    return {
        "trial": "local" if account.trial_until else None,
        "trial_plan": account.trial_plan or None,
        "trial_until": account.trial_until,
    }


def trial_extend(
    *, workspace: Any, until: dt.datetime, plan_key: str = "", now: dt.datetime | None = None
) -> AccountChange:
    """Make the workspace's trial last until `until`.

    A subscription on trial in Stripe has its trial_end moved there (Stripe charges nothing before
    it), then is stored as Stripe holds it. A workspace with no subscription gets a trial of its own
    here instead: `plan_key`'s limits until `until` (limits.local_trial_in_force), since there is no
    Stripe object to move, and making a Stripe subscription for it would need a payment method the
    owner never gave. Subscribing later ends it (Stripe's state decides then). A workspace that pays,
    or owes, has no trial to extend: staff override its plan instead.
    """
    _billing_on()
    now = now or timezone.now()
    if until <= now:
        raise StaffChangeRefused("The trial's new end has passed: choose a later day.")
    if until > now + TRIAL_LONGEST:
        raise StaffChangeRefused("A trial ends at most two years ahead (as Stripe allows).")
    with transaction.atomic():
        account = _account_locked(workspace)
        before = _trial_state(account)
        if account.status == BillingAccount.Status.TRIALING and account.stripe_subscription_id:
            _stripe_trial_extend(account, until)
        elif account.status in limits.NO_SUBSCRIPTION:
            _local_trial_extend(account, until, plan_key, now)
        else:
            raise StaffChangeRefused(
                f"This workspace's subscription is {account.get_status_display().lower()}: it has no "
                "trial to extend. Override its plan instead."
            )
        return AccountChange(account=account, before=before, after=_trial_state(account))


def _stripe_trial_extend(account: BillingAccount, until: dt.datetime) -> None:
    ends = account.current_period_end
    if ends is not None and until <= ends:
        raise StaffChangeRefused(f"The trial already runs until {ends:%-d %B %Y}: choose a later day.")
    gateway.subscription_trial_end_set(subscription_id=account.stripe_subscription_id, trial_end=until)
    # Stored now, not when Stripe's customer.subscription.updated arrives: the console shows it at once.
    services.subscription_refresh(account=account)


def _local_trial_extend(account: BillingAccount, until: dt.datetime, plan_key: str, now: dt.datetime) -> None:
    current = limits.local_trial_in_force(account, now=now)
    plan = PLANS.get(plan_key) if plan_key else current
    if plan is None or not plan.is_paid:
        raise StaffChangeRefused("Choose the paid plan to try (Team or Business).")
    if current is not None and account.trial_until and until <= account.trial_until:
        raise StaffChangeRefused(
            f"The trial already runs until {account.trial_until:%-d %B %Y}: choose a later day."
        )
    account.trial_plan, account.trial_until = plan.key, until
    account.save(update_fields=["trial_plan", "trial_until", "updated_at"])
