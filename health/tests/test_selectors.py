"""The health page's reads against rows made here: exact counts per UTC day, days without rows as zero
(or as no data, for samples), the failure rate's arithmetic, a fixed number of queries, and the job
queue now."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from health import selectors
from health.models import ActivityDay, HealthSample
from health.tests.queue import add_job, add_worker, empty_queue
from tenants.models import Workspace, WorkspaceActivity

pytestmark = pytest.mark.django_db

# Far from the session's workspaces (signed up today): the window is March 2031.
NOW = datetime(2031, 3, 31, 15, 30, tzinfo=UTC)
FIRST, LAST = date(2031, 3, 2), date(2031, 3, 31)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2031, month, day, hour, minute, second, tzinfo=UTC)


def index(day: date) -> int:
    return (day - FIRST).days


def workspaces(*claimed: datetime | None) -> list[Workspace]:
    return Workspace.objects.bulk_create(
        [
            Workspace(
                schema_name=f"ws_health_{i}", slug=None if when is None else f"health-{i}", claimed_at=when
            )
            for i, when in enumerate(claimed)
        ]
    )


def sample(taken_at: datetime, *, depth: int, age: int, spare: int, workers: int) -> HealthSample:
    return HealthSample(
        taken_at=taken_at,
        queue_depth=depth,
        oldest_job_age_seconds=age,
        spare_pool_size=spare,
        workers_alive=workers,
    )


def activity(workspace: Workspace, hour: datetime, **counts: int) -> None:
    WorkspaceActivity.objects.create(
        workspace=workspace, hour=hour, last_at=hour + timedelta(minutes=59), **counts
    )


def test_the_window_is_the_last_30_utc_days_today_last():
    days = selectors.history_days(now=NOW)
    assert len(days) == 30 and days[0] == FIRST and days[-1] == LAST
    # Half past midnight on the 1st of April in Paris is still the 31st of March in UTC.
    paris = datetime(2031, 4, 1, 0, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert selectors.history_days(now=paris)[-1] == date(2031, 3, 31)


def test_sign_ups_are_counted_on_their_utc_day_and_days_without_any_are_zero():
    workspaces(
        at(1, 23, 59, 59),  # the day before the window
        at(2),  # its first instant
        at(2, 23, 59, 59),
        at(17, 12),
        at(31, 23, 59, 59),  # its last second
        at(1, month=4),  # the day after
        None,  # a spare: made, not signed up
    )
    signups = selectors.signups_per_day(first_day=FIRST, last_day=LAST)
    assert len(signups) == 30
    assert signups[index(FIRST)] == 2 and signups[index(date(2031, 3, 17))] == 1 and signups[-1] == 1
    assert sum(signups) == 4 and signups.count(0) == 27


def test_activity_sums_each_days_hours_and_counts_each_active_workspace_once():
    one, two = workspaces(at(1), at(1))
    activity(one, at(10, 9), conversations=1, messages=3, deliveries=10, delivery_failures=1)
    activity(one, at(10, 14), messages=4, deliveries=0)
    # Deliveries alone (retries of yesterday's events, say) are not the workspace's people at work.
    activity(two, at(10, 23), deliveries=5, delivery_failures=5)
    activity(two, at(11, 0), messages=2)
    activity(one, at(1, 23), messages=50)  # before the window
    activity(one, at(1, 0, month=4), messages=60)  # after it

    days = selectors.activity_per_day(first_day=FIRST, last_day=LAST)
    assert len(days) == 30
    tenth, eleventh = days[index(date(2031, 3, 10))], days[index(date(2031, 3, 11))]
    assert tenth == selectors.DailyActivity(
        active_workspaces=1, messages=7, deliveries=15, delivery_failures=6
    )
    assert tenth.failure_rate == pytest.approx(0.4)
    assert eleventh == selectors.DailyActivity(
        active_workspaces=1, messages=2, deliveries=0, delivery_failures=0
    )
    quiet = [
        day for n, day in enumerate(days) if n not in (index(date(2031, 3, 10)), index(date(2031, 3, 11)))
    ]
    assert quiet == [selectors.DailyActivity(0, 0, 0, 0)] * 28


def test_the_failure_rate_is_none_without_deliveries_and_exact_otherwise():
    assert selectors.DailyActivity(3, 10, 0, 0).failure_rate is None  # no rate, not 0 %
    assert selectors.DailyActivity(0, 0, 8, 0).failure_rate == 0
    assert selectors.DailyActivity(0, 0, 8, 8).failure_rate == 1
    assert selectors.DailyActivity(0, 0, 3, 1).failure_rate == pytest.approx(1 / 3)


def test_two_workspaces_active_the_same_day_are_two():
    one, two = workspaces(at(1), at(1))
    activity(one, at(20, 8), conversations=1)
    activity(two, at(20, 8), messages=1)
    activity(two, at(20, 9), messages=1)
    assert (
        selectors.activity_per_day(first_day=FIRST, last_day=LAST)[index(date(2031, 3, 20))].active_workspaces
        == 2
    )


def test_samples_give_each_days_worst_moment_and_none_on_days_without_samples():
    HealthSample.objects.bulk_create(
        [
            sample(at(5, 10), depth=3, age=40, spare=3, workers=2),
            sample(at(5, 11), depth=7, age=10, spare=1, workers=1),
            sample(at(6, 0), depth=0, age=0, spare=3, workers=2),
            sample(at(1, 23, 55), depth=99, age=99, spare=0, workers=0),
        ]
    )
    days = selectors.samples_per_day(first_day=FIRST, last_day=LAST)
    assert days[index(date(2031, 3, 5))] == selectors.DailySamples(
        samples=2, queue_depth_peak=7, oldest_job_age_peak=40, spare_pool_low=1, workers_alive_low=1
    )
    assert days[index(date(2031, 3, 6))] == selectors.DailySamples(1, 0, 0, 3, 2)
    assert days[index(FIRST)] == selectors.DailySamples(0, None, None, None, None)  # the 1st's is outside
    assert sum(day.samples for day in days) == 3


def test_the_history_is_three_queries_however_many_rows(django_assert_num_queries):
    Workspace.objects.exists()  # the connection's first query also sets its search_path
    with django_assert_num_queries(3):
        history = selectors.platform_history(now=NOW)
    assert history.days[0] == FIRST and history.days[-1] == LAST
    assert len(history.signups) == len(history.activity) == len(history.samples) == 30

    many = workspaces(*[at(1 + n % 30, n % 24) for n in range(60)])
    WorkspaceActivity.objects.bulk_create(
        [
            WorkspaceActivity(workspace=w, hour=at(2 + d, h), messages=1, deliveries=2, last_at=at(2 + d, h))
            for w in many[:20]
            for d in range(0, 29, 3)
            for h in range(0, 24, 6)
        ]
    )
    HealthSample.objects.bulk_create(
        [
            sample(at(2 + d, 0, m), depth=m, age=0, spare=3, workers=1)
            for d in range(29)
            for m in range(0, 60, 5)
        ]
    )
    with django_assert_num_queries(3):
        history = selectors.platform_history(now=NOW)
    assert sum(day.messages for day in history.activity) == 20 * 10 * 4


def test_the_queue_now_counts_jobs_by_state_and_times_the_oldest_due_one():
    empty_queue()
    assert selectors.queue_now() == selectors.QueueNow(0, 0, 0, 0, 0, 0, None)

    add_job(deferred_ago=300)  # waiting 5 min
    add_job(deferred_ago=0)  # just deferred
    # A retry due 90 s ago, first deferred 20 min ago: it has waited 90 s for a worker, not 20 min.
    add_job(deferred_ago=1200, scheduled_in=-90)
    add_job(deferred_ago=900, scheduled_in=600)  # a retry not due yet: scheduled, not waiting
    add_job(status="doing", deferred_ago=2000)
    add_job(status="failed", deferred_ago=5000)
    add_job(status="succeeded", deferred_ago=7000)  # not counted anywhere
    queue = selectors.queue_now()
    assert (queue.waiting, queue.scheduled, queue.running, queue.failed) == (3, 1, 1, 1)
    assert queue.oldest_waiting_seconds == 300


def test_the_queue_now_counts_workers_with_a_recent_heartbeat(settings):
    settings.PARLEY_WORKER_STALLED_AFTER = 30
    empty_queue()
    add_worker(heartbeat_ago=45)
    queue = selectors.queue_now()
    assert queue.workers_alive == 0 and queue.last_heartbeat_at is not None
    add_worker(heartbeat_ago=2)
    add_worker(heartbeat_ago=29)
    assert selectors.queue_now().workers_alive == 2


def test_stored_days_are_read_as_stored_and_the_others_summed_from_the_buckets():
    (workspace,) = workspaces(at(1))
    activity(workspace, at(30, 10), messages=5)
    activity(workspace, at(31, 10), messages=6)  # today: never stored
    # What was stored for the 30th stands, whatever the buckets say now (a deleted workspace's rows
    # go with it; the day it was busy stays busy).
    ActivityDay.objects.create(
        day=date(2031, 3, 30),
        active_workspaces=4,
        messages=80,
        deliveries=3,
        delivery_failures=1,
        stored_at=NOW,
    )
    days = selectors.activity_per_day(first_day=FIRST, last_day=LAST)
    assert days[-2] == selectors.DailyActivity(4, 80, 3, 1)
    assert days[-1] == selectors.DailyActivity(1, 6, 0, 0)
