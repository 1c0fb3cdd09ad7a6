"""Who may use a workspace page, beyond being a member (WorkspaceMembershipMiddleware sees to that)."""

from __future__ import annotations

from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def managers_only(view):
    """Owners and admins; agents get a 403 page that says why."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.membership.can_manage_workspace:
            return render(request, "workspace/forbidden.html", {"who": "owners and admins"}, status=403)
        return view(request, *args, **kwargs)

    return wrapped


def owners_only(view):
    """Owners only (billing: who pays decides); admins and agents get a 403 page that says why."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.membership.role != request.membership.Role.OWNER:
            return render(request, "workspace/forbidden.html", {"who": "owners"}, status=403)
        return view(request, *args, **kwargs)

    return wrapped
