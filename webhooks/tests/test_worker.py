"""Real procrastinate workers in their own processes: committed events go out, failures are retried
on a compressed schedule, and a worker killed (SIGKILL) in the middle of a delivery leaves it to
another worker, which delivers it with the same webhook-id."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection

from inbox import services as inbox
from tenants.context import run_in_workspace, workspace_schema
from tests.polling import eventually
from webhooks import services
from webhooks.models import Attempt, Delivery, EndpointLease
from webhooks.tests.workers import start_worker, stop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def schema(tx_workspaces):
    return tx_workspaces.alpha.schema_name


def delivery_status(schema: str) -> list[tuple[str, int]]:
    with workspace_schema(schema):
        return list(Delivery.objects.order_by("id").values_list("status", "attempts"))


def commit_new_contact(schema: str, workspace) -> None:
    website = run_in_workspace(
        schema, lambda: inbox.website_create(workspace=workspace, name="S", allowed_origins="")[0]
    )
    run_in_workspace(schema, inbox.contact_for_visitor, website=website, token=None)


def test_a_worker_delivers_committed_events_and_retries_failures(schema, tx_workspaces, receiver):
    receiver.answers = [500, 503]
    run_in_workspace(schema, services.endpoint_create, url=receiver.url, event_types=["contact.created"])
    worker = start_worker(PARLEY_WEBHOOK_RETRY_SCHEDULE="0.5,0.5")
    try:
        commit_new_contact(schema, tx_workspaces.alpha)
        receiver.wait_for(3)
        eventually(lambda: delivery_status(schema) == [("succeeded", 3)], timeout=30)
    finally:
        stop(worker)
    ids = {r.headers["webhook-id"] for r in receiver.received}
    assert len(ids) == 1 and len(receiver.received) == 3
    gaps = [
        later.at - earlier.at
        for earlier, later in zip(receiver.received, receiver.received[1:], strict=False)
    ]
    assert all(gap >= 0.4 for gap in gaps), f"retries wait for the schedule: {gaps}"


def test_a_slow_receiver_in_one_workspace_does_not_delay_another_workspaces_endpoint(
    tx_workspaces, receiver, other_receiver
):
    """Alpha's receiver takes 5 s to answer; twelve events for it are queued first, then twelve for
    beta's healthy receiver. One worker with four job slots: alpha's deliveries hold at most their
    endpoint's two slots, the other ten are parked instead of waiting in the worker, so beta's twelve
    all arrive before alpha's first two answers come back."""
    slow, fast = receiver, other_receiver
    slow.answers = ["hang"] * 100
    slow.hang_for = 5.0
    alpha, beta = tx_workspaces.alpha, tx_workspaces.beta
    for workspace, target in ((alpha, slow), (beta, fast)):
        run_in_workspace(
            workspace.schema_name, services.endpoint_create, url=target.url, event_types=["contact.created"]
        )
    for workspace in (alpha, beta):
        website = run_in_workspace(
            workspace.schema_name,
            lambda w=workspace: inbox.website_create(workspace=w, name="S", allowed_origins="")[0],
        )
        for _ in range(12):
            run_in_workspace(workspace.schema_name, inbox.contact_for_visitor, website=website, token=None)
    worker = start_worker(PARLEY_WORKER_CONCURRENCY="4", PARLEY_WEBHOOK_CONCURRENCY="2")
    try:
        fast.wait_for(12)
        assert len(slow.received) == 2, "beta's twelve went out while alpha's first two were in flight"
        assert [status for status, _ in delivery_status(beta.schema_name)] == ["succeeded"] * 12
    finally:
        stop(worker)


def test_a_worker_killed_mid_delivery_leaves_it_to_the_next_worker(schema, tx_workspaces, receiver):
    receiver.answers = ["hang"]
    receiver.hang_for = 120
    run_in_workspace(schema, services.endpoint_create, url=receiver.url, event_types=["contact.created"])
    fast_heartbeats = {"PARLEY_WORKER_HEARTBEAT": "0.5", "PARLEY_WORKER_STALLED_AFTER": "2"}
    first = start_worker(**fast_heartbeats)
    try:
        commit_new_contact(schema, tx_workspaces.alpha)
        assert receiver.got_request.wait(30), "the first worker began the delivery"
    finally:
        stop(first, signal.SIGKILL)
    assert first.returncode == -signal.SIGKILL
    assert delivery_status(schema) == [("pending", 0)], "nothing was recorded: the worker died mid-request"

    second = start_worker(**fast_heartbeats)
    try:
        # The second worker's periodic check (every 10 s) finds the dead worker's job and runs it again.
        receiver.wait_for(2, timeout=40)
        eventually(lambda: delivery_status(schema) == [("succeeded", 1)], timeout=30)
    finally:
        stop(second)
    first_try, second_try = receiver.received[:2]
    assert first_try.headers["webhook-id"] == second_try.headers["webhook-id"]
    assert first_try.body == second_try.body
    with workspace_schema(schema):
        assert Attempt.objects.get().status_code == 200


@contextmanager
def record_refused(schema: str) -> Iterator[None]:
    """While inside, the schema has no webhook_delivery_record function: recording an attempt fails
    as it would with the database gone. It is back on leaving, whatever happened."""
    signature = (
        "(bigint, bigint, integer, uuid, integer, integer, text, text, double precision[], double precision)"
    )
    record = f'"{schema}".webhook_delivery_record'
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER FUNCTION {record}{signature} RENAME TO webhook_delivery_record_away")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER FUNCTION {record}_away{signature} RENAME TO webhook_delivery_record")


def job_attempts() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT attempts FROM procrastinate_jobs WHERE task_name = 'webhooks.tasks.deliver'")
        row = cursor.fetchone()
    return row[0] if row else None


def test_a_delivery_whose_record_fails_is_run_again_by_the_queue(schema, tx_workspaces, receiver):
    """The database refuses to record the attempt (as when it goes away just after the POST): the
    job fails, the queue runs it again, and the event goes out once more with the same webhook-id."""
    run_in_workspace(schema, services.endpoint_create, url=receiver.url, event_types=["contact.created"])
    worker = start_worker()
    try:
        with record_refused(schema):
            commit_new_contact(schema, tx_workspaces.alpha)
            receiver.wait_for(1)
            eventually(lambda: job_attempts() == 1, timeout=30)  # failed once, queued to run again
            assert delivery_status(schema) == [("pending", 0)]
            # Its slot was given back as the job failed (the rerun is seconds away), not held for
            # the lease's PARLEY_WEBHOOK_TIMEOUT + 15 s.
            with workspace_schema(schema):
                assert not EndpointLease.objects.exists()
        eventually(lambda: delivery_status(schema) == [("succeeded", 1)], timeout=30)
    finally:
        stop(worker)
    assert len(receiver.received) == 2
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
