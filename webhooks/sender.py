"""One webhook POST, guarded against server-side request forgery.

The host is resolved once; every address it resolves to must be public (not loopback, private,
link-local, multicast, reserved or a cloud metadata service, in IPv4 or IPv6, including IPv4 inside
IPv6); the connection goes to the address that was checked, so a second lookup cannot swap it. A host
written as an address is read as the C library reads it (2130706433, 0x7f000001, 0177.0.0.1 and
127.1 are all 127.0.0.1; a trailing dot changes nothing), and a metadata service's name is refused
whatever it resolves to. Endpoints are checked the same way when they are saved (`target_check`).
Redirects are not followed: a 3xx is a failed attempt like any other non-2xx.

Connections are kept alive between deliveries to the same host (per event loop, a few seconds idle
at most): a busy endpoint costs one connection per slot, not one per event. A kept connection was
opened to a checked address, so reusing it needs no second lookup either.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import time
import weakref
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import h11

RESPONSE_BODY_KEPT = 1024
USER_AGENT = "Parley-Webhooks/1.0"
# Below the shortest keep-alive timeout of common servers (gunicorn's 2 s), so a receiver rarely
# closes a connection just as we reuse it; when one does, the request goes again on a new one.
IDLE_KEPT_FOR = 1.5
IDLE_KEPT_PER_HOST = 16

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services: AWS, GCP and Azure (169.254.169.254), AWS ECS, Alibaba, Oracle, AWS IPv6.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)
# Their names: GCP's, AWS's. They resolve only inside their cloud, so they are refused by name too.
METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}
)
# One to four dot-separated numbers, each decimal, octal (leading 0) or hex (0x): the IPv4 forms
# inet_aton reads, as resolvers, curl and browsers do. Anything else is a name.
_INET_ATON_FORM = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}")


class TargetRefused(Exception):
    """The URL may not be called: its scheme, or an address its host resolves to."""


@dataclass(frozen=True)
class Outcome:
    status_code: int | None  # None: no response (refused, timeout, connection error)
    body: str  # the first 1 KB of the response, as storable text (see storable_text)
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def storable_text(text: str) -> str:
    """`text` as a PostgreSQL text value can hold it: NUL, which it cannot, becomes U+FFFD (as
    invalid UTF-8 already has in decoding). A receiver's answer is anything it likes; recording
    the attempt must not fail on it."""
    return text.replace("\x00", "\ufffd")


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


def _written_address(host: str) -> IPAddress | None:
    """The address `host` is written as, read as the C library reads it, or None for a name;
    TargetRefused for a metadata service's name."""
    name = host.lower().removesuffix(".")
    if name in METADATA_HOSTS:
        raise TargetRefused(f"{host} is a cloud metadata host")
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if _INET_ATON_FORM.fullmatch(name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def _checked(host: str, addresses: list[IPAddress], *, allow_private: bool) -> str:
    """The address to connect to (the first) once every one of `addresses` passes, else TargetRefused."""
    for ip in addresses:
        if reason := address_refusal(ip, allow_private=allow_private):
            raise TargetRefused(f"{host} resolves to {reason}" if str(ip) != host else reason)
    if not addresses:
        raise TargetRefused(f"{host} has no address")
    return str(addresses[0])


def _looked_up(infos: list) -> list[IPAddress]:
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def _lookup_refused(host: str, exc: OSError) -> TargetRefused:
    return TargetRefused(f"cannot resolve {host}: {exc.strerror or exc}")


async def address_resolve(host: str, port: int, *, allow_private: bool) -> str:
    """The one address to connect to: every address of `host` is checked, the first is used."""
    written = _written_address(host)
    if written is not None:
        return _checked(host, [written], allow_private=allow_private)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host.removesuffix("."), port, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise _lookup_refused(host, exc) from exc
    return _checked(host, _looked_up(infos), allow_private=allow_private)


def target_check(host: str, port: int, *, allow_private: bool) -> None:
    """address_resolve's check, for saving an endpoint (synchronous): TargetRefused with the reason a
    delivery would log. Where private targets are allowed (development, tests) a name is not looked
    up here, only what it is written as; every delivery looks it up again anyway, since a name can
    change what it resolves to after it is saved."""
    written = _written_address(host)
    if written is not None:
        _checked(host, [written], allow_private=allow_private)
        return
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(host.removesuffix("."), port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise _lookup_refused(host, exc) from exc
    _checked(host, _looked_up(infos), allow_private=allow_private)


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
        return Outcome(
            status_code, storable_text(body.decode("utf-8", "replace")), storable_text(error[:300]), elapsed
        )

    try:
        scheme, host, port, target = url_check(url, require_https=require_https)
        async with asyncio.timeout(timeout):
            request = _request(scheme, host, port, target, body, headers)
            status_code, kept = await _exchange_kept(scheme, host, port, request, allow_private=allow_private)
        return outcome(status_code, kept)
    except TargetRefused as exc:
        return outcome(error=f"refused: {exc}")
    except TimeoutError:
        return outcome(error=f"no response within {timeout:g} s")
    except (OSError, h11.ProtocolError, ssl.SSLError) as exc:
        return outcome(error=f"{type(exc).__name__}: {exc}")


@dataclass(eq=False)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    http: h11.Connection
    closer: asyncio.TimerHandle | None = None  # while idle: closes it once kept long enough

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        if self.closer is not None:
            self.closer.cancel()
        self.writer.close()


# Per event loop: (scheme, host, port, allow_private) -> idle connections, the latest last.
_idle: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, list[_Connection]]] = (
    weakref.WeakKeyDictionary()
)


def _idle_of(key: tuple) -> list[_Connection]:
    return _idle.setdefault(asyncio.get_running_loop(), {}).setdefault(key, [])


def _checkout(key: tuple) -> _Connection | None:
    idle = _idle_of(key)
    while idle:
        kept = idle.pop()
        kept.closer.cancel()
        kept.closer = None
        if kept.usable():
            return kept
        kept.close()
    return None


def _checkin(key: tuple, kept: _Connection) -> None:
    idle = _idle_of(key)
    if len(idle) >= IDLE_KEPT_PER_HOST:
        kept.close()
        return

    def expire() -> None:
        if kept in idle:
            idle.remove(kept)
        kept.closer = None
        kept.close()

    kept.closer = asyncio.get_running_loop().call_later(IDLE_KEPT_FOR, expire)
    idle.append(kept)


async def _open(scheme: str, host: str, port: int, *, allow_private: bool) -> _Connection:
    address = await address_resolve(host, port, allow_private=allow_private)
    tls = scheme == "https"
    reader, writer = await asyncio.open_connection(
        address, port, ssl=_tls_context() if tls else None, server_hostname=host if tls else None
    )
    return _Connection(reader, writer, h11.Connection(h11.CLIENT))


class _ClosedBeforeResponse(Exception):
    """A kept connection turned out closed before any of the response arrived."""


def _request(scheme: str, host: str, port: int, target: str, body: bytes, headers: dict[str, str]) -> list:
    """The h11 events of the POST."""
    default_port = 443 if scheme == "https" else 80
    return [
        h11.Request(
            method="POST",
            target=target,
            headers=[
                ("Host", host if port == default_port else f"{host}:{port}"),
                ("User-Agent", USER_AGENT),
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                *headers.items(),
            ],
        ),
        h11.Data(data=body),
        h11.EndOfMessage(),
    ]


async def _exchange_kept(
    scheme: str, host: str, port: int, request: list, *, allow_private: bool
) -> tuple[int, bytes]:
    """The exchange on a kept connection to the host if there is one (once more on a new connection
    if the receiver had closed it meanwhile), else on a new one."""
    key = (scheme, host, port, allow_private)
    kept = _checkout(key)
    if kept is not None:
        try:
            return await _exchange(key, kept, request, reused=True)
        except _ClosedBeforeResponse:
            pass
    fresh = await _open(scheme, host, port, allow_private=allow_private)
    return await _exchange(key, fresh, request, reused=False)


async def _exchange(key: tuple, conn: _Connection, request: list, *, reused: bool) -> tuple[int, bytes]:
    """One request and its response on `conn`; the connection is kept for the next request when
    both sides are done with it cleanly, and closed otherwise (errors, timeouts, a long body)."""
    http, reader, writer = conn.http, conn.reader, conn.writer
    keep = False
    try:
        status_code, kept = None, bytearray()
        try:
            writer.write(b"".join(http.send(event) for event in request))
            await writer.drain()
            while True:
                event = http.next_event()
                if event is h11.NEED_DATA:
                    http.receive_data(await reader.read(65536))
                elif isinstance(event, h11.Response):
                    status_code = event.status_code
                elif isinstance(event, h11.Data):
                    kept += event.data[: RESPONSE_BODY_KEPT - len(kept)]
                    if len(kept) >= RESPONSE_BODY_KEPT:
                        break  # the rest is not kept, so not read (and the connection not reused)
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    break
        except (ConnectionError, h11.RemoteProtocolError) as exc:
            if reused and status_code is None:
                raise _ClosedBeforeResponse from exc
            raise
        if status_code is None:
            if reused:
                raise _ClosedBeforeResponse
            raise h11.RemoteProtocolError("the connection closed before a response")
        if http.our_state is h11.DONE and http.their_state is h11.DONE:
            http.start_next_cycle()
            keep = True
        return status_code, bytes(kept)
    finally:
        if keep:
            _checkin(key, conn)
        else:
            conn.close()
