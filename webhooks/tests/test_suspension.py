"""A suspended workspace's webhooks: no delivery is attempted (a job that finds the workspace suspended
holds its delivery: pending, with no job left retrying it), and on unsuspend every held one goes out,
each once, signed as standardwebhooks verifies. Deliveries that were not held (waiting out a retry, in
flight, of a disabled endpoint) are left as they were."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from standardwebhooks import Webhook

from tenants import services as tenant_services
from tenants.context import run_in_workspace, workspace_schema
from webhooks import delivery, sender, services
from webhooks.models import Attempt, Delivery, Event
from webhooks.tests.test_delivery import (  # noqa: F401 - pytest finds fixtures by name
    SCHEDULE,
    make_endpoint,
    mark_done,
    new_contact,
    on_a_loop,
    pending_jobs,
    run_jobs,
    schema,
    website,
)

pytestmark = pytest.mark.django_db(transaction=True)

PAUSED = "workspace suspended: pending until it is unsuspended"


def _held(schema_name: str) -> list[int]:
    with workspace_schema(schema_name):
        held = Delivery.objects.filter(held_at__isnull=False).order_by("id")
        return list(held.values_list("pk", flat=True))


def _all_due_now() -> None:
    """Time passes: every queued job is due."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")


@override_settings(PARLEY_WEBHOOK_RETRY_SCHEDULE=SCHEDULE)
def test_deliveries_wait_while_suspended_then_all_go_out(schema, website, receiver, tx_workspaces):  # noqa: F811
    receiver.answers = [500]
    _, secret = make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    assert run_jobs(schema)[0].startswith("500 in")  # the first attempt failed; a retry is queued
    assert len(pending_jobs()) == 1

    tenant_services.workspace_suspend(workspace=tx_workspaces.alpha, reason="Chargeback.")
    new_contact(schema, website)  # events are still recorded (a job's, say), and wait with the rest
    new_contact(schema, website)
    _all_due_now()
    assert run_jobs(schema) == [PAUSED] * 3
    assert len(receiver.received) == 1 and pending_jobs() == []  # nothing sent, nothing retrying
    with workspace_schema(schema):
        assert list(Delivery.objects.values_list("status", flat=True)) == ["pending"] * 3
        assert Attempt.objects.count() == 1
    assert len(_held(schema)) == 3

    tenant_services.workspace_unsuspend(workspace=tx_workspaces.alpha)
    assert len(pending_jobs()) == 3 and _held(schema) == []
    assert all(done.startswith("200 in") for done in run_jobs(schema))
    assert pending_jobs() == []

    with workspace_schema(schema):
        events = {event.webhook_id: event for event in Event.objects.all()}
        assert len(events) == 3
        assert list(Delivery.objects.values_list("status", flat=True)) == ["succeeded"] * 3
    verified = {}
    for got in receiver.received[1:]:
        payload = Webhook(secret).verify(got.body, got.headers)
        verified[got.headers["webhook-id"]] = payload["type"]
    assert verified == {webhook_id: "contact.created" for webhook_id in events}  # each once, none lost


def test_a_restore_resumes_them_too(schema, website, receiver, tx_workspaces):  # noqa: F811
    make_endpoint(schema, receiver.url)
    tenant_services.workspace_deletion_schedule(workspace=tx_workspaces.alpha, reason="Owner asked.")
    new_contact(schema, website)
    assert run_jobs(schema) == [PAUSED]
    tenant_services.workspace_restore(workspace=tx_workspaces.alpha)
    assert run_jobs(schema)[0].startswith("200 in") and len(receiver.received) == 1


def test_another_workspace_s_deliveries_go_on(receiver, tx_workspaces):
    from inbox import services as inbox
    from tenants.context import run_in_workspace

    beta = tx_workspaces.beta.schema_name
    site = run_in_workspace(
        beta, lambda: inbox.website_create(workspace=tx_workspaces.beta, name="B", allowed_origins="")[0]
    )
    make_endpoint(beta, receiver.url)
    tenant_services.workspace_suspend(workspace=tx_workspaces.alpha, reason="Chargeback.")
    new_contact(beta, site)
    assert run_jobs(beta)[0].startswith("200 in")


@override_settings(PARLEY_WEBHOOK_RETRY_SCHEDULE=SCHEDULE)
def test_a_delivery_waiting_out_a_retry_keeps_its_schedule(schema, website, receiver, tx_workspaces):  # noqa: F811
    receiver.answers = [500]
    make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    assert run_jobs(schema)[0].startswith("500 in")
    (retry,) = pending_jobs()
    with workspace_schema(schema):
        due = Delivery.objects.get().next_attempt_at

    tenant_services.workspace_suspend(workspace=tx_workspaces.alpha, reason="Chargeback.")
    tenant_services.workspace_unsuspend(workspace=tx_workspaces.alpha)  # before the retry came due
    assert pending_jobs() == [retry], "the same job, still due when the schedule said"
    assert run_jobs(schema) == [] and len(receiver.received) == 1
    with workspace_schema(schema):
        assert Delivery.objects.get().next_attempt_at == due

    _all_due_now()
    assert run_jobs(schema)[0].startswith("200 in") and len(receiver.received) == 2


def test_a_disabled_endpoint_s_deliveries_get_no_job(schema, website, receiver, tx_workspaces):  # noqa: F811
    endpoint, _ = make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    tenant_services.workspace_suspend(workspace=tx_workspaces.alpha, reason="Chargeback.")
    assert run_jobs(schema) == [PAUSED] and len(_held(schema)) == 1
    run_in_workspace(schema, services.endpoint_disable, endpoint=endpoint, reason="Turned off by a person.")

    tenant_services.workspace_unsuspend(workspace=tx_workspaces.alpha)
    assert pending_jobs() == [] and _held(schema) == []
    with workspace_schema(schema):
        assert Delivery.objects.get().status == Delivery.Status.PENDING  # waiting for its endpoint

    # A disabled endpoint's job, while suspended, holds nothing either.
    tenant_services.workspace_suspend(workspace=tx_workspaces.alpha, reason="Chargeback.")
    held_back = run_in_workspace(schema, Delivery.objects.get)
    run_in_workspace(schema, services.delivery_redeliver, delivery=held_back)
    assert run_jobs(schema) == ["nothing to do"] and _held(schema) == []
    tenant_services.workspace_unsuspend(workspace=tx_workspaces.alpha)
    assert pending_jobs() == []

    assert run_in_workspace(schema, services.endpoint_enable, endpoint=endpoint) == 1
    assert run_jobs(schema)[0].startswith("200 in") and len(receiver.received) == 1


def test_a_delivery_in_flight_when_suspended_is_sent_once(schema, website, receiver, tx_workspaces):  # noqa: F811
    """Claimed before the suspension, its POST still under way when the workspace is unsuspended: no
    second job is queued beside it, to send it again."""
    make_endpoint(schema, receiver.url)
    new_contact(schema, website)
    (job,) = pending_jobs()
    mark_done([job])  # a worker took it
    claimed = on_a_loop(
        lambda: delivery.delivery_claim(schema, job["delivery_id"], job["job_token"], uuid.uuid4())
    )
    assert isinstance(claimed, delivery.Claimed)

    tenant_services.workspace_suspend(workspace=tx_workspaces.alpha, reason="Chargeback.")
    tenant_services.workspace_unsuspend(workspace=tx_workspaces.alpha)
    assert pending_jobs() == [] and run_jobs(schema) == []

    async def post_and_record() -> str:
        outcome = await sender.post(
            claimed.url,
            claimed.body,
            claimed.headers,
            timeout=settings.PARLEY_WEBHOOK_TIMEOUT,
            allow_private=settings.PARLEY_WEBHOOK_ALLOW_PRIVATE_TARGETS,
            require_https=settings.PARLEY_WEBHOOK_REQUIRE_HTTPS,
        )
        return await delivery.delivery_record(schema, claimed, outcome)

    assert on_a_loop(post_and_record) == "succeeded"
    assert run_jobs(schema) == [] and len(receiver.received) == 1
    with workspace_schema(schema):
        assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED
