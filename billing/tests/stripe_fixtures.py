"""Fixtures (registered by the root conftest): a real localstripe process, our Checkout stand-in in
front of it, and the settings that point the gateway at them."""

import socket

import pytest

from billing.tests.localstripe import localstripe_start
from billing.tests.stripe_sessions_server import StripeSessionsServer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe_url():
    port = _free_port()
    process = localstripe_start(port)
    url = f"http://127.0.0.1:{port}"
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def stripe_api(localstripe_url):
    """One Stripe base URL: Checkout and Portal sessions answered by us, the rest by localstripe."""
    server = StripeSessionsServer(localstripe_url)
    server.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def stripe_on(settings, stripe_api):
    """Billing on, the SDK talking to localstripe, Team and Business prices that exist there."""
    settings.STRIPE_SECRET_KEY = "sk_test_parley"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_parley"
    settings.STRIPE_API_BASE = stripe_api.url
    settings.STRIPE_PRICE_TEAM_MONTHLY = "price_team_monthly"
    settings.STRIPE_PRICE_TEAM_YEARLY = "price_team_yearly"
    settings.STRIPE_PRICE_BUSINESS_MONTHLY = "price_business_monthly"
    settings.STRIPE_PRICE_BUSINESS_YEARLY = "price_business_yearly"
    return settings
