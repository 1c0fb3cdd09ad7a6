from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.forms import ResetPasswordForm as AllauthResetPasswordForm
from allauth.account.forms import SignupForm
from allauth.account.models import EmailAddress
from django import forms
from django.db import transaction
from django.utils.text import slugify

from accounts import selectors
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

    def validate_unique_email(self, value):
        # An address someone merely added to their account, unproven, must not lock its owner out of
        # signing up (allauth counts every address row).
        if selectors.account_for_address(value) is None:
            self.account_already_exists = False
            return get_adapter().validate_unique_email(value)
        return super().validate_unique_email(value)

    def save(self, request):
        # One transaction: a sign-up that cannot get its workspace leaves no user behind.
        with transaction.atomic():
            user = super().save(request)
            # Unproven rows of this address on other accounts meant nothing; left, they would make
            # allauth refuse this account's code as "already registered".
            EmailAddress.objects.filter(email__iexact=user.email, verified=False).exclude(user=user).delete()
            request.new_workspace = services.workspace_create(
                owner=user, name=self.cleaned_data["workspace_name"], slug=self.cleaned_data["workspace_slug"]
            )
        return user


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        label="Display name", max_length=80, required=False,
        help_text="Shown to visitors on your replies and to your team. Empty: the start of your email.",
    )  # fmt: skip


class ResetPasswordForm(AllauthResetPasswordForm):
    """allauth's reset, sent only to the account an address identifies (accounts.selectors): an
    unproven address added to some account is no way into that account."""

    def clean_email(self) -> str:
        email = super().clean_email()
        owner = selectors.account_for_address(email)
        self.users = [user for user in self.users if owner is not None and user.pk == owner.pk]
        return email
