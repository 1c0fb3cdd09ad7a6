"""The outbound POST: SSRF refusals for every address family, a host name that resolves to one, the
address checked is the address connected to, timeouts, no redirects, the first 1 KB kept."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest

from webhooks import sender


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.10", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("169.254.169.254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 (an address to refuse, not one to bind)
        ("::", "unspecified"),
        ("100.64.0.1", "not a public"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4 inside IPv6
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
    ],
)
def test_our_own_networks_are_refused(address, why):
    assert why in sender.address_refusal(ipaddress.ip_address(address), allow_private=False)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"])
def test_public_addresses_pass(address):
    assert sender.address_refusal(ipaddress.ip_address(address), allow_private=False) is None


def test_development_allows_private_targets_but_never_metadata():
    assert sender.address_refusal(ipaddress.ip_address("127.0.0.1"), allow_private=True) is None
    assert "metadata" in sender.address_refusal(ipaddress.ip_address("169.254.169.254"), allow_private=True)


def post(url: str, **kwargs) -> sender.Outcome:
    options = {"timeout": 5.0, "allow_private": False, "require_https": False} | kwargs
    return asyncio.run(sender.post(url, b"{}", {}, **options))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://[::1]:9/x",
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest/meta-data",
    ],
)
def test_a_post_to_our_networks_is_refused_before_connecting(url, receiver):
    outcome = post(url)
    assert outcome.status_code is None and outcome.error.startswith("refused:")


def test_a_host_name_that_resolves_to_loopback_is_refused(receiver):
    port = receiver.server.server_address[1]
    outcome = post(f"http://localhost:{port}/hooks")
    assert outcome.error.startswith("refused: localhost resolves to") and "loopback" in outcome.error
    assert receiver.received == [], "nothing was sent"


def test_the_connection_goes_to_the_address_that_was_checked(receiver, monkeypatch):
    """A second lookup could answer differently (DNS rebinding): there is none."""
    port = receiver.server.server_address[1]
    lookups = []
    real = asyncio.base_events.BaseEventLoop.getaddrinfo

    async def counting(self, host, *args, **kwargs):
        lookups.append(host)
        return await real(self, host, *args, **kwargs)

    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "getaddrinfo", counting)
    outcome = post(f"http://localhost:{port}/hooks", allow_private=True)
    assert outcome.status_code == 200
    assert lookups == ["localhost"]
    assert receiver.received[0].headers["host"] == f"localhost:{port}"


def test_https_is_required_where_configured():
    assert "https://" in post("http://example.com/x", require_https=True).error
    with pytest.raises(sender.TargetRefused):
        sender.url_check("ftp://example.com/x", require_https=False)
    with pytest.raises(sender.TargetRefused, match="credentials"):
        sender.url_check("https://user:pw@example.com/x", require_https=True)


def test_a_receiver_that_does_not_answer_in_time_is_a_timeout(receiver):
    receiver.answers = ["hang"]
    receiver.hang_for = 3
    outcome = post(receiver.url, allow_private=True, timeout=0.5)
    assert outcome.status_code is None and outcome.error == "no response within 0.5 s"
    assert 450 <= outcome.duration_ms < 2000


def test_a_closed_port_is_a_connection_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outcome = post(f"http://127.0.0.1:{port}/", allow_private=True)
    assert outcome.status_code is None and "ConnectionRefused" in outcome.error


def test_only_the_first_kilobyte_of_the_answer_is_kept(receiver):
    receiver.reply_body = b"x" * 5000
    outcome = post(receiver.url, allow_private=True)
    assert outcome.status_code == 200 and outcome.body == "x" * 1024
