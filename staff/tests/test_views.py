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
from staff.tests.factories import add_spare, add_stats, add_workspaces
from tenants.context import workspace_schema
from tenants.models import Invitation, Membership, Workspace

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
    assert "<h1>Workspaces</h1>" in html and "4 workspaces in all." in html  # no spare
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
def test_the_list_takes_the_same_number_of_queries_at_any_size_and_in_any_sort(
    staff_client, workspaces, billing_on, htmx, django_assert_num_queries
):
    headers = {**HTMX, "HX-Target": "workspace-results"} if htmx else {}
    add_workspaces(3, prefix="small", members=2, plan="team")
    with CaptureQueriesContext(connection) as small:
        assert listed(staff_client.get("/staff/?q=small", headers=headers).content.decode()) == [
            f"small-{i}" for i in range(3)
        ]
    large = add_workspaces(45, prefix="large", members=3, plan="business")
    for workspace in large[::3]:
        add_stats(workspace, conversations_month=2, messages_7d=9, deliveries_24h=4, delivery_failures_24h=1)
    Workspace.objects.filter(pk=large[1].pk).update(suspended_at=timezone.now())
    for sort, _ in selectors.sort_choices():
        with django_assert_num_queries(len(small.captured_queries)):
            html = staff_client.get(f"/staff/?q=large&sort={sort}", headers=headers).content.decode()
            assert len(listed(html)) == 45, sort
    with django_assert_num_queries(len(small.captured_queries)):
        html = staff_client.get("/staff/?q=large&state=active&sort=-failures", headers=headers).content
        assert len(listed(html.decode())) == 44


def test_the_list_shows_each_workspaces_activity_figures_and_state(staff_client, workspaces):
    busy, _, stopped, leaving = add_workspaces(4, prefix="figures")
    last = timezone.now().replace(month=3, day=14, hour=9, minute=26)
    add_stats(busy, conversations_month=12, messages_7d=340, deliveries_24h=8, delivery_failures_24h=3,
              last_activity_at=last)  # fmt: skip
    Workspace.objects.filter(pk=stopped.pk).update(suspended_at=timezone.now(), suspension_reason="Spam")
    Workspace.objects.filter(pk=leaving.pk).update(
        suspended_at=timezone.now(), deletion_due_at=timezone.now().replace(year=2031, month=1, day=9)
    )
    html = staff_client.get("/staff/?q=figures").content.decode()
    cells = re.split(r"<tr>", html.split('<tbody id="workspace-rows">')[1])[1:]
    rows = dict(zip(listed(html), cells, strict=True))
    busy_row = rows["figures-0"]
    for figure in ('data-label="Conversations this month" class="num">12<', 'class="num">340<',
                   "37.5 %", "of 8 deliveries", "14 Mar, 09:26"):  # fmt: skip
        assert figure in busy_row, figure
    assert "Suspended" not in busy_row and "Deletion due" not in busy_row
    quiet_row = rows["figures-1"]
    assert 'data-label="Messages, 7 days" class="num">0<' in quiet_row
    assert 'title="No deliveries in 24 hours">—<' in quiet_row
    assert '<span class="badge badge-warn"' in rows["figures-2"] and ">Suspended</span>" in rows["figures-2"]
    assert "Deletion due" in rows["figures-3"] and "9 Jan 2031" in rows["figures-3"]
    assert "badge-warn" not in rows["figures-3"]


def test_column_headers_sort_the_list_by_link_with_aria_sort_and_keep_the_filters(staff_client, workspaces):
    made = add_workspaces(3, prefix="heads")
    for workspace, messages in zip(made, (5, 50, 0), strict=True):
        add_stats(workspace, messages_7d=messages)
    html = staff_client.get("/staff/?q=heads&state=active").content.decode()
    headers = re.findall(r'<th scope="col"[^>]*>\s*<a class="sort-link" href="([^"]+)">([^<]+)', html)
    assert [label for _, label in headers] == [
        "Name", "Conversations this month", "Messages, 7\u00a0days", "Last activity",
        "Webhook failures, 24\u00a0h", "Created",
    ]  # fmt: skip
    # Newest first by default: Created says so, and its link sorts the other way.
    assert re.search(
        r'<th scope="col" aria-sort="descending">\s*<a class="sort-link" href="[^"]*sort=created"', html
    )
    assert html.count("aria-sort=") == 1
    by_messages = dict((label, href) for href, label in headers)["Messages, 7\u00a0days"]
    by_messages = by_messages.replace("&amp;", "&")
    assert by_messages == "/staff/?q=heads&state=active&sort=-messages"  # most first, on the first click
    sorted_page = staff_client.get(by_messages).content.decode()
    assert listed(sorted_page) == ["heads-1", "heads-0", "heads-2"]
    assert 'class="num" aria-sort="descending"' in sorted_page
    assert '<option value="-messages" selected>' in sorted_page  # the form's sort follows
    again = re.search(r'aria-sort="descending">\s*<a class="sort-link" href="([^"]+)"', sorted_page).group(1)
    assert again.replace("&amp;", "&") == "/staff/?q=heads&state=active&sort=messages"
    fewest_first = staff_client.get(again.replace("&amp;", "&")).content.decode()
    assert listed(fewest_first) == ["heads-2", "heads-0", "heads-1"]


def test_more_workspaces_keep_the_sort_and_filters(staff_client, workspaces, monkeypatch):
    monkeypatch.setattr(selectors, "WORKSPACE_PAGE_SIZE", 2)
    made = add_workspaces(5, prefix="moor")
    for workspace, messages in zip(made, (4, 1, 3, 0, 2), strict=True):
        add_stats(workspace, messages_7d=messages)
    first = staff_client.get("/staff/?q=moor&sort=-messages").content.decode()
    assert listed(first) == ["moor-0", "moor-2"]
    url = re.search(r'hx-get="(/staff/\?[^"]+)"', first).group(1).replace("&amp;", "&")
    assert url.startswith("/staff/?q=moor&sort=-messages&cursor=")
    rows = staff_client.get(url, headers={**HTMX, "HX-Target": "workspace-more"}).content.decode()
    assert listed(rows) == ["moor-4", "moor-1"]


def test_odd_sort_state_and_cursor_values_give_the_plain_list(staff_client, workspaces):
    add_workspaces(2, prefix="odd")
    for query in (
        "sort=-password",
        "sort=%00",
        "state=%3Cscript%3E",
        "cursor=-messages:i1_1",
        "cursor=%ff%fe",
    ):
        answer = staff_client.get(f"/staff/?q=odd&{query}")
        assert answer.status_code == 200 and listed(answer.content.decode()) == ["odd-0", "odd-1"], query
        assert "<script>" not in answer.content.decode()


def test_names_are_escaped_in_the_list(staff_client, workspaces):
    (shop,) = add_workspaces(1, prefix="esc")
    Workspace.objects.filter(pk=shop.pk).update(name='<img src=x onerror="alert(1)">')
    html = staff_client.get("/staff/?q=esc").content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


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
