"""The console's action forms: what each action takes, checked before its service runs (which checks
again, for any other caller)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from billing import plans
from staff.services.audit import REASON_MAX


def _reason_field(label: str = "Reason") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=REASON_MAX,
        error_messages={"required": "Say why: the reason goes into the audit log."},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Ticket, request, cause"}),
    )


def day_start(day: dt.date) -> dt.datetime:
    """The moment an end date takes effect: the start of that day, UTC (the console shows UTC)."""
    return dt.datetime.combine(day, dt.time(), dt.UTC)


class _ConsoleForm(forms.Form):
    """Several forms share the workspace's page: each one's ids start with its own name."""

    id_prefix = ""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class _EndDateForm(_ConsoleForm):
    def _future_day(self, name: str) -> dt.date | None:
        day = self.cleaned_data.get(name)
        if day is not None and day_start(day) <= timezone.now():
            raise forms.ValidationError("That day has begun or passed: choose a later one.")
        return day


class PlanOverrideForm(_EndDateForm):
    id_prefix = "override"
    plan = forms.ChoiceField(
        choices=[(plan.key, plan.name) for plan in plans.PLANS.values()],
        error_messages={"invalid_choice": "There is no such plan: choose one of the list."},
    )
    until = forms.DateField(
        label="Ends on", required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional: from the start of that day (UTC), Stripe's state decides again.",
    )  # fmt: skip
    reason = _reason_field()

    def clean_until(self) -> dt.date | None:
        return self._future_day("until")


class PlanOverrideClearForm(_ConsoleForm):
    id_prefix = "override_clear"
    reason = _reason_field()


class TrialExtendForm(_EndDateForm):
    id_prefix = "trial"
    until = forms.DateField(
        label="Trial until", widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The trial ends at the start of that day (UTC).",
    )  # fmt: skip
    # Only for a workspace without a subscription (a trial of our own); Stripe's trial keeps its plan.
    plan = forms.ChoiceField(
        label="Plan to try",
        required=False,
        choices=[("", "As now"), *[(plan.key, plan.name) for plan in plans.PLANS.values() if plan.is_paid]],
        error_messages={"invalid_choice": "There is no such plan: choose Team or Business."},
    )
    reason = _reason_field()

    def clean_until(self) -> dt.date | None:
        return self._future_day("until")


class MemberForm(_ConsoleForm):
    """The member a per-member action is for (an id of a user; the service checks they are a member)."""

    id_prefix = "member"
    member = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class ImpersonationForm(MemberForm):
    reason = _reason_field()
