"""Activity counters (tenants/activity.py): the upsert the write paths share, and the job that turns
the hours into the staff list's figures, for exactly the workspaces whose figures can have changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from tenants import activity
from tenants.models import Workspace, WorkspaceActivity, WorkspaceStats

pytestmark = pytest.mark.django_db

# A Wednesday in the middle of a month, at 14:20 UTC.
NOW = datetime(2026, 12, 16, 14, 20, tzinfo=UTC)


def make_workspaces(*slugs: str) -> list[Workspace]:
    """Claimed workspace rows with no schema (the counters live in public; no schema is read)."""
    return Workspace.objects.bulk_create(
        [Workspace(schema_name=f"ws_act_{s}", name=s, slug=f"act-{s}", claimed_at=NOW) for s in slugs]
    )


def hours(workspace: Workspace) -> list[tuple]:
    return list(
        WorkspaceActivity.objects.filter(workspace=workspace)
        .order_by("hour")
        .values_list("hour", "conversations", "messages", "deliveries", "delivery_failures", "last_at")
    )


def record(workspace: Workspace, at: datetime, **counts) -> None:
    activity.activity_record(schema_name=workspace.schema_name, at=at, **counts)


def stats(workspace: Workspace) -> tuple:
    row = WorkspaceStats.objects.get(workspace=workspace)
    return (
        row.conversations_month,
        row.messages_7d,
        row.deliveries_24h,
        row.delivery_failures_24h,
        row.failure_rate_24h,
        row.last_activity_at,
    )


def test_counts_add_up_in_the_hour_they_happened_in_and_keep_the_latest_time():
    (shop,) = make_workspaces("shop")
    record(shop, NOW, conversations=1, messages=1)
    record(shop, NOW + timedelta(minutes=30), messages=2)
    record(shop, NOW - timedelta(minutes=5), messages=1)  # committed late: last_at stays the latest
    record(shop, NOW + timedelta(hours=1), deliveries=3, delivery_failures=1)
    assert hours(shop) == [
        (datetime(2026, 12, 16, 14, tzinfo=UTC), 1, 4, 0, 0, NOW + timedelta(minutes=30)),
        (datetime(2026, 12, 16, 15, tzinfo=UTC), 0, 0, 3, 1, NOW + timedelta(hours=1)),
    ]


def test_the_hour_is_taken_in_utc_whatever_the_time_zone_of_the_time_given():
    from zoneinfo import ZoneInfo

    (shop,) = make_workspaces("tz")
    record(shop, datetime(2026, 12, 16, 9, 45, tzinfo=ZoneInfo("America/New_York")), messages=1)
    assert hours(shop)[0][0] == datetime(2026, 12, 16, 14, tzinfo=UTC)


def test_a_count_is_part_of_the_transaction_it_counts():
    (shop,) = make_workspaces("rolled")
    with pytest.raises(RuntimeError), transaction.atomic():
        record(shop, NOW, messages=1)
        raise RuntimeError("the message was not written after all")
    assert hours(shop) == []


def test_a_schema_of_no_workspace_counts_nothing():
    activity.activity_record(schema_name="ws_nobody", at=NOW, messages=1)
    assert not WorkspaceActivity.objects.exists()


def test_the_figures_add_up_the_hours_of_their_windows():
    shop, quiet = make_workspaces("shop", "quiet")
    record(shop, NOW - timedelta(days=20), conversations=9)  # last month
    record(shop, datetime(2026, 12, 1, 0, 5, tzinfo=UTC), conversations=2, messages=50)  # this month
    record(shop, NOW - timedelta(days=7, minutes=30), messages=100)  # its hour started > 7 days ago
    record(shop, NOW - timedelta(days=6, hours=23), conversations=1, messages=7)  # inside
    record(shop, NOW - timedelta(hours=24, minutes=30), deliveries=40, delivery_failures=40)  # outside
    record(shop, NOW - timedelta(hours=23), deliveries=6, delivery_failures=1)
    record(shop, NOW, messages=3, deliveries=2, delivery_failures=2)
    assert activity.workspace_stats_refresh(now=NOW) == 1
    assert stats(shop) == (3, 10, 8, 3, 3 / 8, NOW)
    assert not WorkspaceStats.objects.filter(workspace=quiet).exists()  # no activity: no row, zeros


def test_no_deliveries_is_no_failure_rate():
    (shop,) = make_workspaces("nodeliveries")
    record(shop, NOW, messages=1)
    activity.workspace_stats_refresh(now=NOW)
    assert stats(shop)[2:5] == (0, 0, None)


def test_a_refresh_computes_again_only_the_workspaces_with_new_counts():
    busy, idle = make_workspaces("busy", "idle")
    record(busy, NOW - timedelta(hours=2), messages=1)
    record(idle, NOW - timedelta(hours=2), messages=1)
    assert activity.workspace_stats_refresh(now=NOW) == 2
    later = NOW + timedelta(minutes=10)
    assert activity.workspace_stats_refresh(now=later) == 0  # nothing new, no hour left a window
    record(busy, later, messages=4)
    assert activity.workspace_stats_refresh(now=later + timedelta(minutes=1)) == 1
    assert stats(busy)[1] == 5 and stats(idle)[1] == 1
    assert WorkspaceStats.objects.get(workspace=idle).refreshed_at == NOW


def test_a_count_that_commits_after_the_refresh_but_carries_an_earlier_time_is_not_lost():
    (shop,) = make_workspaces("late")
    record(shop, NOW - timedelta(hours=1), messages=1)
    activity.workspace_stats_refresh(now=NOW)
    # Stamped before that refresh ran, committed after it: the next one still finds it.
    record(shop, NOW - timedelta(minutes=2), messages=1)
    assert activity.workspace_stats_refresh(now=NOW + timedelta(minutes=1)) == 1
    assert stats(shop)[1] == 2


def test_hours_leaving_a_window_change_the_figures_of_their_workspaces_only():
    week, day, steady = make_workspaces("week", "day", "steady")
    # Hours that started 6 d 23 h and 23 h ago, at 15:00: they leave their windows at 15:00 today.
    record(week, NOW - timedelta(days=6, hours=23), messages=5)
    record(day, NOW - timedelta(hours=23), deliveries=4, delivery_failures=1)
    record(steady, NOW - timedelta(days=2), messages=1)
    assert activity.workspace_stats_refresh(now=NOW) == 3
    assert stats(week)[1] == 5 and stats(day)[2:5] == (4, 1, 0.25)

    assert activity.workspace_stats_refresh(now=NOW + timedelta(minutes=20)) == 0  # still inside
    assert activity.workspace_stats_refresh(now=NOW + timedelta(minutes=50)) == 2
    assert stats(week)[1] == 0 and stats(day)[2:5] == (0, 0, None)
    assert stats(steady)[1] == 1
    assert WorkspaceStats.objects.get(workspace=steady).refreshed_at == NOW
    # The last activity does not slide: it stays when the hours leave the windows.
    assert stats(week)[5] == NOW - timedelta(days=6, hours=23)


def test_a_new_month_starts_the_conversations_again():
    counted, none = make_workspaces("counted", "none")
    end_of_month = datetime(2026, 12, 31, 23, 50, tzinfo=UTC)
    record(counted, datetime(2026, 12, 31, 12, tzinfo=UTC), conversations=3)
    record(none, datetime(2026, 12, 10, 12, tzinfo=UTC), messages=1)
    activity.workspace_stats_refresh(now=end_of_month)
    assert stats(counted)[0] == 3
    assert activity.workspace_stats_refresh(now=end_of_month + timedelta(minutes=15)) == 1
    assert stats(counted)[0] == 0


def test_after_a_long_pause_the_refresh_catches_up_on_everything_that_changed():
    (shop,) = make_workspaces("paused")
    record(shop, NOW, conversations=1, messages=2, deliveries=1)
    activity.workspace_stats_refresh(now=NOW)
    # The worker was down for 40 days: every window moved on, a month began.
    assert activity.workspace_stats_refresh(now=NOW + timedelta(days=40)) == 1
    assert stats(shop)[:5] == (0, 0, 0, 0, None) and stats(shop)[5] == NOW


def test_the_periodic_job_refreshes():
    from tenants.tasks import refresh_workspace_stats

    (shop,) = make_workspaces("job")
    record(shop, datetime.now(UTC) - timedelta(minutes=1), conversations=1, messages=2)
    assert refresh_workspace_stats() == 1
    assert stats(shop)[:2] == (1, 2)
    assert refresh_workspace_stats() == 1  # within the overlap, it looks again: same figures
    assert stats(shop)[:2] == (1, 2)
