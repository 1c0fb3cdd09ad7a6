"""Settings → Billing in a real browser, against a server with billing on, localstripe behind our own
Checkout stand-in, and a real worker: the owner upgrades, comes back from Checkout, and the page shows
the new plan when Stripe's signed event has been handled, with no reload."""

from __future__ import annotations

import urllib.request

import pytest
import stripe
from playwright.sync_api import expect

from billing.models import BillingAccount
from billing.tests.localstripe import localstripe_subscribe
from billing.tests.stripe_signing import stripe_event_payload, stripe_signature
from tests.e2e.conftest import logged_in_page, running_server, screenshot
from webhooks.tests.workers import start_worker, stop

pytestmark = pytest.mark.django_db(transaction=True)

BILLING = {
    "STRIPE_SECRET_KEY": "sk_test_browser",
    "STRIPE_WEBHOOK_SECRET": "whsec_browser",
    "STRIPE_PRICE_TEAM_MONTHLY": "price_team_monthly",
    "STRIPE_PRICE_TEAM_YEARLY": "price_team_yearly",
    "STRIPE_PRICE_BUSINESS_MONTHLY": "price_business_monthly",
    "STRIPE_PRICE_BUSINESS_YEARLY": "price_business_yearly",
    # Our Checkout stand-in's pages (billing/tests/stripe_sessions_server.py), not Stripe's.
    "STRIPE_REDIRECT_ORIGINS": "https://checkout.stripe.test,https://billing.stripe.test",
}


def test_an_owner_upgrades_and_sees_the_plan_once_stripes_event_is_handled(
    browser, stripe_api, tx_workspaces
):
    env = {**BILLING, "STRIPE_API_BASE": stripe_api.url}
    with running_server("billing-server", **env) as server:
        worker = start_worker(**env)
        page = logged_in_page(browser, server, tx_workspaces.owner_a, height=900)
        try:
            page.goto(server.workspace_url("alpha", "/settings/billing/"))
            expect(page.locator("#billing-plan h2")).to_have_text("Free")
            team = page.locator(".plan-choice").filter(has_text="Team")
            team.get_by_role("button", name="Monthly").focus()
            # Stripe's Checkout page is not on this machine: the browser being sent there is the point.
            with page.expect_request(
                lambda request: request.url.startswith("https://checkout.stripe.test/")
            ) as sent:
                page.keyboard.press("Enter")
            assert sent.value.url == stripe_api.sessions[-1]["session"]["url"]
            session = stripe_api.sessions[-1]["fields"]
            assert session["client_reference_id"] == str(tx_workspaces.alpha.pk)

            # Paid: Stripe sends the customer back, and its event a moment later.
            page = page.context.new_page()  # the first one is left on the error of Stripe's unreachable page
            page.console_errors = []
            page.on("pageerror", lambda exc: page.console_errors.append(str(exc)))
            page.goto(session["success_url"])
            expect(page.locator("#billing-plan")).to_contain_text("usually within seconds")
            customer = BillingAccount.objects.get(workspace=tx_workspaces.alpha).stripe_customer_id
            client = stripe.StripeClient(BILLING["STRIPE_SECRET_KEY"], base_addresses={"api": stripe_api.url})
            subscription = localstripe_subscribe(client, customer, "price_team_monthly")
            obj = {
                "id": stripe_api.sessions[-1]["session"]["id"],
                "object": "checkout.session",
                "customer": customer,
                "subscription": subscription["id"],
                "client_reference_id": session["client_reference_id"],
            }
            payload = stripe_event_payload(
                event_id="evt_browser_checkout", type="checkout.session.completed", obj=obj
            )
            request = urllib.request.Request(  # noqa: S310 - our own server
                f"{server.public_url}/billing/stripe/webhook/",
                data=payload,
                headers={
                    "Content-Type": "application/json",
                    "Stripe-Signature": stripe_signature(payload, BILLING["STRIPE_WEBHOOK_SECRET"]),
                },
            )
            with urllib.request.urlopen(request, timeout=10) as answered:  # noqa: S310 - our own server
                assert answered.status == 200

            # No reload: the card polls until the worker has handled the event.
            expect(page.locator("#billing-plan h2")).to_have_text("Team", timeout=20_000)
            expect(page.locator("#billing-plan")).to_contain_text("Active")
            expect(page.locator("#billing-body")).not_to_have_attribute("hx-trigger", "every 2s")
            # The whole page follows: Team's limits in the bars, Team marked as the plan.
            expect(page.get_by_label("Websites: 0 of 5")).to_be_visible()
            expect(page.locator(".plan-current h3")).to_have_text("Team")
            screenshot(page, "billing-upgraded")
            assert page.console_errors == []
        finally:
            page.context.close()
            stop(worker)
