from __future__ import annotations

from allauth.account.views import SignupView as AllauthSignupView
from django.http import HttpResponseRedirect

from tenants import app_settings
from tenants.exceptions import WorkspaceError


class SignupView(AllauthSignupView):
    """allauth's sign-up, on the public host only, with a lost slug race shown as a form error."""

    def dispatch(self, request, *args, **kwargs):
        if getattr(request, "workspace", None) is not None:
            return HttpResponseRedirect(app_settings.public_url("/accounts/signup/"))
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except WorkspaceError as exc:
            form.add_error("workspace_slug", str(exc))
            return self.form_invalid(form)
