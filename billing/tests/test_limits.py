"""Plan limits, at every entry point that creates a limited thing: services, pages and the REST API."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from api import services as key_services
from billing import limits, plans
from billing.models import BillingAccount
from conftest import host_client
from inbox import services as inbox_services
from inbox.models import Website
from tenants import app_settings
from tenants import services as team_services
from tenants.context import run_in_workspace, workspace_schema
from tenants.models import Invitation, Membership
from webhooks import services as webhook_services
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing_on(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_limits"


def _account(workspace, plan="free", status=BillingAccount.Status.NONE, **fields) -> BillingAccount:
    account, _ = BillingAccount.objects.update_or_create(
        workspace=workspace, defaults={"plan": plan, "status": status, **fields}
    )
    return account


def _website(workspace, name="Site"):
    return run_in_workspace(
        workspace.schema_name,
        lambda: inbox_services.website_create(workspace=workspace, name=name, allowed_origins="")[0],
    )


def test_with_billing_off_nothing_is_limited(workspace_a):
    for n in range(3):  # Free allows one
        _website(workspace_a, f"Site {n}")
    assert limits.plan_in_force(workspace_a) is None


def test_a_workspace_without_a_subscription_has_free_limits_and_keeps_what_it_has(billing_on, workspace_a):
    with workspace_schema(workspace_a.schema_name):
        Website.objects.create(name="Made before billing", site_key="pk_before_1", allowed_origins=[])
        Website.objects.create(name="Also before", site_key="pk_before_2", allowed_origins=[])
    with pytest.raises(limits.PlanLimitReached) as refused:
        _website(workspace_a)
    assert refused.value.code == "plan_limit" and refused.value.limit == plans.FREE.websites
    assert "Free plan allows 1 website" in str(refused.value)
    with workspace_schema(workspace_a.schema_name):
        assert Website.objects.count() == 2  # over the limit, nothing removed


@pytest.mark.parametrize(
    ("status", "days_past_due", "expected"),
    [
        (BillingAccount.Status.ACTIVE, None, plans.TEAM),
        (BillingAccount.Status.TRIALING, None, plans.TEAM),
        (BillingAccount.Status.PAST_DUE, 2, plans.TEAM),  # within the grace period
        (BillingAccount.Status.PAST_DUE, 8, plans.FREE),  # after it
        (BillingAccount.Status.CANCELED, None, plans.FREE),
        (BillingAccount.Status.UNPAID, None, plans.FREE),
        (BillingAccount.Status.INCOMPLETE, None, plans.FREE),
    ],
)
def test_the_plan_in_force_follows_the_subscriptions_status(
    billing_on, workspace_a, status, days_past_due, expected
):
    since = timezone.now() - dt.timedelta(days=days_past_due) if days_past_due else None
    _account(workspace_a, plan="team", status=status, past_due_since=since)
    assert limits.plan_in_force(workspace_a) == expected


def test_team_allows_more_and_an_unknown_plan_key_never_lifts_limits(billing_on, workspace_a):
    _account(workspace_a, plan="team", status=BillingAccount.Status.ACTIVE)
    for n in range(plans.TEAM.websites):
        _website(workspace_a, f"Site {n}")
    with pytest.raises(limits.PlanLimitReached):
        _website(workspace_a)
    _account(workspace_a, plan="platinum", status=BillingAccount.Status.ACTIVE)
    assert limits.plan_in_force(workspace_a) == plans.FREE


def test_two_creations_at_once_cannot_both_take_the_last_website(billing_on, tx_workspaces):
    workspace = tx_workspaces.alpha
    _account(workspace)
    outcomes, ready = [], threading.Barrier(2)

    def create():
        ready.wait()
        try:
            _website(workspace)
            outcomes.append("made")
        except limits.PlanLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["made", "refused"]
    with workspace_schema(workspace.schema_name):
        assert Website.objects.count() == 1


def test_api_keys_are_limited_on_the_page_and_revoking_one_frees_its_place(
    billing_on, workspace_a, owner_a, client_a
):
    _account(workspace_a)
    made = client_a.post("/settings/api-keys/", {"name": "CRM", "scope": "read"})
    assert made.status_code == 302
    refused = client_a.post(
        "/settings/api-keys/",
        {"name": "Second", "scope": "read"},
        HTTP_REFERER="http://alpha.localhost/settings/api-keys/",
    )
    assert refused.status_code == 402
    page = refused.content.decode()
    assert "This needs a larger plan" in page and "Free plan allows 1 live API key" in page
    assert 'href="http://alpha.localhost/settings/api-keys/"' in page
    with workspace_schema(workspace_a.schema_name):
        from api.models import ApiKey

        key_services.api_key_revoke(key=ApiKey.objects.get())
        key_services.api_key_create(name="Second", scope="read", by=owner_a)  # a place again


def test_webhook_endpoints_are_refused_with_402_plan_limit_in_the_api(billing_on, workspace_a, owner_a):
    _account(workspace_a, plan="team", status=BillingAccount.Status.ACTIVE)
    key = run_in_workspace(
        workspace_a.schema_name, lambda: key_services.api_key_create(name="CI", scope="write", by=owner_a)[1]
    )
    with workspace_schema(workspace_a.schema_name):
        for n in range(plans.TEAM.webhook_endpoints):
            webhook_services.endpoint_create(
                url=f"https://hooks.example.com/{n}", event_types=["message.created"]
            )
    api = host_client(app_settings.workspace_hostname(workspace_a.slug))
    refused = api.post(
        "/api/v1/webhook-endpoints",
        {"url": "https://hooks.example.com/more", "event_types": ["message.created"]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert refused.status_code == 402
    error = refused.json()["error"]
    assert error["code"] == "plan_limit" and error["resource"] == "webhook_endpoints"
    assert error["limit"] == plans.TEAM.webhook_endpoints
    with workspace_schema(workspace_a.schema_name):
        assert Endpoint.objects.count() == plans.TEAM.webhook_endpoints


def test_seats_count_members_and_pending_invitations(billing_on, workspace_a, owner_a, client_a):
    _account(workspace_a)  # Free: 2 seats, the owner has one
    sent = client_a.post("/settings/team/", {"email": "one@example.com", "role": "agent"})
    assert sent.status_code == 302
    refused = client_a.post("/settings/team/", {"email": "two@example.com", "role": "agent"})
    assert refused.status_code == 402 and "2 seats" in refused.content.decode()
    assert Invitation.objects.filter(workspace=workspace_a).count() == 1


def test_an_invitation_sent_under_a_larger_plan_cannot_be_accepted_past_the_smaller_one(
    billing_on, workspace_a, owner_a
):
    from accounts.models import User

    _account(workspace_a, plan="team", status=BillingAccount.Status.ACTIVE)
    owner = Membership.objects.get(workspace=workspace_a, user=owner_a)
    _, first = team_services.invitation_create(
        workspace=workspace_a, email="a@example.com", role="agent", by=owner
    )
    _, second = team_services.invitation_create(
        workspace=workspace_a, email="b@example.com", role="agent", by=owner
    )
    _account(workspace_a, plan="team", status=BillingAccount.Status.CANCELED)  # back to Free: 2 seats
    for email in ("a@example.com", "b@example.com"):
        user = User.objects.create_user(email, "x")
        from allauth.account.models import EmailAddress

        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    team_services.invitation_accept(
        raw_token=first, workspace=workspace_a, user=User.objects.get(email="a@example.com")
    )
    with pytest.raises(limits.PlanLimitReached):
        team_services.invitation_accept(
            raw_token=second, workspace=workspace_a, user=User.objects.get(email="b@example.com")
        )
    assert Membership.objects.filter(workspace=workspace_a).count() == 2
    assert Invitation.objects.get(email="b@example.com").accepted_at is None  # still usable after an upgrade


def test_the_website_and_webhook_pages_refuse_past_the_limit_with_a_way_to_the_plans(
    billing_on, workspace_a, owner_a, client_a
):
    from accounts.models import User

    _account(workspace_a)
    _website(workspace_a)
    with workspace_schema(workspace_a.schema_name):
        webhook_services.endpoint_create(url="https://hooks.example.com/1", event_types=["message.created"])
    refused = client_a.post(
        "/settings/websites/new/",
        {
            "name": "Second",
            "allowed_origins_text": "https://b.example",
            "accent_color": "#4f46e5",
            "launcher_position": "right",
            "ask_email_after_seconds": "60",
            "greeting": "Hi! How can we help?",
        },
    )
    assert refused.status_code == 402 and "Free plan allows 1 website" in refused.content.decode()
    assert 'href="/settings/billing/">See the plans</a>' in refused.content.decode()
    refused = client_a.post(
        "/settings/webhooks/new/", {"url": "https://hooks.example.com/2", "event_types": ["message.created"]}
    )
    assert refused.status_code == 402 and "1 webhook endpoint," in refused.content.decode()
    admin = User.objects.create_user("admin-limits@example.com", "x")
    Membership.objects.create(user=admin, workspace=workspace_a, role=Membership.Role.ADMIN)
    as_admin = host_client(app_settings.workspace_hostname(workspace_a.slug), admin)
    page = as_admin.post(
        "/settings/webhooks/new/", {"url": "https://hooks.example.com/3", "event_types": ["message.created"]}
    )
    assert page.status_code == 402 and "See the plans" not in page.content.decode()  # only owners decide
    with workspace_schema(workspace_a.schema_name):
        assert Website.objects.count() == 1 and Endpoint.objects.count() == 1
