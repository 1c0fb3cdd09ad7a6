from django import forms
from django.contrib.auth import password_validation

from tenants import services
from tenants.models import Membership


class WorkspaceSettingsForm(forms.Form):
    name = forms.CharField(label="Workspace name", max_length=80)
    slug = forms.CharField(
        label="Address",
        max_length=services.SLUG_MAX,
        help_text="Changing it moves the workspace to a new address; old links stop working.",
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices, initial=Membership.Role.AGENT)


class InviteeSignupForm(forms.Form):
    """An invitee with no account yet: the invitation's email is theirs (the link reached it)."""

    name = forms.CharField(label="Your name", max_length=80, help_text="What visitors and colleagues see.")
    password = forms.CharField(label="Password", widget=forms.PasswordInput, min_length=10)

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password)
        return password
