"""The console's pages as staff see them: the workspaces list (search, filters, pages, htmx fragments,
a fixed number of queries) and a workspace's page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import BillingAccount
from inbox import services as inbox_services
from staff import selectors, services
from staff.tests.factories import add_spare, add_workspaces
from tenants.context import workspace_schema
from tenants.models import Invitation, Membership

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def billing_on(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_staff_console"
    return settings


def listed(html: str) -> list[str]:
    """The slugs of the rows on a page or fragment, in order."""
    return re.findall(r'<div class="muted small mono">([a-z0-9-]+)</div>', html)


def test_the_list_shows_every_workspace_with_its_owner_members_and_created(staff_client, workspaces):
    add_workspaces(2, prefix="dock", members=2)
    add_spare()
    page = staff_client.get("/staff/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Workspaces</h1>" in html and "4 workspaces in all, newest sign-up first." in html  # no spare
    assert listed(html)[:2] == ["dock-0", "dock-1"]
    assert set(listed(html)) == {"dock-0", "dock-1", "alpha", "beta"}
    assert "owner@dock-0.example" in html and "owner-a@example.com" in html
    assert f'href="/staff/workspaces/{workspaces.alpha.pk}/"' in html
    # Billing is off: no plan column or filter, and the page says why.
    assert "Billing is off on this Parley" in html and 'name="plan"' not in html and ">Plan</th>" not in html


def test_with_billing_on_the_list_shows_plans_and_filters_by_them(staff_client, workspaces, billing_on):
    add_workspaces(1, prefix="payer", plan="business")
    add_workspaces(1, prefix="debtor", plan="team", status=BillingAccount.Status.PAST_DUE)
    html = staff_client.get("/staff/").content.decode()
    assert ">Plan</th>" in html and 'name="plan"' in html and 'name="status"' in html
    assert "Business" in html and "Past due" in html
    filtered = staff_client.get("/staff/?plan=team&status=past_due").content.decode()
    assert listed(filtered) == ["debtor-0"]
    assert '<option value="team" selected>' in filtered and '<option value="past_due" selected>' in filtered


def test_search_and_its_htmx_swap(staff_client, workspaces):
    add_workspaces(2, prefix="harbor")
    add_workspaces(2, prefix="quay")
    page = staff_client.get("/staff/?q=quay").content.decode()
    assert listed(page) == ["quay-0", "quay-1"] and 'value="quay"' in page
    results = {**HTMX, "HX-Target": "workspace-results"}
    fragment = staff_client.get("/staff/?q=owner@harbor-1", headers=results)
    html = fragment.content.decode()
    assert "<html" not in html and "<table" in html and listed(html) == ["harbor-1"]
    empty = staff_client.get("/staff/?q=zzz", headers=results)
    assert "No workspace matches this search." in empty.content.decode()


def test_more_workspaces_come_a_page_at_a_time(staff_client, workspaces, monkeypatch):
    monkeypatch.setattr(selectors, "WORKSPACE_PAGE_SIZE", 3)
    add_workspaces(5, prefix="berth")
    first = staff_client.get("/staff/?q=berth").content.decode()
    assert listed(first) == ["berth-0", "berth-1", "berth-2"]
    more = re.search(r'hx-get="(/staff/\?q=berth&amp;cursor=[^"]+)"', first)
    assert more, first
    url = more.group(1).replace("&amp;", "&")
    rows = staff_client.get(url, headers={**HTMX, "HX-Target": "workspace-more"}).content.decode()
    assert "<table" not in rows and listed(rows) == ["berth-3", "berth-4"]
    assert 'id="workspace-more"' not in rows  # the last page
    # Without JavaScript the same link is a page of its own.
    assert listed(staff_client.get(url).content.decode()) == ["berth-3", "berth-4"]


@pytest.mark.parametrize("htmx", [False, True])
def test_the_list_takes_the_same_number_of_queries_at_any_size(
    staff_client, workspaces, billing_on, htmx, django_assert_num_queries
):
    headers = {**HTMX, "HX-Target": "workspace-results"} if htmx else {}
    add_workspaces(3, prefix="small", members=2, plan="team")
    with CaptureQueriesContext(connection) as small:
        assert listed(staff_client.get("/staff/?q=small", headers=headers).content.decode()) == [
            f"small-{i}" for i in range(3)
        ]
    add_workspaces(45, prefix="large", members=3, plan="business")
    with django_assert_num_queries(len(small.captured_queries)):
        assert len(listed(staff_client.get("/staff/?q=large", headers=headers).content.decode())) == 45


def test_the_workspace_page_shows_members_websites_billing_schema_and_trail(
    staff_client, staff_user, workspace_a, owner_a
):
    from accounts.models import User

    agent = User.objects.create_user("ida@example.com", "x-password-1", display_name="Ida Agent")
    Membership.objects.create(user=agent, workspace=workspace_a, role=Membership.Role.AGENT)
    Invitation.objects.create(
        workspace=workspace_a, email="new@example.com", token_hash="h" * 64,
        expires_at=timezone.now() + timedelta(days=7),
    )  # fmt: skip
    with workspace_schema(workspace_a.schema_name):
        inbox_services.website_create(
            workspace=workspace_a, name="Alpha Shop", allowed_origins="https://shop.example"
        )
    services.audit_record(
        staff=staff_user, action="staff_grant", workspace=workspace_a, reason="Checking the trail.",
        before={"plan": "free"}, after={"plan": "team"}, ip_address="203.0.113.9",
    )  # fmt: skip
    page = staff_client.get(f"/staff/workspaces/{workspace_a.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert connection.schema_name == "public"
    assert '<h1 class="break">Alpha Support</h1>' in html and "alpha.localhost" in html
    assert "ws_test_alpha" in html  # the schema
    assert "owner-a@example.com" in html and "Owner" in html and "Ida Agent" in html and "Agent" in html
    assert "new@example.com" in html  # a pending invitation
    assert "Alpha Shop" in html and "https://shop.example" in html
    assert "Billing is off on this Parley" in html
    assert "Staff access granted" in html and "Checking the trail." in html and "203.0.113.9" in html
    assert "ops@parley.example" in html


def test_the_workspace_page_with_billing_on_shows_the_plan_and_usage(staff_client, workspace_a, billing_on):
    BillingAccount.objects.create(workspace=workspace_a, plan="team", status="trialing")
    html = staff_client.get(f"/staff/workspaces/{workspace_a.pk}/").content.decode()
    assert "Team" in html and "Trialing" in html and "Usage against Team's limits" in html
    assert "Conversations this month" in html


def test_no_page_for_a_spare_or_an_unknown_workspace(staff_client, workspaces):
    assert staff_client.get(f"/staff/workspaces/{add_spare().pk}/").status_code == 404
    assert staff_client.get("/staff/workspaces/999999999/").status_code == 404
    assert staff_client.get(f"/staff/workspaces/{2**63}/").status_code == 400  # not an id at all


def test_the_console_reads_only(staff_client, workspaces):
    assert staff_client.post("/staff/").status_code == 405
    assert staff_client.post(f"/staff/workspaces/{workspaces.alpha.pk}/").status_code == 405
