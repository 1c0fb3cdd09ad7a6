"""The console's billing actions from the workspace's page: override the plan (and end it), extend the
trial. Each writes exactly one audit row, answers bad input with the page and what was wrong, and
needs the CSRF token."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
import stripe
from django.utils import timezone

from billing import gateway, limits, overrides, plans
from billing import services as billing_services
from billing.models import BillingAccount
from billing.tests.localstripe import localstripe_subscribe
from staff.models import AuditEntry

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def billing_on(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_staff_actions"
    return settings


def _url(workspace, action: str = "") -> str:
    return f"/staff/workspaces/{workspace.pk}/{action}"


def _day(days: int) -> str:
    return (timezone.now().date() + dt.timedelta(days=days)).isoformat()


def _midnight(days: int) -> dt.datetime:
    return dt.datetime.combine(timezone.now().date() + dt.timedelta(days=days), dt.time(), dt.UTC)


def test_the_page_offers_the_billing_actions_only_while_billing_is_on(staff_client, workspace_a, settings):
    html = staff_client.get(_url(workspace_a)).content.decode()
    assert "Override the plan" not in html and "Extend the trial" not in html
    sent = staff_client.post(_url(workspace_a, "plan/"), {"plan": "team", "reason": "x"})
    assert sent.status_code == 400 and "Billing is off on this Parley" in sent.content.decode()
    assert not AuditEntry.objects.exists()
    settings.STRIPE_SECRET_KEY = "sk_test_staff_actions"
    html = staff_client.get(_url(workspace_a)).content.decode()
    assert f'action="/staff/workspaces/{workspace_a.pk}/plan/"' in html
    assert f'action="/staff/workspaces/{workspace_a.pk}/trial/"' in html
    assert "End the override now" not in html  # nothing to end


def test_overriding_the_plan_writes_one_audit_row_and_the_limits_follow(
    staff_client, staff_user, workspace_a, billing_on
):
    sent = staff_client.post(
        _url(workspace_a, "plan/"), {"plan": "business", "until": _day(10), "reason": "Ticket 12: <pilot>"}
    )
    assert sent.status_code == 302 and sent["Location"] == _url(workspace_a)
    (entry,) = AuditEntry.objects.all()
    assert (entry.action, entry.staff, entry.workspace, entry.reason) == (
        "plan_override", staff_user, workspace_a, "Ticket 12: <pilot>"
    )  # fmt: skip
    assert entry.before == {"plan_override": None, "plan_override_until": None, "plan_in_force": "free"}
    assert entry.after["plan_override"] == "business" and entry.after["plan_in_force"] == "business"
    assert entry.after["plan_override_until"] == _midnight(10).isoformat().replace("+00:00", "Z")
    assert entry.ip_address == "127.0.0.1"
    assert limits.plan_in_force(workspace_a) == plans.BUSINESS
    html = staff_client.get(_url(workspace_a)).content.decode()
    assert "Alpha Support is on Business until" in html  # the outcome, said once
    assert "Ticket 12: &lt;pilot&gt;" in html and "<pilot>" not in html  # the reason, escaped
    assert "End the override now" in html


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"plan": "team", "until": "PAST", "reason": "x"}, "That day has begun or passed"),
        ({"plan": "team", "until": "TODAY", "reason": "x"}, "That day has begun or passed"),
        ({"plan": "platinum", "reason": "x"}, "There is no such plan"),
        ({"plan": "team", "until": "2026-02-30", "reason": "x"}, "Enter a valid date"),
        ({"plan": "team", "reason": ""}, "Say why: the reason goes into the audit log."),
        ({"plan": "team", "reason": "   "}, "Say why: the reason goes into the audit log."),
        ({"reason": "x"}, "This field is required"),
    ],
)
def test_bad_input_for_an_override_is_answered_with_the_page_and_changes_nothing(
    staff_client, workspace_a, billing_on, data, error
):
    data = {
        **data,
        "until": {"PAST": _day(-1), "TODAY": _day(0)}.get(data.get("until"), data.get("until", "")),
    }
    sent = staff_client.post(_url(workspace_a, "plan/"), data)
    html = sent.content.decode()
    assert sent.status_code == 400 and error in html
    assert '<h1 class="break">Alpha Support</h1>' in html  # the page, with the form where it was
    assert not AuditEntry.objects.exists()
    assert not BillingAccount.objects.filter(workspace=workspace_a).exclude(plan_override="").exists()


def test_ending_an_override_is_an_action_of_its_own(staff_client, staff_user, workspace_a, billing_on):
    overrides.plan_override_set(workspace=workspace_a, plan_key="team", until=None, reason="Partner.")
    missing = staff_client.post(_url(workspace_a, "plan/clear/"), {"reason": ""})
    assert missing.status_code == 400 and "Say why" in missing.content.decode()
    sent = staff_client.post(_url(workspace_a, "plan/clear/"), {"reason": "Partnership over."})
    assert sent.status_code == 302
    (entry,) = AuditEntry.objects.all()
    assert (entry.action, entry.reason) == ("plan_override", "Partnership over.")
    assert entry.before["plan_override"] == "team" and entry.after["plan_override"] is None
    assert entry.after["plan_in_force"] == "free"
    assert limits.plan_in_force(workspace_a) == plans.FREE
    again = staff_client.post(_url(workspace_a, "plan/clear/"), {"reason": "Twice."})
    assert (
        again.status_code == 400 and "This workspace&#x27;s plan is not overridden." in again.content.decode()
    )
    assert AuditEntry.objects.count() == 1


def test_a_trial_for_a_workspace_without_a_subscription_is_given_here(
    staff_client, staff_user, workspace_a, billing_on
):
    html = staff_client.get(_url(workspace_a)).content.decode()
    assert "No subscription on trial: a trial of the plan chosen is given here" in html
    sent = staff_client.post(
        _url(workspace_a, "trial/"), {"until": _day(14), "plan": "team", "reason": "Demo."}
    )
    assert sent.status_code == 302
    (entry,) = AuditEntry.objects.all()
    assert (entry.action, entry.staff, entry.reason) == ("trial_extend", staff_user, "Demo.")
    assert entry.before == {"trial": None, "trial_plan": None, "trial_until": None}
    assert entry.after["trial"] == "local" and entry.after["trial_plan"] == "team"
    assert limits.plan_in_force(workspace_a) == plans.TEAM
    html = staff_client.get(_url(workspace_a)).content.decode()
    assert "here (no Stripe subscription)" in html and "On a trial of Team given here" in html


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"until": "PAST", "plan": "team", "reason": "x"}, "That day has begun or passed"),
        ({"until": "", "plan": "team", "reason": "x"}, "This field is required"),
        ({"until": "LATER", "plan": "", "reason": "x"}, "Choose the paid plan to try"),
        (
            {"until": "LATER", "plan": "free", "reason": "x"},
            "There is no such plan: choose Team or Business.",
        ),
        ({"until": "FAR", "plan": "team", "reason": "x"}, "A trial ends at most two years ahead"),
        ({"until": "LATER", "plan": "team", "reason": ""}, "Say why"),
    ],
)
def test_bad_input_for_a_trial_is_answered_with_the_page_and_changes_nothing(
    staff_client, workspace_a, billing_on, data, error
):
    days = {"PAST": _day(-2), "LATER": _day(5), "FAR": _day(800)}
    data = {**data, "until": days.get(data["until"], data["until"])}
    sent = staff_client.post(_url(workspace_a, "trial/"), data)
    assert sent.status_code == 400 and error in sent.content.decode()
    assert not AuditEntry.objects.exists()
    assert not BillingAccount.objects.filter(workspace=workspace_a, trial_until__isnull=False).exists()


def test_a_paying_workspace_is_told_to_override_instead(staff_client, workspace_a, billing_on):
    BillingAccount.objects.create(
        workspace=workspace_a, plan="team", status="active", stripe_subscription_id="s"
    )
    sent = staff_client.post(_url(workspace_a, "trial/"), {"until": _day(5), "plan": "team", "reason": "x"})
    assert (
        sent.status_code == 400
        and "it has no trial to extend. Override its plan instead." in sent.content.decode()
    )
    assert not AuditEntry.objects.exists()


def test_a_stripe_trial_is_extended_in_stripe_from_the_page(staff_client, workspace_a, stripe_on):
    client = stripe.StripeClient(
        stripe_on.STRIPE_SECRET_KEY, base_addresses={"api": stripe_on.STRIPE_API_BASE}
    )
    customer_id = gateway.customer_for_workspace(workspace=workspace_a)
    subscription = localstripe_subscribe(
        client, customer_id, "price_business_monthly", trial_end=int(time.time()) + 2 * 86400
    )
    account = BillingAccount.objects.create(
        workspace=workspace_a, stripe_customer_id=customer_id, stripe_subscription_id=subscription["id"]
    )
    billing_services.subscription_refresh(account=account)
    html = staff_client.get(_url(workspace_a)).content.decode()
    assert "Its Stripe subscription is on trial until" in html and "the plan stays Business" in html
    sent = staff_client.post(
        _url(workspace_a, "trial/"), {"until": _day(21), "plan": "", "reason": "Slow start."}
    )
    assert sent.status_code == 302
    assert gateway.subscription_retrieve(subscription["id"])["trial_end"] == int(_midnight(21).timestamp())
    account.refresh_from_db()
    assert (account.status, account.plan, account.current_period_end) == (
        "trialing",
        "business",
        _midnight(21),
    )
    (entry,) = AuditEntry.objects.all()
    assert entry.action == "trial_extend" and entry.after["trial"] == "stripe"
    assert re.search(
        r"The trial runs until \d+ \w+ \d{4}, in Stripe\.",
        staff_client.get(_url(workspace_a)).content.decode(),
    )


def test_the_actions_need_the_csrf_token(staff_client, workspace_a, billing_on):
    staff_client.handler.enforce_csrf_checks = True
    data = {"plan": "team", "reason": "x"}
    assert staff_client.post(_url(workspace_a, "plan/"), data).status_code == 403
    for action in ("plan/clear/", "trial/", "verification/", "impersonate/"):
        assert staff_client.post(_url(workspace_a, action), {"reason": "x", "member": 1}).status_code == 403
    html = staff_client.get(_url(workspace_a)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    sent = staff_client.post(_url(workspace_a, "plan/"), {**data, "csrfmiddlewaretoken": token})
    assert sent.status_code == 302
    assert AuditEntry.objects.count() == 1
