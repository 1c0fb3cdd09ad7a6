"""Fixtures (registered by the root conftest): a real localstripe process, our Checkout stand-in in
front of it, and the settings that point the gateway at them."""

import socket
import subprocess
import sys
import time

import pytest

from billing.tests.stripe_sessions_server import StripeSessionsServer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def localstripe_url():
    port = _free_port()
    process = subprocess.Popen(
        # Its entry point run by this interpreter: no path to a script, which other tests' working
        # directories (or a venv made elsewhere) would break.
        [
            sys.executable,
            "-c",
            "import sys; from localstripe.server import start; sys.exit(start())",
            "--port",
            str(port),
            "--from-scratch",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("localstripe did not start") from None
            time.sleep(0.1)
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
