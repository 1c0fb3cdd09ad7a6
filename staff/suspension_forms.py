"""The forms of the suspension and deletion actions on a workspace's console page."""

from __future__ import annotations

from django import forms

from staff.services.audit import REASON_MAX
from tenants import app_settings


class ReasonForm(forms.Form):
    """Suspend, unsuspend, restore: a reason, required, written to the audit log."""

    reason = forms.CharField(
        max_length=REASON_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give a reason: it is written to the audit log."},
    )


class DeletionForm(ReasonForm):
    """Delete: the workspace's address typed to confirm, and a reason."""

    field_order = ["slug", "reason"]
    slug = forms.CharField(
        label="Type the workspace's address to confirm",
        max_length=40,
        error_messages={"required": "Type the workspace's address to confirm."},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )


# The forms on a workspace's page, by the name its template gives each (and its ids' prefix).
FORMS: dict[str, type[ReasonForm]] = {
    "suspend": ReasonForm,
    "unsuspend": ReasonForm,
    "delete": DeletionForm,
    "restore": ReasonForm,
}


def suspension_form(name: str, data=None) -> ReasonForm:
    return FORMS[name](data, auto_id=f"{name}-%s")


def suspension_context(**bound: ReasonForm) -> dict:
    """What the page's suspension partials need: every form as `<name>_form`, unbound but for those
    given (a form with its errors), and the grace period that deleting gives."""
    forms = {f"{name}_form": bound.get(name) or suspension_form(name) for name in FORMS}
    return {**forms, "delete_grace_days": app_settings.delete_grace_days()}
