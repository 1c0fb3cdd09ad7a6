"""The impersonation banner on every page of a workspace's host (templates/base.html)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone


def impersonation(request: HttpRequest) -> dict:
    found = getattr(request, "impersonation", None)  # set by staff.middleware
    if found is None:
        return {"impersonation": None}
    left = max(0, int((found.expires_at - timezone.now()).total_seconds()))
    return {"impersonation": found, "impersonation_minutes_left": (left + 59) // 60}
