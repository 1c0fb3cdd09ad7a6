"""Stripe events, signed and posted, processed against localstripe: the stored state ends as Stripe's."""

import time

import pytest
import stripe

from billing import gateway
from billing.models import BillingAccount, StripeEvent
from billing.services import stripe_event_process
from billing.tests.localstripe import localstripe_subscribe
from billing.tests.stripe_signing import stripe_event_payload, stripe_signature

pytestmark = pytest.mark.django_db

URL = "/billing/stripe/webhook/"


def _stripe(settings) -> stripe.StripeClient:
    # The test's own hand on the fake Stripe, to make the state events describe.
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE})


def _subscribed_customer(settings, workspace, plan_id: str) -> tuple[BillingAccount, dict]:
    customer_id = gateway.customer_for_workspace(workspace=workspace)
    subscription = localstripe_subscribe(_stripe(settings), customer_id, plan_id, quantity=2)
    account = BillingAccount.objects.create(workspace=workspace, stripe_customer_id=customer_id)
    return account, subscription


def _deliver(client, settings, event_id: str, type: str, obj: dict, created: int) -> None:
    payload = stripe_event_payload(event_id=event_id, type=type, obj=obj, created=created)
    response = client.post(
        URL,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET),
    )
    assert response.status_code == 200


def test_updated_before_created_ends_in_stripes_state(stripe_on, client, workspace_a):
    account, subscription = _subscribed_customer(stripe_on, workspace_a, "price_team_monthly")
    t = subscription["created"]
    _deliver(client, stripe_on, "evt_upd", "customer.subscription.updated", subscription, t + 10)
    _deliver(client, stripe_on, "evt_cre", "customer.subscription.created", subscription, t)
    assert stripe_event_process(stripe_id="evt_upd") == "processed"
    assert stripe_event_process(stripe_id="evt_cre") == "processed"
    account.refresh_from_db()
    assert (account.plan, account.status, account.interval) == ("team", "active", "month")
    assert account.stripe_subscription_id == subscription["id"]
    assert account.current_period_end is not None


def test_deleted_before_updated_ends_canceled_on_free(stripe_on, client, workspace_a):
    account, subscription = _subscribed_customer(stripe_on, workspace_a, "price_business_monthly")
    _stripe(stripe_on).v1.subscriptions.cancel(subscription["id"])
    t = subscription["created"]
    _deliver(client, stripe_on, "evt_del", "customer.subscription.deleted", subscription, t + 20)
    # The older "updated" still says active; handling it after "deleted" must not revive the plan.
    _deliver(client, stripe_on, "evt_upd2", "customer.subscription.updated", subscription, t + 10)
    assert stripe_event_process(stripe_id="evt_del") == "processed"
    assert stripe_event_process(stripe_id="evt_upd2") == "processed"
    account.refresh_from_db()
    assert (account.plan, account.status) == ("free", "canceled")


def test_payment_failed_starts_the_grace_period(stripe_on, client, workspace_a):
    account, subscription = _subscribed_customer(stripe_on, workspace_a, "price_team_monthly")
    invoice = {
        "id": "in_x",
        "object": "invoice",
        "customer": account.stripe_customer_id,
        "subscription": subscription["id"],
    }
    _deliver(client, stripe_on, "evt_fail", "invoice.payment_failed", invoice, subscription["created"] + 5)
    assert stripe_event_process(stripe_id="evt_fail") == "processed"
    account.refresh_from_db()
    assert account.past_due_since is not None
    assert StripeEvent.objects.get(stripe_id="evt_fail").processed_at is not None


def test_subscription_quantity_follows_what_we_set(stripe_on, workspace_a):
    _, subscription = _subscribed_customer(stripe_on, workspace_a, "price_team_monthly")
    gateway.subscription_quantity_set(subscription_id=subscription["id"], quantity=5)
    assert gateway.subscription_retrieve(subscription["id"])["items"]["data"][0]["quantity"] == 5


def test_a_handler_that_fails_leaves_its_error_and_the_next_run_clears_it(
    stripe_on, client, workspace_a, settings
):
    account, subscription = _subscribed_customer(stripe_on, workspace_a, "price_team_monthly")
    obj = {"id": subscription["id"], "object": "subscription", "customer": account.stripe_customer_id}
    _deliver(client, stripe_on, "evt_err", "customer.subscription.updated", obj, int(time.time()))
    real = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:1"  # Stripe away
    with pytest.raises(stripe.APIConnectionError):
        stripe_event_process(stripe_id="evt_err")
    event = StripeEvent.objects.get(stripe_id="evt_err")
    assert event.processed_at is None and event.error.startswith("APIConnectionError")
    settings.STRIPE_API_BASE = real
    assert stripe_event_process(stripe_id="evt_err") == "processed"
    event.refresh_from_db()
    assert event.processed_at is not None and event.error == ""
