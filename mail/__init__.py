"""Every email Parley sends, in one place: see gateway.py."""
