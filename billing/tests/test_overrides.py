"""Staff's changes to a workspace's billing: a plan override with an optional end, and trials (Stripe's,
moved through the real SDK against localstripe, or one of our own for a workspace without a
subscription). The workspace's limits follow both."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import stripe
from django.utils import timezone

from billing import gateway, limits, overrides, plans, selectors, services
from billing.models import BillingAccount
from billing.tests.localstripe import localstripe_subscribe
from inbox import services as inbox_services
from tenants.context import run_in_workspace

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def billing_on(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_overrides"


def _website(workspace, name: str):
    return run_in_workspace(
        workspace.schema_name,
        lambda: inbox_services.website_create(workspace=workspace, name=name, allowed_origins="")[0],
    )


def _account(workspace, **fields) -> BillingAccount:
    return BillingAccount.objects.create(workspace=workspace, **fields)


# --- plan override


def test_an_override_gives_its_plans_limits_until_its_end_then_stripes_state_again(billing_on, workspace_a):
    now = timezone.now()
    change = overrides.plan_override_set(
        workspace=workspace_a, plan_key="business", until=now + 3 * DAY, reason="Ticket 7: pilot."
    )
    assert change.before == {"plan_override": None, "plan_override_until": None, "plan_in_force": "free"}
    assert change.after == {
        "plan_override": "business", "plan_override_until": now + 3 * DAY, "plan_in_force": "business"
    }  # fmt: skip
    account = BillingAccount.objects.get(workspace=workspace_a)  # made: the workspace had none
    assert account.plan_override_reason == "Ticket 7: pilot."
    assert limits.plan_in_force(workspace_a) == plans.BUSINESS
    assert limits.plan_in_force(workspace_a, now=now + 2 * DAY) == plans.BUSINESS
    assert limits.plan_in_force(workspace_a, now=now + 3 * DAY) == plans.FREE  # ended: no subscription
    # The limits themselves follow it: Free allows one website, Business any number.
    for n in range(3):
        _website(workspace_a, f"Site {n}")


def test_an_override_below_a_paid_plan_holds_and_a_subscription_takes_over_after_it(billing_on, workspace_a):
    _account(workspace_a, plan="team", status=BillingAccount.Status.ACTIVE)
    now = timezone.now()
    overrides.plan_override_set(workspace=workspace_a, plan_key="free", until=now + DAY, reason="Abuse.")
    assert limits.plan_in_force(workspace_a) == plans.FREE
    _website(workspace_a, "The one Free allows")
    with pytest.raises(limits.PlanLimitReached):
        _website(workspace_a, "One more")
    assert limits.plan_in_force(workspace_a, now=now + DAY) == plans.TEAM


def test_an_override_without_an_end_lasts_until_cleared(billing_on, workspace_a):
    overrides.plan_override_set(workspace=workspace_a, plan_key="team", until=None, reason="Partner.")
    far = timezone.now() + dt.timedelta(days=3650)
    assert limits.plan_in_force(workspace_a, now=far) == plans.TEAM
    change = overrides.plan_override_clear(workspace=workspace_a)
    assert change.before["plan_override"] == "team" and change.before["plan_in_force"] == "team"
    assert change.after == {"plan_override": None, "plan_override_until": None, "plan_in_force": "free"}
    account = BillingAccount.objects.get(workspace=workspace_a)
    assert (account.plan_override, account.plan_override_until, account.plan_override_reason) == (
        "",
        None,
        "",
    )
    assert limits.plan_in_force(workspace_a) == plans.FREE


def test_the_summary_shows_an_override_while_it_lasts(billing_on, workspace_a):
    now = timezone.now()
    overrides.plan_override_set(workspace=workspace_a, plan_key="team", until=now + DAY, reason="Why not.")
    account = BillingAccount.objects.get(workspace=workspace_a)
    summary = selectors.billing_summary(account)
    assert (summary.override, summary.override_until, summary.override_reason) == (
        plans.TEAM, now + DAY, "Why not."
    )  # fmt: skip
    assert summary.in_force == plans.TEAM and summary.subscribed == plans.FREE
    later = selectors.billing_summary(account, now=now + 2 * DAY)
    assert later.override is None and later.in_force == plans.FREE


@pytest.mark.parametrize(
    ("plan_key", "until_days", "reason", "message"),
    [
        ("platinum", 1, "x", "There is no plan 'platinum'"),
        ("team", -1, "x", "The end date has passed"),
        ("team", 0, "x", "The end date has passed"),
        ("team", 1, "   ", "Say why"),
    ],
)
def test_an_override_refuses_bad_input_and_writes_nothing(
    billing_on, workspace_a, plan_key, until_days, reason, message
):
    now = timezone.now()
    with pytest.raises(overrides.StaffChangeRefused, match=message):
        overrides.plan_override_set(
            workspace=workspace_a, plan_key=plan_key, until=now + until_days * DAY, reason=reason, now=now
        )
    assert not BillingAccount.objects.filter(workspace=workspace_a).exclude(plan_override="").exists()


def test_clearing_needs_an_override_and_nothing_works_with_billing_off(settings, workspace_a):
    settings.STRIPE_SECRET_KEY = "sk_test_overrides"
    with pytest.raises(overrides.StaffChangeRefused, match="not overridden"):
        overrides.plan_override_clear(workspace=workspace_a)
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(overrides.StaffChangeRefused, match="Billing is off"):
        overrides.plan_override_set(workspace=workspace_a, plan_key="team", until=None, reason="x")
    with pytest.raises(overrides.StaffChangeRefused, match="Billing is off"):
        overrides.trial_extend(workspace=workspace_a, until=timezone.now() + DAY, plan_key="team")


def test_the_owners_billing_page_says_the_override(billing_on, workspace_a, client_a):
    overrides.plan_override_set(
        workspace=workspace_a, plan_key="business", until=dt.datetime(2099, 3, 1, tzinfo=dt.UTC), reason="x"
    )
    html = client_a.get("/settings/billing/").content.decode()
    assert "Business's limits apply, as set by Parley until 1 March 2099" in html


# --- trials without a subscription: our own


def test_a_workspace_without_a_subscription_gets_a_trial_of_its_own(billing_on, workspace_a):
    now = timezone.now()
    change = overrides.trial_extend(workspace=workspace_a, until=now + 14 * DAY, plan_key="team")
    assert change.before == {"trial": None, "trial_plan": None, "trial_until": None}
    assert change.after == {"trial": "local", "trial_plan": "team", "trial_until": now + 14 * DAY}
    assert limits.plan_in_force(workspace_a) == plans.TEAM
    assert limits.plan_in_force(workspace_a, now=now + 14 * DAY) == plans.FREE
    summary = selectors.billing_summary(BillingAccount.objects.get(workspace=workspace_a))
    assert (summary.trial_plan, summary.trial_until, summary.trial_is_local) == (
        plans.TEAM,
        now + 14 * DAY,
        True,
    )
    # Extended again: the plan stays unless another is chosen; only a later end is an extension.
    overrides.trial_extend(workspace=workspace_a, until=now + 20 * DAY)
    account = BillingAccount.objects.get(workspace=workspace_a)
    assert (account.trial_plan, account.trial_until) == ("team", now + 20 * DAY)
    with pytest.raises(overrides.StaffChangeRefused, match="already runs until"):
        overrides.trial_extend(workspace=workspace_a, until=now + 15 * DAY)


def test_a_trial_of_our_own_gives_way_to_a_subscription_that_owes(billing_on, workspace_a):
    now = timezone.now()
    overrides.trial_extend(workspace=workspace_a, until=now + 14 * DAY, plan_key="business")
    BillingAccount.objects.filter(workspace=workspace_a).update(
        plan="team", status=BillingAccount.Status.PAST_DUE, past_due_since=now - 30 * DAY
    )
    assert limits.plan_in_force(workspace_a) == plans.FREE  # past the grace: the trial lifts nothing


@pytest.mark.parametrize(
    ("plan_key", "until_days", "message"),
    [
        ("", 5, "Choose the paid plan"),
        ("free", 5, "Choose the paid plan"),
        ("platinum", 5, "Choose the paid plan"),
        ("team", -1, "has passed"),
        ("team", 731, "two years"),
    ],
)
def test_a_trial_refuses_bad_input(billing_on, workspace_a, plan_key, until_days, message):
    with pytest.raises(overrides.StaffChangeRefused, match=message):
        overrides.trial_extend(
            workspace=workspace_a, until=timezone.now() + until_days * DAY, plan_key=plan_key
        )
    assert not BillingAccount.objects.filter(workspace=workspace_a, trial_until__isnull=False).exists()


def test_a_paying_workspace_has_no_trial_to_extend(billing_on, workspace_a):
    _account(workspace_a, plan="team", status=BillingAccount.Status.ACTIVE, stripe_subscription_id="sub_x")
    with pytest.raises(overrides.StaffChangeRefused, match="subscription is active: it has no trial"):
        overrides.trial_extend(workspace=workspace_a, until=timezone.now() + 5 * DAY, plan_key="team")


# --- trials in Stripe: moved there, through the real SDK


def _stripe(settings) -> stripe.StripeClient:
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE})


def _on_stripe_trial(settings, workspace, days: int) -> BillingAccount:
    customer_id = gateway.customer_for_workspace(workspace=workspace)
    trial_end = int(time.time()) + days * 86400
    subscription = localstripe_subscribe(
        _stripe(settings), customer_id, "price_team_monthly", trial_end=trial_end
    )
    account = _account(workspace, stripe_customer_id=customer_id, stripe_subscription_id=subscription["id"])
    services.subscription_refresh(account=account)
    account.refresh_from_db()
    assert (account.plan, account.status) == ("team", "trialing")
    assert account.current_period_end == dt.datetime.fromtimestamp(trial_end, dt.UTC)
    return account


def test_a_stripe_trial_is_moved_in_stripe_and_stored_here(stripe_on, workspace_a):
    account = _on_stripe_trial(stripe_on, workspace_a, days=3)
    before_end = account.current_period_end
    until = dt.datetime.combine(timezone.now().date() + 30 * DAY, dt.time(), dt.UTC)
    change = overrides.trial_extend(workspace=workspace_a, until=until, plan_key="business")
    assert (
        int(gateway.subscription_retrieve(account.stripe_subscription_id)["trial_end"]) == until.timestamp()
    )
    account.refresh_from_db()
    assert (account.status, account.plan, account.current_period_end) == ("trialing", "team", until)
    assert not account.trial_until  # Stripe's trial: nothing of our own, and the plan stays Stripe's
    assert change.before == {"trial": "stripe", "trial_plan": "team", "trial_until": before_end}
    assert change.after == {"trial": "stripe", "trial_plan": "team", "trial_until": until}
    assert limits.plan_in_force(workspace_a) == plans.TEAM


def test_a_stripe_trial_is_not_shortened(stripe_on, workspace_a):
    account = _on_stripe_trial(stripe_on, workspace_a, days=10)
    ends = account.current_period_end
    with pytest.raises(overrides.StaffChangeRefused, match="already runs until"):
        overrides.trial_extend(workspace=workspace_a, until=timezone.now() + 5 * DAY)
    assert gateway.subscription_retrieve(account.stripe_subscription_id)["trial_end"] == int(ends.timestamp())
