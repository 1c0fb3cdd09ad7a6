"""The console's reads: the workspaces list (search, filters, keyset pages, one query) and one
workspace's page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import BillingAccount
from inbox import services as inbox_services
from staff import selectors, services
from staff.models import AuditEntry
from staff.selectors import WorkspaceFilters
from staff.tests.factories import add_spare, add_workspaces
from tenants.context import workspace_schema
from tenants.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing_on(settings):
    # Billing's summary and filters need only to know it is on; nothing here calls Stripe.
    settings.STRIPE_SECRET_KEY = "sk_test_staff_console"
    return settings


def slugs(page) -> list[str]:
    return [row.workspace.slug for row in page.rows]


def test_rows_are_newest_first_with_owner_members_and_billing(workspaces, billing_on):
    add_workspaces(2, prefix="plain", members=3)
    add_workspaces(1, prefix="paying", plan="team", newest_at=timezone.now() + timedelta(days=2))
    add_spare()  # not a workspace yet: never listed
    page = selectors.workspace_page(filters=WorkspaceFilters())
    assert slugs(page)[:3] == ["paying-0", "plain-0", "plain-1"]
    assert set(slugs(page)) == {"paying-0", "plain-0", "plain-1", "alpha", "beta"}
    paying, plain = page.rows[0], page.rows[1]
    assert (paying.owner_email, paying.member_count) == ("owner@paying-0.example", 1)
    assert (paying.billing.subscribed.key, paying.billing.in_force.key, paying.billing.status) == (
        "team", "team", "active"
    )  # fmt: skip
    assert (plain.owner_email, plain.member_count) == ("owner@plain-0.example", 3)
    assert (plain.billing.subscribed.key, plain.billing.status_label) == ("free", "No subscription")
    assert page.next_cursor is None


def test_with_billing_off_no_plan_is_in_force(workspaces):
    add_workspaces(1, prefix="selfhosted", plan="business")
    row = selectors.workspace_page(filters=WorkspaceFilters(query="selfhosted")).rows[0]
    assert row.billing.in_force is None and row.billing.subscribed.key == "business"


def test_an_overdue_workspace_past_its_grace_shows_free_in_force(workspaces, billing_on):
    (late,) = add_workspaces(1, prefix="late", plan="team", status=BillingAccount.Status.PAST_DUE)
    BillingAccount.objects.filter(workspace=late).update(past_due_since=timezone.now() - timedelta(days=30))
    row = selectors.workspace_page(filters=WorkspaceFilters(query="late")).rows[0]
    assert (row.billing.subscribed.key, row.billing.in_force.key) == ("team", "free")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Harbor", ["harbor-0", "harbor-1"]),  # part of a name, any case
        ("HARBOR-1", ["harbor-1"]),  # a slug
        ("agent2@harbor-0", ["harbor-0"]),  # part of a member's email, not only the owner's
        ("@harbor-1.example", ["harbor-1"]),
        ("nothing-like-it", []),
    ],
)
def test_search_by_name_slug_or_member_email(workspaces, query, expected):
    add_workspaces(2, prefix="harbor", members=3)
    add_workspaces(2, prefix="quay")
    assert slugs(selectors.workspace_page(filters=WorkspaceFilters(query=query))) == expected


def test_filters_by_plan_and_billing_status(workspaces, billing_on):
    add_workspaces(2, prefix="teamok", plan="team")
    add_workspaces(1, prefix="teamlate", plan="team", status=BillingAccount.Status.PAST_DUE)
    add_workspaces(1, prefix="biz", plan="business")
    add_workspaces(1, prefix="stale", plan="enterprise-2019")  # a key we no longer have: Free
    add_workspaces(1, prefix="noaccount")

    def found(**filters) -> set[str]:
        return set(slugs(selectors.workspace_page(filters=WorkspaceFilters(**filters))))

    assert found(plan="team") == {"teamok-0", "teamok-1", "teamlate-0"}
    assert found(plan="team", status="past_due") == {"teamlate-0"}
    assert found(plan="business") == {"biz-0"}
    assert found(plan="free") == {"stale-0", "noaccount-0", "alpha", "beta"}
    assert found(status="none") == {"noaccount-0", "alpha", "beta"}
    assert found(status="active", query="teamok-1") == {"teamok-1"}


def test_filters_from_a_query_string_drop_what_they_do_not_know():
    filters = selectors.workspace_filters_from({"q": "  acme   shop ", "plan": "platinum", "status": "team"})
    assert filters == WorkspaceFilters(query="acme shop")
    assert selectors.workspace_filters_from({"q": "x" * 500}).query == "x" * selectors.QUERY_MAX
    assert selectors.workspace_filters_from({"plan": "team", "status": "past_due"}).as_query() == {
        "plan": "team", "status": "past_due"
    }  # fmt: skip


def test_keyset_pages_cover_every_workspace_once_while_new_ones_arrive(workspaces):
    add_workspaces(7, prefix="paged")
    filters = WorkspaceFilters(query="paged")
    first = selectors.workspace_page(filters=filters, limit=3)
    assert slugs(first) == ["paged-0", "paged-1", "paged-2"] and first.next_cursor
    add_workspaces(2, prefix="paged-new", newest_at=timezone.now() + timedelta(days=2))  # on top
    second = selectors.workspace_page(filters=filters, cursor=first.next_cursor, limit=3)
    third = selectors.workspace_page(filters=filters, cursor=second.next_cursor, limit=3)
    assert slugs(second) == ["paged-3", "paged-4", "paged-5"]
    assert slugs(third) == ["paged-6"] and third.next_cursor is None


def test_workspaces_signed_up_at_the_same_moment_are_split_by_id(workspaces):
    moment = timezone.now()
    add_workspaces(3, prefix="same-a", newest_at=moment)
    add_workspaces(3, prefix="same-b", newest_at=moment)
    filters = WorkspaceFilters(query="same-")
    seen, cursor = [], None
    while True:
        page = selectors.workspace_page(filters=filters, cursor=cursor, limit=2)
        seen += slugs(page)
        if not (cursor := page.next_cursor):
            break
    assert sorted(seen) == sorted(f"same-{x}-{i}" for x in "ab" for i in range(3))


@pytest.mark.parametrize(
    "cursor", ["", "junk", "1_2_3", "nan_5", "1e999_5", "1700000000.0_0", "99999999999999_1"]
)
def test_a_cursor_this_code_did_not_write_means_the_first_page(workspaces, cursor):
    add_workspaces(2, prefix="cur")
    page = selectors.workspace_page(filters=WorkspaceFilters(query="cur"), cursor=cursor)
    assert slugs(page) == ["cur-0", "cur-1"]


@pytest.mark.parametrize("size", [3, 40])
def test_a_page_is_one_query_whatever_its_size(workspaces, billing_on, size, django_assert_num_queries):
    add_workspaces(size, prefix="many", members=2, plan="team")
    with django_assert_num_queries(1):
        page = selectors.workspace_page(filters=WorkspaceFilters(query="many"), limit=size)
        assert [row.billing.subscribed.key for row in page.rows] == ["team"] * size
        assert {row.member_count for row in page.rows} == {2}
    with django_assert_num_queries(1):
        selectors.workspace_page(filters=WorkspaceFilters(query="@many", plan="team", status="active"))


def test_the_workspace_page_reads_members_websites_billing_and_its_trail(workspace_a, owner_a, staff_user):
    from accounts.models import User

    agent = User.objects.create_user("ida@example.com", "x-password-1", display_name="Ida Agent")
    admin = User.objects.create_user("al@example.com", "x-password-1")
    Membership.objects.create(user=agent, workspace=workspace_a, role=Membership.Role.AGENT)
    Membership.objects.create(user=admin, workspace=workspace_a, role=Membership.Role.ADMIN)
    with workspace_schema(workspace_a.schema_name):
        inbox_services.website_create(
            workspace=workspace_a, name="Shop", allowed_origins="https://shop.example"
        )
    older = services.audit_record(staff=staff_user, action="staff_grant", workspace=workspace_a)
    newer = services.audit_record(staff=staff_user, action="staff_grant", workspace=workspace_a)
    services.audit_record(staff=staff_user, action="staff_grant")  # about no workspace
    AuditEntry.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))

    detail = selectors.workspace_detail(workspace_a.pk)
    assert connection.schema_name == "public"  # the schema was only borrowed for the websites
    assert [(m.user.email, m.role) for m in detail.members] == [
        (owner_a.email, "owner"), ("al@example.com", "admin"), ("ida@example.com", "agent")
    ]  # fmt: skip
    assert [w.name for w in detail.websites] == ["Shop"]
    assert detail.hostnames == ["alpha.localhost"]
    assert detail.billing.status == "none" and detail.meters == []  # billing is off
    assert [e.pk for e in detail.audit_trail] == [newer.pk, older.pk]


def test_the_workspace_page_shows_usage_against_the_plan_when_billing_is_on(workspace_a, billing_on):
    BillingAccount.objects.create(workspace=workspace_a, plan="team", status="active")
    detail = selectors.workspace_detail(workspace_a.pk)
    assert detail.billing.in_force.key == "team"
    assert [(m.label, m.used, m.limit) for m in detail.meters][:2] == [
        ("Conversations this month", 0, 5000), ("Seats (members and pending invitations)", 1, 10)
    ]  # fmt: skip
    assert connection.schema_name == "public"


def test_there_is_no_page_for_a_spare_or_a_missing_workspace(workspaces):
    assert selectors.workspace_detail(add_spare().pk) is None
    assert selectors.workspace_detail(2**62) is None
