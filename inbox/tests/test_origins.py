"""Origins (inbox/origins.py): normalised as browsers send them, every bad line reported at once."""

from __future__ import annotations

import pytest

from inbox.exceptions import WebsiteOriginInvalid
from inbox.origins import origin_normalize, origins_parse


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("https://Shop.Example.com", "https://shop.example.com"),
        ("https://shop.example.com:443/", "https://shop.example.com"),
        ("http://localhost:8001", "http://localhost:8001"),
        ("http://example.com:80", "http://example.com"),
        ("https://[::1]:8443", "https://[::1]:8443"),
    ],
)
def test_origins_are_normalised_as_browsers_send_them(raw, normalized):
    assert origin_normalize(raw) == normalized


def test_origins_parse_reports_every_bad_line_at_once():
    with pytest.raises(WebsiteOriginInvalid) as error:
        origins_parse("https://ok.example\nftp://files.example\nhttps://x.example/path")
    assert "ftp://files.example" in str(error.value) and "https://x.example/path" in str(error.value)
    assert origins_parse("https://a.example, https://A.example\n\nhttps://b.example") == [
        "https://a.example",
        "https://b.example",
    ]
