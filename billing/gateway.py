"""The only module that talks to Stripe: the SDK is configured here from settings, in one place.

Every call builds its client from settings when it is made, so tests (and a deployment that rotates
keys) point the real SDK at another server by changing settings, nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import stripe
from django.conf import settings

# Stripe's own default: a signed event older than this (seconds) is refused as a replay.
WEBHOOK_TOLERANCE_SECONDS = 300

SignatureVerificationError = stripe.SignatureVerificationError


def _client() -> stripe.StripeClient:
    base_addresses: dict[str, str] = {}
    if settings.STRIPE_API_BASE:
        base_addresses["api"] = settings.STRIPE_API_BASE
    # Retries with the SDK's idempotency keys: a timeout never creates a second object.
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base_addresses,  # type: ignore[arg-type]
        max_network_retries=2,
    )


def customer_for_workspace(*, workspace: Any, customer_id: str = "", email: str = "") -> str:
    """The workspace's Stripe customer id: `customer_id` when it has one, else one created once."""
    if customer_id:
        return customer_id
    customer = _client().v1.customers.create(
        params={
            "name": workspace.name,
            "email": email or None,  # type: ignore[typeddict-item]
            "metadata": {"workspace_id": str(workspace.pk), "workspace_slug": workspace.slug or ""},
        },
        # Keyed by the workspace, so two requests racing to upgrade get the same customer back.
        options={"idempotency_key": f"parley-customer-workspace-{workspace.pk}"},
    )
    return customer.id


def checkout_session_create(
    *, customer_id: str, price_id: str, quantity: int, workspace_id: int, success_url: str, cancel_url: str
) -> Any:
    """A Checkout Session in subscription mode for one price; returns the session (id, url)."""
    return _client().v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": customer_id,
            "line_items": [{"price": price_id, "quantity": quantity}],
            "client_reference_id": str(workspace_id),
            "metadata": {"workspace_id": str(workspace_id)},
            "subscription_data": {"metadata": {"workspace_id": str(workspace_id)}},
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
    )


def portal_session_create(*, customer_id: str, return_url: str) -> Any:
    """A Billing Portal session for the customer; returns the session (id, url)."""
    return _client().v1.billing_portal.sessions.create(
        params={"customer": customer_id, "return_url": return_url}
    )


def subscription_retrieve(subscription_id: str) -> dict[str, Any]:
    """The subscription as Stripe holds it now, as plain data."""
    return _client().v1.subscriptions.retrieve(subscription_id).to_dict()


def invoices_list(*, customer_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """The customer's latest invoices, newest first, as plain data."""
    found = _client().v1.invoices.list(params={"customer": customer_id, "limit": limit})
    return [invoice.to_dict() for invoice in found.data]


def subscription_quantity_set(*, subscription_id: str, quantity: int) -> Any:
    """Sets the quantity (seats) of the subscription's single item, with Stripe's default proration."""
    subscription = subscription_retrieve(subscription_id)
    item = subscription["items"]["data"][0]
    return _client().v1.subscriptions.update(
        subscription_id, params={"items": [{"id": item["id"], "quantity": quantity}]}
    )


def subscription_trial_end_set(*, subscription_id: str, trial_end: dt.datetime) -> dict[str, Any]:
    """Moves the end of the subscription's trial (nothing is charged before it); returns the
    subscription as plain data."""
    return (
        _client()
        .v1.subscriptions.update(subscription_id, params={"trial_end": int(trial_end.timestamp())})
        .to_dict()
    )


def subscription_cancel(subscription_id: str) -> dict[str, Any]:
    """Cancels the subscription now (no proration, no further invoice), as plain data; one Stripe has
    already cancelled is returned as it is (cancelling twice is an error there)."""
    subscription = subscription_retrieve(subscription_id)
    if subscription["status"] == "canceled":
        return subscription
    return _client().v1.subscriptions.cancel(subscription_id).to_dict()


def webhook_event_construct(payload: bytes | str, sig_header: str) -> stripe.Event:
    """The event in a webhook request; raises SignatureVerificationError (bad or stale) or ValueError
    (not an event: the SDK itself fails on JSON that is not an object with an id, a type and data)."""
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("The body is not JSON.") from exc
    data = body.get("data") if isinstance(body, dict) else None
    if not (
        isinstance(body, dict)
        and isinstance(body.get("id"), str)
        and body["id"]
        and isinstance(body.get("type"), str)
        and isinstance(data, dict)
        and isinstance(data.get("object"), dict)
    ):
        raise ValueError("The body is not a Stripe event.")
    return stripe.Webhook.construct_event(
        payload, sig_header, settings.STRIPE_WEBHOOK_SECRET, tolerance=WEBHOOK_TOLERANCE_SECONDS
    )
