"""URLs an endpoint may not have, in the forms issue 13 found accepted at creation, each with the word
its refusal carries. The service, the API and the settings form are tested with every one."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from webhooks import sender

REFUSED = [
    ("http://localhost/hooks", "loopback"),  # a name, looked up
    ("http://LOCALHOST./hooks", "loopback"),
    ("http://2130706433/", "loopback"),  # 127.0.0.1 as one number
    ("http://0x7f000001/", "loopback"),  # in hex
    ("http://0177.0.0.1/", "loopback"),  # in octal
    ("http://127.1/", "loopback"),  # with parts left out
    ("http://0/", "unspecified"),  # 0.0.0.0
    ("http://127.0.0.1./", "loopback"),  # a trailing dot
    ("http://10.1:8080/", "private"),  # 10.0.0.1
    ("http://0xa9fea9fe/latest/meta-data", "cloud metadata"),  # 169.254.169.254
    ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata"),
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://[fe80::1%25eth0]/", "link-local"),
    ("http://hooks.invalid/", "cannot resolve"),  # a name that resolves nowhere (RFC 6761)
]
# Refused even where private targets are allowed (development, tests).
REFUSED_EVERYWHERE = [(url, why) for url, why in REFUSED if why == "cloud metadata"]
# Public, and written so that no lookup is needed: 93.184.215.14 as itself, in hex, with a dot.
ACCEPTED = ["https://93.184.215.14/in", "http://0x5db8d70e/in", "https://93.184.215.14./in"]


def delivery_refusal(url: str, *, allow_private: bool = False) -> str:
    """What a delivery to `url` would log after `refused: `."""
    host, port = urlsplit(url).hostname, urlsplit(url).port or 80
    try:
        asyncio.run(sender.address_resolve(host, port, allow_private=allow_private))
    except sender.TargetRefused as exc:
        return str(exc)
    raise AssertionError(f"a delivery to {url} would not be refused")
