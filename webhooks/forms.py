from __future__ import annotations

from django import forms

from webhooks.models import TEST_EVENT_TYPE, Delivery, EventType


class EndpointForm(forms.Form):
    """What an owner or admin sets; the service checks the URL and the event types."""

    url = forms.CharField(
        label="Endpoint URL",
        max_length=2000,
        widget=forms.URLInput(
            attrs={"placeholder": "https://example.com/webhooks/parley", "autocomplete": "off"}
        ),
        help_text="Parley POSTs each event here as JSON, signed per Standard Webhooks.",
    )
    description = forms.CharField(max_length=200, required=False, help_text="For you: what receives these.")
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=[(value, f"{value} · {label}") for value, label in EventType.choices],
        widget=forms.CheckboxSelectMultiple,
    )
    include_private_notes = forms.BooleanField(
        required=False, label="Include private notes in message.created (agents' internal notes)"
    )


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Delivery.Status.choices], required=False)
    type = forms.ChoiceField(
        label="Event",
        choices=[("", "Any event"), *((v, v) for v in EventType.values), (TEST_EVENT_TYPE, TEST_EVENT_TYPE)],
        required=False,
    )
