"""Settings → Webhooks in a real browser, with a real worker and a receiver on loopback: an owner adds
an endpoint from the keyboard, copies its secret, sends a test event, and reads the attempt in the log."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from standardwebhooks import Webhook

from tests.e2e.conftest import logged_in_page, screenshot
from tests.polling import eventually
from webhooks.tests.receiver import Receiver
from webhooks.tests.workers import start_worker, stop

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_adds_an_endpoint_sends_a_test_event_and_reads_the_log(
    live_server_asgi, browser, tx_workspaces
):
    receiver = Receiver(reply_body=b'{"received": true}').start()
    worker = start_worker()
    page = logged_in_page(browser, live_server_asgi, tx_workspaces.owner_a, height=900)
    try:
        page.goto(live_server_asgi.workspace_url("alpha", "/settings/webhooks/"))
        expect(page.locator(".empty")).to_contain_text("No endpoint yet")
        page.get_by_role("link", name="Add an endpoint").click()
        page.get_by_label("Endpoint URL").fill(receiver.url)
        page.keyboard.press("Tab")
        page.keyboard.type("Our CRM")
        page.get_by_role("checkbox", name="message.created ·").check()
        page.get_by_role("checkbox", name="conversation.created ·").check()
        screenshot(page, "webhooks-new")
        page.get_by_role("button", name="Add endpoint").press("Enter")

        secret = page.locator("#signing-secret").inner_text()
        assert secret.startswith("whsec_")
        page.get_by_role("button", name="Send test event").click()
        expect(page.locator(".messages")).to_contain_text("Test event queued")
        receiver.wait_for(1)
        assert Webhook(secret).verify(receiver.received[0].body, receiver.received[0].headers)["type"] == (
            "webhook.test"
        )

        # The receiver has the request; the worker records the attempt a moment later.
        row = page.locator(".delivery").first

        def delivered() -> bool:
            page.reload()  # the secret is gone; the delivery is in the log
            return "Delivered" in row.inner_text()

        eventually(delivered, timeout=15, interval=0.2, what="the delivery shown as delivered")
        expect(page.locator("#signing-secret")).to_have_count(0)
        expect(row).to_contain_text("webhook.test")
        expect(row).to_contain_text("Delivered")
        row.locator("summary").focus()
        page.keyboard.press("Enter")  # opens it; its attempts load
        expect(page.locator(".delivery table")).to_contain_text("200")
        expect(page.locator(".response-body")).to_contain_text('{"received": true}')
        screenshot(page, "webhooks-endpoint")

        page.get_by_label("Status", exact=True).select_option("failed")
        expect(page.locator("#delivery-log")).to_contain_text("No deliveries match these filters")
        assert "status=failed" in page.url
        assert page.console_errors == []
    finally:
        stop(worker)
        receiver.stop()
        page.context.close()


def test_a_url_that_reaches_a_metadata_service_is_refused_on_the_form_with_the_reason(
    live_server_asgi, browser, tx_workspaces
):
    """Here private targets are allowed (tests); a metadata service never is, in any form."""
    page = logged_in_page(browser, live_server_asgi, tx_workspaces.owner_a, height=700)
    try:
        for width, url, reason in (
            (1280, "http://0xa9fea9fe/latest/meta-data", "0xa9fea9fe resolves to 169.254.169.254 is a cloud"),
            (390, "http://metadata.google.internal/v1/", "metadata.google.internal is a cloud metadata host"),
        ):
            page.set_viewport_size({"width": width, "height": 700})
            page.goto(live_server_asgi.workspace_url("alpha", "/settings/webhooks/new/"))
            page.get_by_label("Endpoint URL").fill(url)
            page.get_by_role("checkbox", name="message.created ·").check()
            page.get_by_role("button", name="Add endpoint").press("Enter")
            expect(page.get_by_text("This URL cannot receive webhooks")).to_contain_text(reason)
            expect(page.get_by_label("Endpoint URL")).to_have_value(url)
            screenshot(page, f"webhooks-refused-{width}")
        assert page.console_errors == []
    finally:
        page.context.close()
