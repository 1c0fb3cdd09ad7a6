from __future__ import annotations

from allauth.account.forms import SignupForm
from django import forms
from django.db import transaction
from django.utils.text import slugify

from tenants import services
from tenants.exceptions import WorkspaceError


class WorkspaceSignupForm(SignupForm):
    """allauth's sign-up (email, password) plus the workspace the new user will own."""

    workspace_name = forms.CharField(
        label="Workspace name", max_length=80, widget=forms.TextInput(attrs={"placeholder": "Acme Support"})
    )
    workspace_slug = forms.CharField(
        label="Workspace address",
        required=False,  # the length is checked with the other slug rules, for one clear message
        help_text="Letters, digits and hyphens. Left empty, it is made from the name.",
        widget=forms.TextInput(
            attrs={"placeholder": "acme", "autocapitalize": "none", "spellcheck": "false", "maxlength": 40}
        ),
    )

    field_order = ["workspace_name", "workspace_slug", "email", "password1"]

    def clean(self):
        cleaned = super().clean()
        slug = (
            cleaned.get("workspace_slug") or slugify(cleaned.get("workspace_name") or "")[: services.SLUG_MAX]
        )
        try:
            cleaned["workspace_slug"] = services.workspace_slug_validate(slug)
        except WorkspaceError as exc:
            self.add_error("workspace_slug", str(exc))
        return cleaned

    def save(self, request):
        # One transaction: a sign-up that cannot get its workspace leaves no user behind.
        with transaction.atomic():
            user = super().save(request)
            request.new_workspace = services.workspace_create(
                owner=user, name=self.cleaned_data["workspace_name"], slug=self.cleaned_data["workspace_slug"]
            )
        return user


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        label="Display name", max_length=80, required=False,
        help_text="Shown to visitors on your replies and to your team. Empty: the start of your email.",
    )  # fmt: skip
