from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest

from tenants import app_settings, services


class AccountAdapter(DefaultAccountAdapter):
    """Where people land: a new owner in their new workspace, a returning user in theirs."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Workspaces are created on the public site; a workspace host only logs people in.
        return getattr(request, "workspace", None) is None

    def get_signup_redirect_url(self, request: HttpRequest) -> str:
        workspace = getattr(request, "new_workspace", None)
        if workspace is None:
            return super().get_signup_redirect_url(request)
        return handoff_url(request.user, workspace)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if getattr(request, "workspace", None) is None:
            return "/workspaces/"
        return super().get_login_redirect_url(request)


def handoff_url(user, workspace) -> str:
    """A one-time link that signs `user` in on `workspace`'s own host."""
    token = services.handoff_create(user=user, workspace=workspace)
    return app_settings.workspace_url(workspace.slug, f"/handoff/?token={token}")
