"""config/edge.py: which address X-Forwarded-For may name, read from the right past our own proxies."""

from __future__ import annotations

import re

import pytest

from config.edge import EdgeMiddleware


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
