"""A received Stripe event is processed by the real procrastinate worker, from the job deferred with it."""

import subprocess
import sys

import pytest

from billing.models import StripeEvent
from billing.tests.stripe_signing import stripe_event_payload, stripe_signature
from config.embedded_services import PROJECT_DIR
from conftest import subprocess_env

# Committed rows: the worker is another process.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_processes_a_received_event(settings, client):
    settings.STRIPE_SECRET_KEY = "sk_test_worker"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_worker"
    obj = {"id": "sub_w", "object": "subscription", "customer": "cus_nobody_w"}
    payload = stripe_event_payload(event_id="evt_worker", type="customer.subscription.updated", obj=obj)
    response = client.post(
        "/billing/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload, "whsec_worker"),
    )
    assert response.status_code == 200
    assert StripeEvent.objects.get(stripe_id="evt_worker").processed_at is None

    result = subprocess.run(
        [sys.executable, "manage.py", "procrastinate", "worker", "--one-shot", "--queues", "default"],
        cwd=PROJECT_DIR,
        env=subprocess_env(STRIPE_SECRET_KEY="sk_test_worker"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    event = StripeEvent.objects.get(stripe_id="evt_worker")
    assert event.processed_at is not None
    assert event.customer_unknown
