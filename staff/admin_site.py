"""Django's admin, for superusers only, on the public host: the raw rows behind the console (jobs,
Stripe events, email addresses), for what the console has no page for.

It answers exactly like the console (staff.permissions.console_gate): a 404 to anyone who is not a
superuser with staff rights, anonymous included, a second factor required, and nothing on a workspace
host. Its own login page is never shown: people log in at /accounts/login/ like everyone else.
"""

from __future__ import annotations

from functools import update_wrapper

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from staff.permissions import console_gate


class SuperuserAdminSite(admin.AdminSite):
    site_header = "Parley administration"
    site_title = "Parley administration"
    index_title = "Rows behind the staff console"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.is_superuser)

    def admin_view(self, view, cacheable: bool = False):
        inner = super().admin_view(view, cacheable)

        def gated(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if (owed := console_gate(request, superusers_only=True)) is not None:
                return owed
            return inner(request, *args, **kwargs)

        return update_wrapper(gated, inner)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # Reached only by a direct visit: admin_view never redirects here (console_gate answers first).
        if (owed := console_gate(request, superusers_only=True)) is not None:
            return owed
        return HttpResponseRedirect(reverse("admin:index"))
