"""The subscription's quantity follows the number of members, through a queued job."""

from __future__ import annotations

import json

import pytest
from allauth.account.models import EmailAddress
from django.db import connection

from accounts.models import User
from billing import gateway, services
from billing.tests.test_stripe_events import _subscribed_customer
from tenants import services as team_services
from tenants.models import Membership

pytestmark = pytest.mark.django_db


def _seat_jobs(workspace) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, args FROM procrastinate_jobs WHERE task_name = 'billing.tasks.seats_sync' "
            "AND queueing_lock = %s",
            [f"seats-{workspace.pk}"],
        )
        return cursor.fetchall()


def test_a_member_joining_and_leaving_queues_one_update_that_sets_the_quantity(
    stripe_on, workspace_a, owner_a, django_capture_on_commit_callbacks
):
    account, subscription = _subscribed_customer(stripe_on, workspace_a, "price_team_monthly")  # quantity 2
    account.stripe_subscription_id, account.status, account.plan = subscription["id"], "active", "team"
    account.save()
    owner = Membership.objects.get(workspace=workspace_a, user=owner_a)
    joined = []
    for email in ("one@example.com", "two@example.com", "three@example.com"):
        _, token = team_services.invitation_create(workspace=workspace_a, email=email, role="agent", by=owner)
        user = User.objects.create_user(email, "x")
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        with django_capture_on_commit_callbacks(execute=True):
            joined.append(team_services.invitation_accept(raw_token=token, workspace=workspace_a, user=user))
    with django_capture_on_commit_callbacks(execute=True):
        team_services.membership_remove(membership=joined[0], by=owner_a)

    assert [(status, json.loads(args)) for status, args in _seat_jobs(workspace_a)] == [
        ("todo", {"workspace_id": workspace_a.pk})
    ]  # one, not four
    assert services.seats_sync(workspace_id=workspace_a.pk) == "set to 3"  # the owner, two and three
    assert gateway.subscription_retrieve(subscription["id"])["items"]["data"][0]["quantity"] == 3
    assert services.seats_sync(workspace_id=workspace_a.pk) == "already 3"


def test_no_job_while_billing_is_off_and_no_update_without_a_subscription(
    workspace_a, owner_a, django_capture_on_commit_callbacks
):
    owner = Membership.objects.get(workspace=workspace_a, user=owner_a)
    _, token = team_services.invitation_create(
        workspace=workspace_a, email="x@example.com", role="agent", by=owner
    )
    user = User.objects.create_user("x@example.com", "x")
    EmailAddress.objects.create(user=user, email="x@example.com", verified=True, primary=True)
    with django_capture_on_commit_callbacks(execute=True):
        team_services.invitation_accept(raw_token=token, workspace=workspace_a, user=user)
    assert _seat_jobs(workspace_a) == []
    assert services.seats_sync(workspace_id=workspace_a.pk) == "no subscription"
