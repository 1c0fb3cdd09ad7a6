"""A workspace's overview, the page its host opens on: the first steps toward a first answered visitor
(read from the inbox, hence here and not in tenants), the team, and the member's other workspaces."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from inbox.selectors import first_steps
from tenants import selectors as tenant_selectors


def workspace_home(request: HttpRequest) -> HttpResponse:
    steps = first_steps(workspace=request.workspace) if request.membership.can_manage_workspace else []
    return render(
        request,
        "workspace/home.html",
        {
            "first_steps": steps if not all(step.done for step in steps) else [],
            "first_steps_done": sum(step.done for step in steps),
            "members": tenant_selectors.members_of_workspace(workspace=request.workspace),
            "other_memberships": tenant_selectors.memberships_of_user(user=request.user).exclude(
                workspace=request.workspace
            ),
        },
    )
