"""Standard Webhooks signatures (https://www.standardwebhooks.com): what a receiver verifies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def secret_generate() -> str:
    """`whsec_` and the base64 of 32 random bytes: the key is the decoded bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, *, webhook_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` and the base64 HMAC-SHA256 of "id.timestamp.body" under the secret's key."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(secrets_in_use: list[str], *, webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers; one signature per secret (two during a rotation), space-separated."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret, webhook_id=webhook_id, timestamp=timestamp, body=body)
            for secret in secrets_in_use
        ),
    }
