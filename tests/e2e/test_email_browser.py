"""Every HTML email, drawn by Chromium at a phone's and a desktop's width: nothing wider than the
screen, the code and the button visible. Screenshots in test-artifacts/email-<name>-<width>.png."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mail import gateway
from tests.e2e.conftest import ARTIFACTS

INVITE = "http://alpha.localhost:8000/invite/kZ3v0cJ9xq1n0Lq2oR5bYw8hT4mP6sA1dE7fG2hJ9kL/"
EMAILS = {
    "account/email_confirmation_signup": {
        "email": "owner@harbor.example",
        "code": "K7PX-3QMT",
        "expires_in": "15 minutes",
    },
    "account/email_confirmation": {
        "email": "sam@corp.example",
        "code": "K7PX-3QMT",
        "expires_in": "15 minutes",
    },
    "account/password_reset_code": {
        "email": "owner@harbor.example",
        "code": "K7PX-3QMT",
        "expires_in": "3 minutes",
    },
    "account/unknown_account": {
        "email": "nobody@example.com",
        "signup_url": "http://localhost:8000/accounts/signup/",
    },
    "account/account_already_exists": {
        "email": "owner@harbor.example",
        "password_reset_url": "http://localhost:8000/accounts/password/reset/",
    },
    "invitation": {
        "inviter": "Ana Owner",
        "inviter_email": "owner-a@example.com",
        "workspace_name": "Harbor Coffee",
        "role": "Agent",
        "link": INVITE,
        "lifetime_days": 7,
    },
    "account_taken_back": {
        "removed": {
            "addresses": ["attacker@evil.example"],
            "api_keys": 1,
            "workspaces": ["Beta Support (admin)"],
        },
        "reset_url": "http://localhost:8000/accounts/password/reset/",
    },
    "webhook_endpoint_disabled": {
        "workspace_name": "Harbor Coffee",
        "endpoint_url": "https://crm.harbor.example/hooks/parley/incoming-events-with-a-long-path",
        "failing_since": datetime(2026, 11, 28, 9, 15, tzinfo=UTC),
        "disabled_reason": "Every delivery failed since 2026-11-28 09:15 UTC (last: HTTP 502).",
        "endpoint_page": "http://alpha.localhost:8000/settings/webhooks/3/",
    },
    "billing_payment_failed": {
        "workspace_name": "Harbor Coffee",
        "plan_name": "Team",
        "grace_ends": datetime(2026, 12, 10, 9, 15, tzinfo=UTC),
        "billing_page": "http://alpha.localhost:8000/settings/billing/",
    },
    "billing_usage": {
        "workspace_name": "Harbor Coffee",
        "plan_name": "Free",
        "used": 83,
        "limit": 100,
        "level": 80,
        "billing_page": "http://alpha.localhost:8000/settings/billing/",
    },
}


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("name", sorted(EMAILS))
def test_each_email_fits_the_screen(browser, name, width):
    message = gateway.render(name, to="someone@example.com", context=EMAILS[name])
    ((html, _),) = message.alternatives
    page = browser.new_page(viewport={"width": width, "height": 800})
    try:
        page.set_content(html)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.title() == message.subject
        card = page.locator(".mail-card")
        assert card.is_visible() and card.bounding_box()["width"] <= 560
        if "code" in EMAILS[name]:
            code = page.locator(".mail-code")
            assert code.inner_text() == "K7PX-3QMT"
            assert float(code.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 28
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"email-{name.replace('/', '-')}-{width}.png"), full_page=True)
    finally:
        page.close()
