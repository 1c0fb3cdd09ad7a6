"""Who may use the staff console: staff users with two-factor authentication, passed in this session."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import User


def session_passed_two_factor(request: HttpRequest, user: User) -> bool:
    """Whether this session has proven a second factor (an authenticator code or a recovery code) for
    `user`: at login (allauth asks once TOTP is on), or since, on allauth's reauthentication page."""
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, user))


def console_gate(request: HttpRequest, *, superusers_only: bool = False) -> HttpResponse | None:
    """None when the request may see the console (or, with `superusers_only`, Django's admin); else the
    redirect to the second factor it still owes. Anyone not allowed at all gets a 404, anonymous
    included, so nobody else learns that either exists (staff log in at /accounts/login/ first)."""
    user = request.user
    # Both are the public host's alone (config/urls_public.py); the first test is a second lock.
    allowed = user.is_authenticated and user.is_staff and (user.is_superuser or not superusers_only)
    if getattr(request, "workspace", None) is not None or not allowed:
        raise Http404("No such page.")
    if not is_mfa_enabled(user, [Authenticator.Type.TOTP]):
        messages.info(
            request,
            "The staff console needs two-factor authentication: set up an authenticator app, keep "
            "its recovery codes, then open the console again.",
        )
        return _redirect(request, reverse("mfa_activate_totp"))
    if not session_passed_two_factor(request, user):
        query = urlencode({"next": request.get_full_path()})
        return _redirect(request, f"{reverse('mfa_reauthenticate')}?{query}")
    return None


def staff_only(view):
    """Staff users with two-factor authentication passed in this session only (console_gate)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if (owed := console_gate(request)) is not None:
            return owed
        return view(request, *args, **kwargs)

    return wrapped


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    # An htmx swap would follow a redirect and put the whole page into the fragment's place.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
