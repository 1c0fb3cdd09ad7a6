"""Signs webhook payloads the way Stripe does, so tests send what Stripe would."""

import hashlib
import hmac
import json
import time


def stripe_signature(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=<unix time>,v1=HMAC-SHA256 of "t.payload" with the secret."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def stripe_event_payload(*, event_id: str, type: str, obj: dict, created: int | None = None) -> bytes:
    """An event body in Stripe's shape."""
    event = {
        "id": event_id,
        "object": "event",
        "type": type,
        "created": int(time.time()) if created is None else created,
        "livemode": False,
        "data": {"object": obj},
    }
    return json.dumps(event).encode()
