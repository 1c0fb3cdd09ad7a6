"""Find the workspace a request is for, and keep people out of workspaces they are not in."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import set_urlconf

from tenants import selectors

# Pages of a workspace host that people who are not (yet) members must reach; the API checks its
# own bearer keys (api.auth); a login page's browser reports its CSP violations too.
_OPEN_PATH_PREFIXES = (
    "/accounts/", "/handoff/", "/invite/", "/static/", "/favicon.ico", "/api/", "/csp-report/"
)  # fmt: skip
# What a suspended workspace's host still serves: logging in and out (so people can leave, or see why
# they cannot get in), its assets, and the API, which answers 403 workspace_suspended itself (api.auth).
# Not invitations: nobody joins a suspended workspace. A staff user viewing it as a member (staff)
# must still be able to Stop, which ends the impersonation and writes its end to the audit log.
_OPEN_WHILE_SUSPENDED = (
    *(prefix for prefix in _OPEN_PATH_PREFIXES if prefix != "/invite/"),
    "/impersonation/stop/",
)


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
    """On a workspace host: anonymous people go to the login page, non-members get a 404, and members
    of a suspended workspace its "suspended" page."""

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
        if request.workspace.is_suspended and not request.path.startswith(_OPEN_WHILE_SUSPENDED):
            return workspace_suspended_page(request)
        return self.get_response(request)


def workspace_suspended_page(request: HttpRequest) -> HttpResponse:
    """What every page of a suspended workspace answers. 403, not 423 Locked: the request is refused
    for who the workspace is, as the API's 403 workspace_suspended says; 423 is WebDAV's lock of one
    resource, which browsers, proxies and monitors treat as an odd client error."""
    response = render(request, "workspace/suspended.html", {"suspended": request.workspace}, status=403)
    if getattr(request, "htmx", False):
        response["HX-Refresh"] = "true"  # an htmx swap reloads the page, which shows this one whole
    return response
