"""Per-address limits count the real peer, whatever X-Forwarded-For says, unless a trusted proxy says it.

Each test runs its own uvicorn (the command line the image uses: --no-proxy-headers) with a low
connection limit and Redis keys of its own, so counts start at zero and no other test shares them.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import uuid

import pytest
import requests
from websockets.sync.client import connect

from tests.e2e.conftest import running_server
from widget import rate_limits

# The servers need the test database to exist; these tests write nothing to it.
pytestmark = pytest.mark.django_db

CONNECT_LIMIT = 3


def _server(**env: str):
    return running_server(
        log_name=f"client-address-{uuid.uuid4().hex[:6]}",
        PARLEY_RATE_IP_CONNECTS=str(CONNECT_LIMIT),
        REDIS_KEY_PREFIX=f"parley-test-{uuid.uuid4().hex}",
        **env,
    )


def _widget_refusal(server, forwarded_for: str) -> int:
    """Open the widget socket with an unknown site key and this X-Forwarded-For; the refusal's code
    (4404 unknown site while within the connection limit, 4429 past it)."""
    url = f"ws://localhost:{server.port}/ws/widget/?site=pk_unknown"
    with connect(url, additional_headers={"X-Forwarded-For": forwarded_for}, open_timeout=10) as socket:
        return json.loads(socket.recv(timeout=10))["code"]


def _early_in_a_window() -> None:
    """Return once the widget limits' minute has at least 20 s to run, so a test's connections all
    fall in one window (the counts restart each minute)."""
    deadline = time.monotonic() + 30
    while rate_limits.WINDOW_SECONDS - time.time() % rate_limits.WINDOW_SECONDS < 20:
        assert time.monotonic() < deadline
        time.sleep(0.2)


_addresses = itertools.count(1)


def _new_address(network: str) -> str:
    """An address of `network` (a /16 written "a.b") that no other connection of this module used."""
    n = next(_addresses)
    return f"{network}.{n // 250}.{n % 250 + 1}"


@pytest.fixture(scope="module")
def untrusting_server(django_db_setup):
    with _server() as server:  # PARLEY_TRUSTED_PROXIES unset: nothing is trusted
        yield server


@pytest.fixture(scope="module")
def server_behind_our_proxy(django_db_setup):
    # The tests connect from 127.0.0.1: here they play the part of the proxy.
    with _server(PARLEY_TRUSTED_PROXIES="10.9.9.9, 127.0.0.0/8") as server:
        yield server


def test_a_forged_forwarded_for_does_not_reset_the_widget_connection_limit(untrusting_server):
    _early_in_a_window()
    codes = [_widget_refusal(untrusting_server, _new_address("203.0")) for _ in range(CONNECT_LIMIT + 1)]
    assert codes == [4404] * CONNECT_LIMIT + [4429]


def test_a_forged_forwarded_for_does_not_reset_the_login_limit(untrusting_server):
    # allauth's "login_failed" allows 10 failures a minute per address (config/settings/base.py),
    # then refuses the form with this error; a new email each time keeps its per-email limit away.
    session = requests.Session()
    login_url = f"http://localhost:{untrusting_server.port}/accounts/login/"
    page = session.get(login_url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    refused = []
    for _ in range(11):
        answer = session.post(
            login_url,
            data={"login": f"nobody-{uuid.uuid4().hex}@example.com", "password": "wrong-password-x",
                  "csrfmiddlewaretoken": token},
            headers={"X-Forwarded-For": _new_address("198.51"), "Referer": login_url},
            timeout=10,
        )  # fmt: skip
        assert answer.status_code == 200
        refused.append("Too many failed login attempts" in answer.text)
    assert refused == [False] * 10 + [True]


def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(server_behind_our_proxy):
    _early_in_a_window()
    different = [
        _widget_refusal(server_behind_our_proxy, _new_address("192.0")) for _ in range(CONNECT_LIMIT + 2)
    ]
    assert different == [4404] * (CONNECT_LIMIT + 2)  # one connection each: none over the limit
    # One visitor, through our other proxy (10.9.9.9, trusted, so skipped when reading from the right).
    visitor = _new_address("192.0")
    same = [
        _widget_refusal(server_behind_our_proxy, f"{visitor}, 10.9.9.9") for _ in range(CONNECT_LIMIT + 1)
    ]
    assert same == [4404] * CONNECT_LIMIT + [4429]


def test_a_client_cannot_hide_behind_an_address_it_writes_left_of_itself(server_behind_our_proxy):
    # A proxy appends the address it saw; whatever the client wrote before that is not read.
    _early_in_a_window()
    visitor = _new_address("192.0")
    codes = [
        _widget_refusal(server_behind_our_proxy, f"{_new_address('203.0')}, {visitor}")
        for _ in range(CONNECT_LIMIT + 1)
    ]
    assert codes == [4404] * CONNECT_LIMIT + [4429]


def test_a_trusted_proxy_that_sends_no_header_is_the_client(server_behind_our_proxy):
    _early_in_a_window()
    url = f"ws://localhost:{server_behind_our_proxy.port}/ws/widget/?site=pk_unknown"
    codes = []
    for _ in range(CONNECT_LIMIT + 1):
        with connect(url, open_timeout=10) as socket:
            codes.append(json.loads(socket.recv(timeout=10))["code"])
    assert codes == [4404] * CONNECT_LIMIT + [4429]
