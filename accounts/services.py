"""Writes for people's own accounts."""

from __future__ import annotations

from accounts.models import User


def profile_update(*, user: User, display_name: str) -> User:
    """The name visitors and colleagues see (and the avatar's initials)."""
    user.display_name = " ".join(display_name.split())[:80]
    user.save(update_fields=["display_name"])
    return user
