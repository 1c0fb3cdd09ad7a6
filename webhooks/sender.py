"""One webhook POST, guarded against server-side request forgery.

The host is resolved once; every address it resolves to must be public (not loopback, private,
link-local, multicast, reserved or a cloud metadata service, in IPv4 or IPv6, including IPv4 inside
IPv6); the connection goes to the address that was checked, so a second lookup cannot swap it.
Redirects are not followed: a 3xx is a failed attempt like any other non-2xx.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import h11

RESPONSE_BODY_KEPT = 1024
USER_AGENT = "Parley-Webhooks/1.0"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services: AWS, GCP and Azure (169.254.169.254), AWS ECS, Alibaba, Oracle, AWS IPv6.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)


class TargetRefused(Exception):
    """The URL may not be called: its scheme, or an address its host resolves to."""


@dataclass(frozen=True)
class Outcome:
    status_code: int | None  # None: no response (refused, timeout, connection error)
    body: str  # the first 1 KB of the response
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def address_refusal(ip: IPAddress, *, allow_private: bool) -> str | None:
    """Why a delivery may not go to `ip`, or None. `allow_private` (development and tests) lets
    loopback and private networks through, never a metadata service."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and (reason := address_refusal(embedded, allow_private=allow_private)):
            return reason
    if ip in METADATA_ADDRESSES:
        return f"{ip} is a cloud metadata address"
    if allow_private:
        return None
    for test, what in (
        (ip.is_unspecified, "an unspecified"),
        (ip.is_loopback, "a loopback"),
        (ip.is_link_local, "a link-local"),
        (ip.is_multicast, "a multicast"),
        (ip.is_private, "a private"),
        (ip.is_reserved or not ip.is_global, "not a public"),
    ):
        if test:
            return f"{ip} is {what} address"
    return None


def url_check(url: str, *, require_https: bool) -> tuple[str, str, int, str]:
    """(scheme, host, port, request target) of a URL deliveries may use, or TargetRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from exc
    allowed = ("https",) if require_https else ("https", "http")
    if parts.scheme not in allowed:
        raise TargetRefused(
            "the URL must start with https://" if require_https else "use http:// or https://"
        )
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username or parts.password:
        raise TargetRefused("credentials in the URL are not allowed; check the signature instead")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), target


async def address_resolve(host: str, port: int, *, allow_private: bool) -> str:
    """The one address to connect to: every address of `host` is checked, the first is used."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"cannot resolve {host}: {exc.strerror or exc}") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    for ip in addresses:
        if reason := address_refusal(ip, allow_private=allow_private):
            raise TargetRefused(f"{host} resolves to {reason}" if str(ip) != host else reason)
    if not addresses:
        raise TargetRefused(f"{host} has no address")
    return str(addresses[0])


@cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


async def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    allow_private: bool,
    require_https: bool,
) -> Outcome:
    """POST `body` to `url`; whatever happens comes back as an Outcome, never as an exception."""
    started = time.perf_counter()

    def outcome(status_code: int | None = None, body: bytes = b"", error: str = "") -> Outcome:
        elapsed = round((time.perf_counter() - started) * 1000)
        return Outcome(status_code, body.decode("utf-8", "replace"), error[:300], elapsed)

    try:
        scheme, host, port, target = url_check(url, require_https=require_https)
        async with asyncio.timeout(timeout):
            address = await address_resolve(host, port, allow_private=allow_private)
            status_code, kept = await _exchange(scheme, host, port, address, target, body, headers)
        return outcome(status_code, kept)
    except TargetRefused as exc:
        return outcome(error=f"refused: {exc}")
    except TimeoutError:
        return outcome(error=f"no response within {timeout:g} s")
    except (OSError, h11.ProtocolError, ssl.SSLError) as exc:
        return outcome(error=f"{type(exc).__name__}: {exc}")


async def _exchange(
    scheme: str, host: str, port: int, address: str, target: str, body: bytes, headers: dict[str, str]
) -> tuple[int, bytes]:
    tls = scheme == "https"
    reader, writer = await asyncio.open_connection(
        address, port, ssl=_tls_context() if tls else None, server_hostname=host if tls else None
    )
    try:
        http = h11.Connection(h11.CLIENT)
        default_port = 443 if tls else 80
        request = h11.Request(
            method="POST",
            target=target,
            headers=[
                ("Host", host if port == default_port else f"{host}:{port}"),
                ("User-Agent", USER_AGENT),
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Connection", "close"),
                *headers.items(),
            ],
        )
        writer.write(http.send(request) + http.send(h11.Data(data=body)) + http.send(h11.EndOfMessage()))
        await writer.drain()
        status_code, kept = None, bytearray()
        while True:
            event = http.next_event()
            if event is h11.NEED_DATA:
                http.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Response):
                status_code = event.status_code
            elif isinstance(event, h11.Data):
                kept += event.data[: RESPONSE_BODY_KEPT - len(kept)]
                if len(kept) >= RESPONSE_BODY_KEPT:
                    break  # the rest is not kept, so not read
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                break
        if status_code is None:
            raise h11.RemoteProtocolError("the connection closed before a response")
        return status_code, bytes(kept)
    finally:
        writer.close()
