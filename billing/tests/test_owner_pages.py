"""Settings → Billing: owners only, the plan and its usage, Checkout and the Billing Portal."""

from __future__ import annotations

import pytest

from billing.models import BillingAccount
from conftest import host_client
from tenants import app_settings
from tenants.context import workspace_schema
from tenants.models import Membership

pytestmark = pytest.mark.django_db


def test_with_billing_off_there_is_no_billing_page_and_no_nav_entry(client_a):
    assert client_a.get("/settings/billing/").status_code == 404
    assert (
        client_a.post("/settings/billing/upgrade/", {"plan": "team", "interval": "month"}).status_code == 404
    )
    assert 'href="/settings/billing/"' not in client_a.get("/").content.decode()


def test_only_owners_reach_billing(stripe_on, workspace_a, owner_a):
    from accounts.models import User

    host = app_settings.workspace_hostname(workspace_a.slug)
    for role in (Membership.Role.ADMIN, Membership.Role.AGENT):
        user = User.objects.create_user(f"{role}@example.com", "x")
        Membership.objects.create(user=user, workspace=workspace_a, role=role)
        client = host_client(host, user)
        assert client.get("/settings/billing/").status_code == 403
        assert (
            client.post("/settings/billing/upgrade/", {"plan": "team", "interval": "month"}).status_code
            == 403
        )
        assert client.post("/settings/billing/portal/").status_code == 403
        assert 'href="/settings/billing/"' not in client.get("/").content.decode()
    assert not BillingAccount.objects.filter(workspace=workspace_a).exists()  # nothing was started


def test_another_workspaces_owner_cannot_see_or_act_on_it(stripe_on, workspace_a, owner_b):
    intruder = host_client(app_settings.workspace_hostname(workspace_a.slug), owner_b)
    for response in (
        intruder.get("/settings/billing/"),
        intruder.post("/settings/billing/upgrade/", {"plan": "team", "interval": "month"}),
        intruder.post("/settings/billing/portal/"),
    ):
        assert response.status_code in (302, 403, 404)
        assert "checkout.stripe.test" not in response.get("Location", "")
    assert not BillingAccount.objects.filter(workspace=workspace_a).exists()


def test_the_owner_sees_the_plan_usage_bars_and_the_paid_plans(stripe_on, workspace_a, client_a):
    from inbox import services as inbox_services

    with workspace_schema(workspace_a.schema_name):
        inbox_services.website_create(workspace=workspace_a, name="Shop", allowed_origins="")
    page = client_a.get("/settings/billing/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<h2>Free</h2>" in html and "No subscription" in html
    assert '<progress value="1" max="1" aria-label="Websites: 1 of 1">' in html  # full: at its limit
    assert "usage-full" in html and 'value="team"' in html and 'value="business"' in html
    assert 'href="/settings/billing/" aria-current="page">Billing</a>' in html  # in the nav, marked
    assert "No invoices yet." in html


def test_upgrade_opens_checkout_for_the_workspace_with_one_customer_however_often(
    stripe_on, stripe_api, workspace_a, client_a
):
    first = client_a.post("/settings/billing/upgrade/", {"plan": "team", "interval": "year"})
    assert first.status_code == 302 and first["Location"].startswith(
        "https://checkout.stripe.test/c/pay/cs_test_"
    )
    fields = stripe_api.sessions[-1]["fields"]
    assert fields["line_items[0][price]"] == "price_team_yearly" and fields["line_items[0][quantity]"] == "1"
    assert fields["client_reference_id"] == str(workspace_a.pk)
    assert fields["success_url"] == "http://alpha.localhost:8000/settings/billing/?checkout=done"
    customer = BillingAccount.objects.get(workspace=workspace_a).stripe_customer_id
    assert customer.startswith("cus_")
    client_a.post("/settings/billing/upgrade/", {"plan": "business", "interval": "month"})
    assert stripe_api.sessions[-1]["fields"]["customer"] == customer  # reused


@pytest.mark.parametrize(
    ("plan", "interval"), [("free", "month"), ("team", "weekly"), ("gold", "year"), ("", "")]
)
def test_upgrade_to_something_not_for_sale_says_so(stripe_on, stripe_api, client_a, plan, interval):
    before = len(stripe_api.sessions)
    refused = client_a.post("/settings/billing/upgrade/", {"plan": plan, "interval": interval}, follow=True)
    assert "Choose Team or Business, monthly or yearly." in refused.content.decode()
    assert len(stripe_api.sessions) == before


def test_manage_billing_opens_the_portal_returning_to_the_billing_page(stripe_on, stripe_api, client_a):
    opened = client_a.post("/settings/billing/portal/")
    assert opened.status_code == 302 and opened["Location"].startswith("https://billing.stripe.test/")
    assert stripe_api.sessions[-1]["fields"]["return_url"] == "http://alpha.localhost:8000/settings/billing/"


def test_back_from_checkout_the_status_polls_until_the_subscription_is_stored(
    stripe_on, workspace_a, client_a
):
    waiting = client_a.get("/settings/billing/status/?checkout=done").content.decode()
    assert 'hx-trigger="every 2s"' in waiting and "usually within seconds" in waiting
    BillingAccount.objects.update_or_create(
        workspace=workspace_a,
        defaults={"plan": "team", "status": "active", "stripe_subscription_id": "sub_1", "interval": "month"},
    )
    done = client_a.get("/settings/billing/status/?checkout=done").content.decode()
    assert "hx-trigger" not in done and "<h2>Team</h2>" in done and "Active" in done
    assert 'aria-label="Websites: 0 of 5"' in done  # the bars follow the new plan too


def test_past_due_says_until_when_the_plan_holds(stripe_on, settings, workspace_a, client_a):
    import datetime as dt

    settings.PARLEY_BILLING_GRACE_DAYS = 7
    since = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
    BillingAccount.objects.create(
        workspace=workspace_a,
        plan="team",
        status="past_due",
        past_due_since=since,
        stripe_subscription_id="sub_9",
    )
    html = client_a.get("/settings/billing/").content.decode()
    assert "Team's limits hold until 7 December, then Free's apply." in html and "Past due" in html
