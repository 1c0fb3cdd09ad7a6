from __future__ import annotations

from allauth.account.views import SignupView as AllauthSignupView
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render

from accounts import services
from accounts.forms import ProfileForm
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


def profile(request: HttpRequest) -> HttpResponse:
    """Your name as visitors and colleagues see it (on any workspace host you are a member of)."""
    form = ProfileForm(request.POST or None, initial={"display_name": request.user.display_name})
    if request.method == "POST" and form.is_valid():
        services.profile_update(user=request.user, display_name=form.cleaned_data["display_name"])
        messages.success(request, "Profile saved.")
        return redirect("profile")
    return render(request, "account/profile.html", {"form": form})
