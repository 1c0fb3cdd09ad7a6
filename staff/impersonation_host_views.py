"""Impersonation on the workspace's host: entering it by the one-time link the console made, and Stop.
(staff.middleware checks every other request of an impersonating session.)"""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, logout
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import rotate_token
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from staff import services
from staff.middleware import SESSION_KEY as IMPERSONATION_KEY
from staff.middleware import console_url
from staff.models import ImpersonationSession


@require_GET
def impersonation_enter(request: HttpRequest) -> HttpResponse:
    try:
        impersonation = services.impersonation_enter(
            raw_token=request.GET.get("token", ""), workspace=request.workspace
        )
    except services.ImpersonationRefused as exc:
        return render(request, "workspace/handoff_invalid.html", {"reason": str(exc)}, status=400)
    _log_in_as_member(request, impersonation)
    return redirect("workspace_home")


def _log_in_as_member(request: HttpRequest, impersonation: ImpersonationSession) -> None:
    """A new session of this host, logged in as the member and marked with the impersonation.

    Not django.contrib.auth.login: its user_logged_in signal would write the member's last_login (and
    whatever else listens), and viewing as someone is not their login."""
    member = impersonation.member
    request.session.flush()  # nothing of a session this browser had here before carries over
    request.session[SESSION_KEY] = member._meta.pk.value_to_string(member)
    request.session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    request.session[HASH_SESSION_KEY] = member.get_session_auth_hash()
    request.session[IMPERSONATION_KEY] = impersonation.pk
    rotate_token(request)
    request.user = member


@require_POST
def impersonation_stop(request: HttpRequest) -> HttpResponse:
    """The banner's Stop: the impersonation ends, this host's session with it, and back to the console."""
    impersonation = request.impersonation
    if impersonation is None:
        raise Http404("Nobody is being impersonated here.")
    services.impersonation_stop(
        impersonation=impersonation, cause=ImpersonationSession.EndCause.STOPPED,
        ip_address=request.META.get("REMOTE_ADDR"),
    )  # fmt: skip
    logout(request)
    return redirect(console_url(impersonation))
