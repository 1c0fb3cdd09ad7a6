"""Find the workspace a request is for, and keep people out of workspaces they are not in."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import set_urlconf

from tenants import selectors

# Pages of a workspace host that people who are not (yet) members must reach; the API checks its
# own bearer keys (api.auth); a login page's browser reports its CSP violations too.
_OPEN_PATH_PREFIXES = (
    "/accounts/", "/handoff/", "/invite/", "/static/", "/favicon.ico", "/api/", "/csp-report/"
)  # fmt: skip


class WorkspaceRoutingMiddleware:
    """Route by host: the base domain is the public site; `<slug>.<base domain>` is a workspace.

    Unlike django-tenants' TenantMainMiddleware, the public host needs no database lookup and an
    unknown host is a 404, never the public site.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        connection.set_schema_to_public()
        hostname = request.get_host().rsplit(":", 1)[0].lower()
        request.workspace = None
        if hostname == settings.PARLEY_BASE_DOMAIN:
            request.tenant = connection.tenant
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
        else:
            workspace = selectors.workspace_for_hostname(hostname)
            if workspace is None:
                raise Http404("No workspace at this address.")
            workspace.domain_url = hostname
            request.tenant = request.workspace = workspace
            connection.set_tenant(workspace)
        try:
            return self.get_response(request)
        finally:
            # A pooled connection must never carry this request's schema into the next one.
            connection.set_schema_to_public()


class WorkspaceMembershipMiddleware:
    """On a workspace host: anonymous people go to the login page, non-members get a 404."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None
        if request.workspace is None:
            return self.get_response(request)
        request.membership = selectors.membership_for(user=request.user, workspace=request.workspace)
        if not request.path.startswith(_OPEN_PATH_PREFIXES):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.membership is None:
                # 404, not 403: a stranger must not learn which workspaces exist.
                raise Http404("No such page.")
        return self.get_response(request)
