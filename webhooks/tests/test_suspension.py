"""A suspended workspace's webhooks: no delivery is attempted (they stay pending, with no job left
retrying them), and on unsuspend every one goes out, each once, signed as standardwebhooks verifies."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import override_settings
from standardwebhooks import Webhook

from tenants import services as tenant_services
from tenants.context import workspace_schema
from webhooks.models import Attempt, Delivery, Event
from webhooks.tests.test_delivery import (  # noqa: F401 - pytest finds fixtures by name
    SCHEDULE,
    make_endpoint,
    new_contact,
    pending_jobs,
    run_jobs,
    schema,
    website,
)

pytestmark = pytest.mark.django_db(transaction=True)

PAUSED = "workspace suspended: pending until it is unsuspended"


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

    tenant_services.workspace_unsuspend(workspace=tx_workspaces.alpha)
    assert len(pending_jobs()) == 3
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
