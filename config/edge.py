"""The first thing every HTTP request and WebSocket meets: who the client is, and the access log.

Anyone can send `X-Forwarded-For`, so it says who the client is only when it comes from one of our
own proxies (`PARLEY_TRUSTED_PROXIES`). This is the one place that decides: uvicorn runs with
`--no-proxy-headers` (its default trusts 127.0.0.1, and the image once trusted "*"), and allauth
reads `REMOTE_ADDR`, which is this scope's client (see accounts.adapter.AccountAdapter.get_client_ip).
Every per-address limit (widget connections and messages, login, sign-up) counts what this sets.

The access log is written here too (uvicorn's own is off: `--no-access-log`), one line per request
or WebSocket handshake on the `parley.access` logger, without what would make it a store of keys:
no query string (handoff links carry their token there) and no secret path segment (invitations,
password resets, email confirmations: SECRET_PATH_SEGMENTS).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Iterable
from urllib.parse import quote

access_log = logging.getLogger("parley.access")

# Paths that carry a secret as a segment: the part after the prefix is replaced by "…" in logs.
# A URL added with a token in its path belongs here (config/tests/test_edge.py checks every
# URL pattern with a token, key or uidb36 argument is covered). allauth's key links are off (codes
# are mailed instead) but stay listed: a link from an older mail still arrives, as a 404 whose
# path Django logs too.
SECRET_PATH_SEGMENTS = re.compile(
    r"^(?P<prefix>/invite/|/accounts/password/reset/key/(?!done/)|/accounts/confirm-email/)[^/]+"
)
# Printable characters that read the same in a URL; everything else (spaces, quotes, control
# characters, non-ASCII) is percent-encoded, so a path cannot forge or split a log line.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def loggable_path(path: str) -> str:
    """A request's path (decoded, without its query string) as the logs may show it."""
    return SECRET_PATH_SEGMENTS.sub(r"\g<prefix>…", quote(path, safe=_PATH_SAFE))


class RedactSecretPaths(logging.Filter):
    """For Django's own request warnings ("Gone: /invite/<token>/"): the path as loggable_path gives it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                loggable_path(arg) if isinstance(arg, str) and arg.startswith("/") else arg
                for arg in record.args
            )
        return True


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


class DropUvicornSocketLines(logging.Filter):
    """uvicorn logs every WebSocket handshake with its query string on its error logger, whatever
    --no-access-log says; the access log has that line already, without the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith('%s - "WebSocket %s"'))


class EdgeMiddleware:
    """Sets scope["client"] from X-Forwarded-For when, and only when, the peer is a trusted proxy,
    and writes one access line per request (when it is answered) or WebSocket (at its handshake)."""

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
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        if self.trusted:
            scope = dict(scope, client=self.client_of(scope))
        if not access_log.isEnabledFor(logging.INFO):
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status: int | None = None
        logged = False

        def log(final_status: int) -> None:
            nonlocal logged
            logged = True
            client = scope.get("client")
            access_log.info(
                '%s "%s %s" %d %.1fms',
                client[0] if client else "-",
                scope.get("method", "WS"),
                loggable_path(scope.get("path", "")),
                final_status,
                (time.perf_counter() - started) * 1000,
            )

        async def send_and_note(message):
            nonlocal status
            if not logged:
                kind_sent = message["type"]
                if kind_sent in ("http.response.start", "websocket.http.response.start"):
                    status = message["status"]
                elif kind_sent == "websocket.accept":
                    log(101)  # a socket's line is its handshake's, not its lifetime's
                elif kind_sent == "websocket.close" and status is None:
                    log(403)  # closed before accepting: uvicorn answers 403
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            if not logged:
                log(status or 500)  # no answer started: uvicorn answers 500
