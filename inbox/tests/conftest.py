"""Fixtures of this folder's tests: inbox/tests/sites.py."""

from inbox.tests.sites import (  # noqa: F401 - pytest finds fixtures by name
    fresh_channel_layer_pools,
    site_a,
    site_b,
    website_a,
    website_and_secret_a,
)
