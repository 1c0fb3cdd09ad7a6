import json
import time

import hypothesis
import hypothesis.strategies as st
import pytest
from django.db import connection

from billing.models import BillingAccount, StripeEvent
from billing.services import stripe_event_process
from billing.tests.stripe_signing import stripe_event_payload, stripe_signature
from conftest import host_client
from tenants import app_settings

SECRET = "whsec_test_receiver"
URL = "/billing/stripe/webhook/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing_on(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_receiver"
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def _post(client, payload: bytes, signature: str):
    return client.post(URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)


def _jobs_for(stripe_id: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'billing.tasks.stripe_event_process'"
            " AND args->>'stripe_id' = %s",
            [stripe_id],
        )
        return cursor.fetchone()[0]


def _event(event_id="evt_r1", type="customer.subscription.updated", customer="cus_nobody"):
    obj = {"id": "sub_1", "object": "subscription", "customer": customer}
    return stripe_event_payload(event_id=event_id, type=type, obj=obj)


def test_a_signed_event_is_stored_once_with_its_job(billing_on, client):
    payload = _event()
    response = _post(client, payload, stripe_signature(payload, SECRET))
    assert response.status_code == 200
    event = StripeEvent.objects.get(stripe_id="evt_r1")
    assert event.type == "customer.subscription.updated"
    assert event.processed_at is None
    assert _jobs_for("evt_r1") == 1


def test_a_redelivered_event_is_acknowledged_and_not_queued_again(billing_on, client):
    payload = _event()
    assert _post(client, payload, stripe_signature(payload, SECRET)).status_code == 200
    assert _post(client, payload, stripe_signature(payload, SECRET)).status_code == 200
    assert StripeEvent.objects.filter(stripe_id="evt_r1").count() == 1
    assert _jobs_for("evt_r1") == 1


def test_a_bad_signature_is_400_and_writes_nothing(billing_on, client):
    payload = _event()
    response = _post(client, payload, stripe_signature(payload, "whsec_forged"))
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert _jobs_for("evt_r1") == 0


def test_a_stale_signature_is_400_and_writes_nothing(billing_on, client):
    payload = _event()
    response = _post(client, payload, stripe_signature(payload, SECRET, timestamp=int(time.time()) - 400))
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_missing_signature_is_400(billing_on, client):
    assert client.post(URL, data=_event(), content_type="application/json").status_code == 400
    assert not StripeEvent.objects.exists()


def test_only_post(billing_on, client):
    assert client.get(URL).status_code == 405


def test_the_receiver_is_on_the_public_host_only(billing_on, workspace_a, client_a):
    payload = _event()
    # A signed-in member gets the workspace host's 404; a stranger its sign-in redirect. Neither stores.
    assert _post(client_a, payload, stripe_signature(payload, SECRET)).status_code == 404
    anonymous = host_client(app_settings.workspace_hostname(workspace_a.slug))
    assert _post(anonymous, payload, stripe_signature(payload, SECRET)).status_code == 302
    assert not StripeEvent.objects.exists()


def test_with_billing_off_the_receiver_does_not_exist(settings, client):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = _event()
    # Signed with the empty secret: must not be accepted just because nothing is configured.
    assert _post(client, payload, stripe_signature(payload, "")).status_code == 404
    assert not StripeEvent.objects.exists()


def test_an_unknown_type_is_stored_and_ignored(billing_on, client, workspace_a):
    BillingAccount.objects.create(workspace=workspace_a, stripe_customer_id="cus_a")
    payload = _event(event_id="evt_odd", type="customer.tax_id.created", customer="cus_a")
    assert _post(client, payload, stripe_signature(payload, SECRET)).status_code == 200
    assert stripe_event_process(stripe_id="evt_odd") == "ignored"
    event = StripeEvent.objects.get(stripe_id="evt_odd")
    assert event.processed_at is not None
    assert not event.customer_unknown
    assert BillingAccount.objects.get(workspace=workspace_a).status == BillingAccount.Status.NONE


def test_an_unknown_customer_is_stored_and_flagged(billing_on, client):
    payload = _event(event_id="evt_stranger", customer="cus_stranger")
    assert _post(client, payload, stripe_signature(payload, SECRET)).status_code == 200
    assert stripe_event_process(stripe_id="evt_stranger") == "customer unknown"
    event = StripeEvent.objects.get(stripe_id="evt_stranger")
    assert event.customer_unknown
    assert event.processed_at is not None
    # Processing again is a no-op.
    assert stripe_event_process(stripe_id="evt_stranger") == "already processed"


@hypothesis.settings(
    max_examples=150, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(
    body=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
            ),
            max_leaves=12,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_any_body_correctly_signed_is_a_400_or_stored_never_a_500(billing_on, client, body):
    # Signed with our secret: the signature holds, so whatever the body is reaches the parser.
    before = StripeEvent.objects.count()
    response = _post(client, body, stripe_signature(body, SECRET))
    assert response.status_code in (200, 400)
    stored = StripeEvent.objects.count() - before
    if response.status_code == 400:
        assert stored == 0
    else:
        event = json.loads(body)
        assert isinstance(event, dict) and stored <= 1
