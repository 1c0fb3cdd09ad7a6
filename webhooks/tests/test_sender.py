"""The outbound POST: SSRF refusals for every address family, a host name that resolves to one, the
address checked is the address connected to, timeouts, no redirects, the first 1 KB kept."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest

from webhooks import sender
from webhooks.tests.refused_targets import REFUSED


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


def test_an_answer_of_junk_bytes_comes_back_as_text_postgresql_can_store(receiver):
    # NUL (which a PostgreSQL text value cannot hold), invalid UTF-8, and a character cut in two by
    # the 1 KB limit: each becomes U+FFFD, the rest is kept as it was.
    receiver.reply_body = b"ok\x00so \xff\xfe far" + b"x" * 1011 + "é".encode() + b"tail"
    outcome = post(receiver.url, allow_private=True)
    assert outcome.status_code == 200
    assert outcome.body == "ok\ufffdso \ufffd\ufffd far" + "x" * 1011 + "\ufffd"
    assert "\x00" not in outcome.body


class KeepAliveReceiver:
    """An HTTP/1.1 receiver on loopback that keeps connections open, as most servers do, and
    records which connection each request came on. `drop_on_reuse`: a connection's second request
    is read and the connection closed without an answer (a server that timed it out just then)."""

    def __init__(self, *, reply_body: bytes = b"ok", drop_on_reuse: bool = False):
        self.reply_body, self.drop_on_reuse = reply_body, drop_on_reuse
        self.requests: list[int] = []  # the connection number of each request answered
        self.connections = 0
        self.closed_by_client = 0

    async def start(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hooks"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        number, served = self.connections, 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                if served and self.drop_on_reuse:
                    break
                served += 1
                self.requests.append(number)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s"
                    % (len(self.reply_body), self.reply_body)
                )
                await writer.drain()
        except asyncio.IncompleteReadError:
            self.closed_by_client += 1
        finally:
            writer.close()


def post_several(receiver: KeepAliveReceiver, count: int, *, pause: float = 0.0) -> list[sender.Outcome]:
    async def run():
        url = await receiver.start()
        outcomes = []
        for _ in range(count):
            outcomes.append(
                await sender.post(url, b"{}", {}, timeout=5, allow_private=True, require_https=False)
            )
            await asyncio.sleep(pause)
        await asyncio.sleep(0.05)  # the receiver notices closed connections
        receiver.server.close()
        return outcomes

    return asyncio.run(run())


def test_deliveries_to_one_host_reuse_a_kept_alive_connection():
    receiver = KeepAliveReceiver()
    outcomes = post_several(receiver, 5)
    assert [o.status_code for o in outcomes] == [200] * 5
    assert receiver.requests == [1] * 5, "one connection for all five"


def test_a_kept_connection_the_receiver_dropped_is_replaced_and_the_request_sent_again():
    receiver = KeepAliveReceiver(drop_on_reuse=True)
    outcomes = post_several(receiver, 3)
    assert [o.status_code for o in outcomes] == [200] * 3
    assert receiver.requests == [1, 2, 3], "each request answered once, on a new connection"


def test_a_connection_is_not_kept_past_its_idle_time(monkeypatch):
    monkeypatch.setattr(sender, "IDLE_KEPT_FOR", 0.1)
    receiver = KeepAliveReceiver()
    outcomes = post_several(receiver, 2, pause=0.3)
    assert [o.status_code for o in outcomes] == [200] * 2
    assert receiver.requests == [1, 2] and receiver.closed_by_client == 2, "we closed each when idle"


def test_a_connection_whose_answer_was_not_read_to_the_end_is_not_reused():
    receiver = KeepAliveReceiver(reply_body=b"x" * 5000)
    outcomes = post_several(receiver, 2)
    assert [o.body for o in outcomes] == ["x" * 1024] * 2
    assert receiver.requests == [1, 2]


@pytest.mark.parametrize(("url", "why"), [(url, why) for url, why in REFUSED if why != "cannot resolve"])
def test_every_form_of_an_address_is_refused_at_delivery_too(url, why, receiver):
    """Names can change what they resolve to after an endpoint is saved: each delivery checks again."""
    outcome = post(url)
    assert outcome.status_code is None and outcome.error.startswith("refused:") and why in outcome.error
    assert receiver.received == []
