"""Impersonation on a workspace's host: every request of a session that views the workspace as one of
its members (staff.services.impersonation) is checked against its row, refused if it would change
anything, and written to the audit log."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from staff import selectors, services
from staff.models import ImpersonationSession
from tenants import app_settings

# The session's marker: the id of the ImpersonationSession it was logged in for (staff.impersonation_views).
SESSION_KEY = "parley_impersonation"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Pages refused while impersonating even to read: the owners' export hands over every conversation,
# which staff read only through the console's own export, with a reason on record.
READ_REFUSED = frozenset({"workspace_export_download"})
# Not pages: nothing here to audit (WhiteNoise answers /static/ before the session is even read), and
# a handoff's address carries a one-time token, which has no place in a log.
_NOT_PAGES = ("/static/", "/favicon.ico", "/csp-report/", "/handoff/")


def read_only_message(impersonation: ImpersonationSession) -> str:
    return (
        f"Read-only: you are viewing {impersonation.workspace.name} as {impersonation.member.email}. "
        "Nothing can be changed while impersonating; Stop to act as yourself again."
    )


def console_url(impersonation: ImpersonationSession | None) -> str:
    """Where an impersonation ends: the workspace's page in the console (on the public host)."""
    if impersonation is None:
        return app_settings.public_url("/staff/")
    return app_settings.public_url(f"/staff/workspaces/{impersonation.workspace_id}/")


class ImpersonationMiddleware:
    """After authentication, on workspace hosts. A session logged in for an impersonation is:

    - logged out and sent back to the console once the impersonation is over (time up, stopped, staff
      access or the member's place gone), its end written once;
    - refused every method but GET, HEAD and OPTIONS (pages, htmx, the REST API alike), except Stop
      and logging out, which end it;
    - refused the few pages whose GET hands over or changes data (READ_REFUSED);
    - written to the audit log for every page (and htmx fragment) it is shown.

    `request.read_only` says to the views below that nothing may be written, not even the side
    effects of reading (the inbox marks a conversation read when it is opened): the apps below staff
    obey that flag without knowing why it is set.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.impersonation = None
        request.read_only = False
        marker = request.session.get(SESSION_KEY) if request.workspace is not None else None
        if marker is None:
            return self.get_response(request)
        impersonation = selectors.impersonation_for(marker)
        if not self._still_on(request, impersonation):
            logout(request)
            return self._leave(request, console_url(impersonation))
        request.impersonation, request.read_only = impersonation, True
        if request.method not in SAFE_METHODS:
            if request.path == reverse("impersonation_stop"):
                return self.get_response(request)  # the Stop view ends it (CSRF checked as anywhere)
            if request.path == reverse("account_logout"):
                return self._logout(request, impersonation)
            return _refused(request, impersonation)
        response = self.get_response(request)
        if not request.path.startswith(_NOT_PAGES):
            services.impersonation_page_record(
                impersonation=impersonation, path=request.get_full_path(), status=response.status_code,
                ip_address=request.META.get("REMOTE_ADDR"),
            )  # fmt: skip
        return response

    def _still_on(self, request: HttpRequest, impersonation: ImpersonationSession | None) -> bool:
        """Whether this request may go on as the impersonation; if it is over, its end is written."""
        if impersonation is not None and (
            impersonation.workspace_id != request.workspace.pk or impersonation.member_id != request.user.pk
        ):
            return False  # not what the session was logged in for: nothing to end, only to leave
        return services.impersonation_in_force(impersonation, ip_address=request.META.get("REMOTE_ADDR"))

    def _logout(self, request: HttpRequest, impersonation: ImpersonationSession) -> HttpResponse:
        """Logging out (allauth's view, CSRF and all) ends the impersonation as Stop does."""
        response = self.get_response(request)
        if not request.user.is_authenticated:
            services.impersonation_stop(
                impersonation=impersonation, cause=ImpersonationSession.EndCause.STOPPED,
                ip_address=request.META.get("REMOTE_ADDR"),
            )  # fmt: skip
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if request.impersonation is not None and request.resolver_match.url_name in READ_REFUSED:
            return _refused(request, request.impersonation)
        return None

    @staticmethod
    def _leave(request: HttpRequest, url: str) -> HttpResponse:
        # An htmx swap would follow a redirect and put the console into the fragment's place.
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _refused(request: HttpRequest, impersonation: ImpersonationSession) -> HttpResponse:
    """403 for a write while impersonating: the REST API's error shape under /api/, the sentence alone
    for htmx (parley.js shows it), a page otherwise."""
    message = read_only_message(impersonation)
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "impersonation_read_only", "message": message}}, status=403)
    if request.htmx:
        response = HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")
        response["X-Parley-Refused"] = "impersonation"
        return response
    referer = request.headers.get("Referer", "")
    same_host = url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure())
    context = {"message": message, "back": referer if same_host else "/"}
    return render(request, "staff/impersonation_refused.html", context, status=403)
