"""The console's reads: the workspaces list (search, filters, keyset pages, one query) and one
workspace's page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import BillingAccount
from inbox import services as inbox_services
from staff import selectors, services
from staff.models import AuditEntry
from staff.selectors import WorkspaceFilters
from staff.tests.factories import add_spare, add_stats, add_workspaces
from tenants.context import workspace_schema
from tenants.models import Membership, Workspace, WorkspaceStats
from webhooks import services as webhook_services
from webhooks.models import Attempt, Delivery, Event

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


# --- Activity figures, sorts and the state filter


def sorted_workspaces() -> dict[str, object]:
    """Six workspaces to sort ("sorted-0" … "sorted-5"), with ties and one with no figures at all."""
    now = timezone.now()
    made = add_workspaces(6, prefix="sorted")
    names = ["banana", "Apple", "cherry", "apple", "Banana", "date"]
    for workspace, name in zip(made, names, strict=True):
        workspace.name = name
    Workspace.objects.bulk_update(made, ["name"])
    figures = [
        dict(conversations_month=3, messages_7d=10, deliveries_24h=4, delivery_failures_24h=1,
             last_activity_at=now - timedelta(hours=1)),
        dict(conversations_month=3, messages_7d=0, deliveries_24h=10, delivery_failures_24h=0,
             last_activity_at=now - timedelta(days=3)),
        dict(conversations_month=0, messages_7d=10, deliveries_24h=0, last_activity_at=now),
        dict(conversations_month=7, messages_7d=2, deliveries_24h=2, delivery_failures_24h=2,
             last_activity_at=now - timedelta(hours=1)),
        dict(conversations_month=1, messages_7d=10, deliveries_24h=8, delivery_failures_24h=2,
             last_activity_at=now - timedelta(days=2)),
    ]  # fmt: skip
    for workspace, found in zip(made, figures, strict=False):  # the sixth has none
        add_stats(workspace, **found)
    return {w.slug: w for w in made}


def expected_order(made: dict, key, descending: bool) -> list[str]:
    """The slugs in the order a sort must give: by `key(slug)`, then by id, the same direction."""
    ordered = sorted(made, key=lambda slug: (key(slug), made[slug].pk))
    return ordered[::-1] if descending else ordered


def every_page(filters: WorkspaceFilters, limit: int) -> list[str]:
    seen, cursor = [], None
    while True:
        page = selectors.workspace_page(filters=filters, cursor=cursor, limit=limit)
        seen += slugs(page)
        if not (cursor := page.next_cursor):
            return seen


def test_rows_carry_the_activity_figures_and_zeros_without_any(workspaces):
    made = sorted_workspaces()
    rows = {row.workspace.slug: row for row in selectors.workspace_page(filters=WorkspaceFilters()).rows}
    first = rows["sorted-0"]
    assert (first.conversations_month, first.messages_7d, first.deliveries_24h) == (3, 10, 4)
    assert first.failure_rate_24h == 0.25 and first.failure_percent == "25 %"
    assert first.last_activity_at == WorkspaceStats.objects.get(workspace=made["sorted-0"]).last_activity_at
    assert (rows["sorted-1"].failure_rate_24h, rows["sorted-1"].failure_percent) == (0.0, "0 %")
    none = rows["sorted-5"]
    assert (none.conversations_month, none.messages_7d, none.deliveries_24h) == (0, 0, 0)
    assert none.failure_rate_24h is None and none.failure_percent == "" and none.last_activity_at is None


@pytest.mark.parametrize(
    ("rate", "shown"), [(0.0004, "< 0.1 %"), (0.001, "0.1 %"), (0.375, "37.5 %"), (1.0, "100 %")]
)
def test_a_failure_rate_reads_as_a_percentage_that_never_hides_a_failure(rate, shown):
    row = selectors.WorkspaceRow(None, None, 0, None, 0, 0, None, 1, rate)
    assert row.failure_percent == shown


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("sort", list(selectors.SORTS))
def test_every_sort_orders_both_ways_and_its_keyset_pages_cover_every_workspace_once(
    workspaces, sort, descending
):
    made = sorted_workspaces()
    stats = {w.workspace.slug: w for w in WorkspaceStats.objects.select_related("workspace")}
    never = datetime(1970, 1, 1, tzinfo=UTC)
    keys = {
        "created": lambda slug: made[slug].claimed_at,
        "name": lambda slug: made[slug].name.lower(),
        "conversations": lambda slug: stats[slug].conversations_month if slug in stats else 0,
        "messages": lambda slug: stats[slug].messages_7d if slug in stats else 0,
        "activity": lambda slug: (stats[slug].last_activity_at if slug in stats else None) or never,
        "failures": lambda slug: (
            stats[slug].failure_rate_24h if slug in stats and stats[slug].deliveries_24h else -1.0
        ),
    }
    filters = WorkspaceFilters(query="sorted-", sort=f"{'-' if descending else ''}{sort}")
    expected = expected_order(made, keys[sort], descending)
    assert slugs(selectors.workspace_page(filters=filters)) == expected
    for limit in (1, 2, 4):
        assert every_page(filters, limit) == expected


def test_the_figures_sort_the_way_people_read_them(workspaces):
    sorted_workspaces()

    def first(sort: str) -> list[str]:
        return slugs(selectors.workspace_page(filters=WorkspaceFilters(query="sorted-", sort=sort)))

    assert first("-failures")[:3] == ["sorted-3", "sorted-4", "sorted-0"]  # 100 %, 25 % twice by id
    assert first("failures")[:3] == ["sorted-2", "sorted-5", "sorted-1"]  # no deliveries, under 0 %
    assert first("-activity")[0] == "sorted-2" and first("-activity")[-1] == "sorted-5"  # never: last
    assert first("name")[:2] == ["sorted-1", "sorted-3"]  # Apple and apple, in id order


def test_a_cursor_of_another_sort_or_direction_is_the_first_page(workspaces):
    sorted_workspaces()
    by_messages = WorkspaceFilters(query="sorted-", sort="-messages")
    cursor = selectors.workspace_page(filters=by_messages, limit=2).next_cursor
    assert cursor.startswith("-messages:")
    for other in ("messages", "-conversations", "-created", "name"):
        filters = WorkspaceFilters(query="sorted-", sort=other)
        assert slugs(selectors.workspace_page(filters=filters, cursor=cursor, limit=2)) == slugs(
            selectors.workspace_page(filters=filters, limit=2)
        )
    assert len(slugs(selectors.workspace_page(filters=by_messages, cursor=cursor, limit=2))) == 2


def test_filters_by_state_active_suspended_or_scheduled_for_deletion(workspaces):
    now = timezone.now()
    _, stopped, leaving = add_workspaces(3, prefix="state")
    Workspace.objects.filter(pk=stopped.pk).update(suspended_at=now, suspension_reason="Abuse")
    Workspace.objects.filter(pk=leaving.pk).update(suspended_at=now, deletion_due_at=now + timedelta(days=30))

    def found(state: str) -> list[str]:
        return slugs(selectors.workspace_page(filters=WorkspaceFilters(query="state-", state=state)))

    assert found("") == ["state-0", "state-1", "state-2"]
    assert found("active") == ["state-0"]
    assert found("suspended") == ["state-1"]
    assert found("deleting") == ["state-2"]
    row = selectors.workspace_page(filters=WorkspaceFilters(query="state-2")).rows[0]
    assert row.workspace.is_suspended and row.workspace.deletion_due_at is not None


def test_filters_from_a_query_string_read_the_state_and_the_sort():
    read = selectors.workspace_filters_from
    assert read({"state": "suspended", "sort": "-messages"}) == WorkspaceFilters(
        state="suspended", sort="-messages"
    )
    assert read({"sort": "name"}).sort == "name" and not read({"sort": "name"}).descending
    for junk in ("--messages", "messages-", "-", "id", "-stats__messages_7d", ""):
        assert read({"sort": junk}).sort == selectors.DEFAULT_SORT, junk
    assert read({"state": "gone"}).state == ""
    assert read({"sort": "-created"}).as_query() == {}  # the default says nothing
    assert read({"sort": "failures", "state": "deleting"}).as_query() == {
        "state": "deleting", "sort": "failures"
    }  # fmt: skip
    assert selectors.sort_choices()[0] == ("-created", "Created, newest first")
    assert len(selectors.sort_choices()) == 2 * len(selectors.SORTS)


@pytest.mark.parametrize("sort", ["-created", "name", "-messages", "conversations", "-activity", "-failures"])
@pytest.mark.parametrize("size", [3, 40])
def test_a_page_is_one_query_whatever_its_size_sort_and_filters(
    workspaces, billing_on, sort, size, django_assert_num_queries
):
    made = add_workspaces(size, prefix="many", members=2, plan="team")
    for workspace in made[::2]:
        add_stats(workspace, messages_7d=5, deliveries_24h=3, delivery_failures_24h=1)
    filters = WorkspaceFilters(query="many", sort=sort)
    with django_assert_num_queries(1):
        page = selectors.workspace_page(filters=filters, limit=size)
        assert len(page.rows) == size and {row.member_count for row in page.rows} == {2}
    cursor = selectors.workspace_page(filters=filters, limit=2).next_cursor
    with django_assert_num_queries(1):
        filters = WorkspaceFilters(query="@many", plan="team", status="active", state="active", sort=sort)
        selectors.workspace_page(filters=filters, cursor=cursor)


def _failed_and_succeeded_attempts(workspace, url: str, *, at) -> None:
    """In the workspace's schema: an endpoint, one event delivered to it, and three attempts at it."""
    with workspace_schema(workspace.schema_name):
        endpoint, _ = webhook_services.endpoint_create(url=url, event_types=["contact.created"])
        event = Event.objects.create(type="contact.created", payload={})
        delivery = Delivery.objects.create(event=event, endpoint=endpoint)
        for status_code, error, ago in [(500, "", 3), (None, "Connection refused", 2), (200, "", 1)]:
            Attempt.objects.create(
                delivery=delivery, started_at=at - timedelta(minutes=ago), duration_ms=12,
                status_code=status_code, error=error,
            )  # fmt: skip
        Attempt.objects.create(  # a week and more ago: not recent
            delivery=delivery, started_at=at - timedelta(days=8), duration_ms=9, status_code=503
        )


def test_the_workspace_page_shows_its_own_recent_webhook_failures_and_its_figures(workspace_a, workspace_b):
    now = timezone.now()
    _failed_and_succeeded_attempts(workspace_a, "https://hooks.alpha.example/in", at=now)
    _failed_and_succeeded_attempts(workspace_b, "https://hooks.beta.example/in", at=now)
    add_stats(workspace_a, messages_7d=41, deliveries_24h=3, delivery_failures_24h=2)

    detail = selectors.workspace_detail(workspace_a.pk)
    assert connection.schema_name == "public"
    assert [(a.status_code, a.error) for a in detail.webhook_failures] == [
        (None, "Connection refused"), (500, "")
    ]  # fmt: skip
    assert {a.delivery.endpoint.url for a in detail.webhook_failures} == {"https://hooks.alpha.example/in"}
    assert (detail.stats.messages_7d, detail.stats.delivery_failures_24h) == (41, 2)
    assert selectors.workspace_detail(workspace_b.pk).stats is None  # nothing counted yet
