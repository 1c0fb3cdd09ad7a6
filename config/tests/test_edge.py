"""config/edge.py: which address X-Forwarded-For may name (read from the right past our own proxies), and
what of a path the logs may show."""

from __future__ import annotations

import re

import pytest
from django.urls import URLResolver, get_resolver, reverse

from config.edge import EdgeMiddleware, loggable_path


def _client(peer: str, *forwarded_for: str, trusted: tuple[str, ...] = ("10.0.0.0/8", "2001:db8::1")):
    edge = EdgeMiddleware(None, trusted_proxies=trusted)
    headers = [(b"host", b"localhost"), *((b"x-forwarded-for", value.encode()) for value in forwarded_for)]
    return edge.client_of({"type": "http", "client": (peer, 51000), "headers": headers})


def test_an_untrusted_peer_is_the_client_whatever_it_forwards():
    assert _client("203.0.113.7", "198.51.100.1") == ("203.0.113.7", 51000)
    assert _client("203.0.113.7", "198.51.100.1", trusted=()) == ("203.0.113.7", 51000)


def test_a_trusted_peer_forwards_the_address_it_saw():
    assert _client("10.1.2.3", "198.51.100.1") == ("198.51.100.1", 0)
    assert _client("2001:db8::1", "2001:db8::42") == ("2001:db8::42", 0)


def test_the_walk_skips_our_own_proxies_and_stops_at_the_first_stranger():
    # The client wrote 192.0.2.66 itself; our proxies appended 198.51.100.1 and then 10.0.0.5.
    assert _client("10.1.2.3", "192.0.2.66, 198.51.100.1, 10.0.0.5") == ("198.51.100.1", 0)
    # Several headers are one list, in order.
    assert _client("10.1.2.3", "192.0.2.66", "198.51.100.1, 10.0.0.5") == ("198.51.100.1", 0)


def test_a_hop_that_is_no_address_ends_the_walk_at_our_last_proxy():
    assert _client("10.1.2.3", "198.51.100.1, unknown, 10.0.0.5") == ("10.0.0.5", 0)
    assert _client("10.1.2.3", "") == ("10.1.2.3", 51000)
    assert _client("10.1.2.3") == ("10.1.2.3", 51000)


def test_an_ipv4_peer_on_a_dual_stack_socket_matches_its_ipv4_entry():
    assert _client("::ffff:10.1.2.3", "198.51.100.1") == ("198.51.100.1", 0)


def test_a_list_of_only_our_proxies_names_the_leftmost():
    assert _client("10.1.2.3", "10.0.0.9, 10.0.0.5") == ("10.0.0.9", 0)


def test_a_bad_entry_is_refused_by_name():
    with pytest.raises(ValueError, match=re.escape("'10.0.0.300' is not an IP address or network")):
        EdgeMiddleware(None, trusted_proxies=["10.0.0.1", "10.0.0.300"])


def test_loggable_paths_keep_the_route_and_lose_the_secret():
    assert loggable_path("/invite/Zq3-secret_token/") == "/invite/…/"
    assert loggable_path("/accounts/password/reset/key/1a-Zq3secret/") == "/accounts/password/reset/key/…/"
    assert loggable_path("/accounts/password/reset/key/done/") == "/accounts/password/reset/key/done/"
    assert loggable_path("/accounts/confirm-email/MTk:1t:Zq3secret/") == "/accounts/confirm-email/…/"
    assert loggable_path("/inbox/c/42/") == "/inbox/c/42/"
    # A path cannot break the line or fake its fields.
    assert loggable_path('/x y\n"GET / 200"') == "/x%20y%0A%22GET%20/%20200%22"


def _patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


def test_every_url_with_a_secret_in_its_path_is_redacted():
    secret_names = {"token", "key", "uidb36"}
    found = []
    for urlconf in ("config.urls", "config.urls_public"):
        for route, entry in _patterns(get_resolver(urlconf)):
            arguments = set(entry.pattern.regex.groupindex) | set(getattr(entry.pattern, "converters", {}))
            if not arguments & secret_names:
                continue
            found.append(route)
            kwargs = {name: ("1a" if name == "uidb36" else "Zq3SeCrEt") for name in arguments}
            path = reverse(entry.name, urlconf=urlconf, kwargs=kwargs)
            assert "Zq3SeCrEt" not in loggable_path(path), route
    assert "invite/<str:token>/" in found  # the scan sees what it must
