"""The first thing every HTTP request and WebSocket meets: who the client is.

Anyone can send `X-Forwarded-For`, so it says who the client is only when it comes from one of our
own proxies (`PARLEY_TRUSTED_PROXIES`). This is the one place that decides: uvicorn runs with
`--no-proxy-headers` (its default trusts 127.0.0.1, and the image once trusted "*"), and allauth
reads `REMOTE_ADDR`, which is this scope's client (see accounts.adapter.AccountAdapter.get_client_ip).
Every per-address limit (widget connections and messages, login, sign-up) counts what this sets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def trusted_networks(entries: Iterable[str]) -> list[IPNetwork]:
    """Addresses and CIDR blocks (`10.0.0.0/8`, `::1`) as networks; ValueError names a bad entry."""
    networks = []
    for entry in (entry.strip() for entry in entries):
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network") from None
    return networks


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; the configured list says a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class EdgeMiddleware:
    """Sets scope["client"] from X-Forwarded-For when, and only when, the peer is a trusted proxy."""

    def __init__(self, app, *, trusted_proxies: Iterable[str]) -> None:
        self.app = app
        self.trusted = trusted_networks(trusted_proxies)

    def _is_trusted(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in network for network in self.trusted)

    def client_of(self, scope: dict) -> tuple[str, int] | None:
        """The client as the trusted chain tells it: the header is walked from the right (each proxy
        appends the address it saw) past our own proxies; the first address that is not one of
        them is the client. A hop that is not an address ends the walk at the last proxy we trust."""
        peer = scope.get("client")
        if not self.trusted or not peer or not self._is_trusted(_address(peer[0])):
            return peer
        forwarded = b",".join(value for name, value in scope.get("headers", []) if name == b"x-forwarded-for")
        client = peer
        for hop in reversed(forwarded.decode("latin-1").split(",")):
            address = _address(hop)
            if address is None:
                break
            client = (str(address), 0)
            if not self._is_trusted(address):
                break
        return client

    async def __call__(self, scope, receive, send):
        if self.trusted and scope["type"] in ("http", "websocket"):
            scope = dict(scope, client=self.client_of(scope))
        return await self.app(scope, receive, send)
