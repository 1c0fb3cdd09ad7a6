from __future__ import annotations

import re

from django import forms

from inbox.exceptions import WebsiteOriginInvalid
from inbox.models import Website
from inbox.origins import origins_parse


class WebsiteForm(forms.ModelForm):
    allowed_origins_text = forms.CharField(
        label="Allowed origins",
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "https://www.example.com\nhttps://shop.example.com"}
        ),
        help_text="One per line: scheme, host and port exactly as in the browser's address bar, no path. "
        "The widget works only on these.",
    )

    class Meta:
        model = Website
        fields = [
            "name",
            "team_name",
            "greeting",
            "accent_color",
            "launcher_position",
            "ask_email_after_seconds",
            "identity_verification_required",
        ]
        labels = {
            "team_name": "Team name shown in the widget",
            "ask_email_after_seconds": "Ask for an email after (seconds without a reply)",
            "identity_verification_required": "Require identity verification (user_hash) for identify()",
        }
        help_texts = {
            "ask_email_after_seconds": "0 never asks.",
            "team_name": "Defaults to the website's name.",
        }
        widgets = {"accent_color": forms.TextInput(attrs={"type": "color"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["allowed_origins_text"].initial = "\n".join(self.instance.allowed_origins)

    def clean_allowed_origins_text(self) -> str:
        text = self.cleaned_data["allowed_origins_text"]
        try:
            if not origins_parse(text):
                raise forms.ValidationError("List at least one origin.")
        except WebsiteOriginInvalid as exc:
            raise forms.ValidationError(str(exc)) from exc
        return text

    def clean_accent_color(self) -> str:
        color = self.cleaned_data["accent_color"]
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", color or ""):
            raise forms.ValidationError("Use a colour like #4f46e5.")
        return color.lower()

    def clean_ask_email_after_seconds(self) -> int:
        seconds = self.cleaned_data["ask_email_after_seconds"]
        if seconds > 86400:
            raise forms.ValidationError("At most a day (86400 seconds).")
        return seconds

    def appearance(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields if name != "name"}
