from django import forms

from tenants import services


class WorkspaceSettingsForm(forms.Form):
    name = forms.CharField(label="Workspace name", max_length=80)
    slug = forms.CharField(
        label="Address",
        max_length=services.SLUG_MAX,
        help_text="Changing it moves the workspace to a new address; old links stop working.",
    )
