"""A real localstripe process, and what Stripe does when a customer pays (a card and a subscription),
for billing's tests, the browser test and bench/stripe_webhooks.py."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time


def localstripe_start(port: int) -> subprocess.Popen:
    """localstripe on `port`, accepting connections; its entry point run by this interpreter (no path
    to a script, which another working directory, or a venv made elsewhere, would break)."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from localstripe.server import start; sys.exit(start())",
         "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("localstripe did not start") from None
            time.sleep(0.1)


def localstripe_subscribe(
    client, customer_id: str, plan_id: str, *, quantity: int = 1, trial_end: int | None = None
) -> dict:
    """What Stripe holds once `customer_id` has paid for `plan_id`: a default card, and a subscription
    (localstripe speaks the Plans API; the plan is made once, yearly if its id ends so); on trial
    until `trial_end` if given (as our stand-in in front of localstripe shows it)."""
    import stripe

    with contextlib.suppress(stripe.StripeError):
        client.v1.plans.create(
            params={"id": plan_id, "product": {"name": plan_id}, "amount": 1000, "currency": "usd",
                    "interval": "year" if plan_id.endswith("yearly") else "month"}
        )  # fmt: skip
    card_number = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    card = client.v1.payment_methods.create(params={"type": "card", "card": card_number})
    client.v1.payment_methods.attach(card.id, params={"customer": customer_id})
    client.v1.customers.update(customer_id, params={"invoice_settings": {"default_payment_method": card.id}})
    params = {"customer": customer_id, "items": [{"plan": plan_id, "quantity": quantity}]}
    if trial_end is not None:
        params["trial_end"] = trial_end
    return client.v1.subscriptions.create(params=params).to_dict()
