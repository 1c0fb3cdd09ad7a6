import time

import pytest

from billing import gateway
from billing.tests.stripe_signing import stripe_event_payload, stripe_signature

SECRET = "whsec_test_gateway"


@pytest.fixture
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def _payload():
    return stripe_event_payload(
        event_id="evt_1", type="invoice.paid", obj={"id": "in_1", "object": "invoice"}
    )


def test_a_validly_signed_event_is_constructed(webhook_secret):
    payload = _payload()
    event = gateway.webhook_event_construct(payload, stripe_signature(payload, SECRET))
    assert event.id == "evt_1"
    assert event.type == "invoice.paid"


def test_a_bad_signature_is_refused(webhook_secret):
    payload = _payload()
    with pytest.raises(gateway.SignatureVerificationError):
        gateway.webhook_event_construct(payload, stripe_signature(payload, "whsec_someone_else"))


def test_a_tampered_payload_is_refused(webhook_secret):
    payload = _payload()
    header = stripe_signature(payload, SECRET)
    with pytest.raises(gateway.SignatureVerificationError):
        gateway.webhook_event_construct(payload.replace(b"in_1", b"in_2"), header)


def test_a_stale_signature_is_refused(webhook_secret):
    payload = _payload()
    stale = int(time.time()) - gateway.WEBHOOK_TOLERANCE_SECONDS - 5
    with pytest.raises(gateway.SignatureVerificationError):
        gateway.webhook_event_construct(payload, stripe_signature(payload, SECRET, timestamp=stale))
