"""The inbox's settings: labels, canned responses, automatic assignment."""

from __future__ import annotations

import re

from inbox.exceptions import (
    InboxSettingInvalid,
)
from inbox.models import CannedResponse, InboxSettings, Label
from inbox.services.messages import message_body_clean

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def label_create(*, name: str, color: str) -> Label:
    """A new label; names are unique in a workspace (case-insensitively)."""
    name = name.strip()
    if not name or len(name) > 40:
        raise InboxSettingInvalid("A label needs a name of at most 40 characters.")
    if not HEX_COLOR.match(color or ""):
        raise InboxSettingInvalid("Pick a colour like #6366f1.")
    if Label.objects.filter(name__iexact=name).exists():
        raise InboxSettingInvalid(f"There is already a label “{name}”.")
    return Label.objects.create(name=name, color=color.lower())


def label_delete(*, label: Label) -> None:
    label.delete()


def canned_response_create(*, shortcut: str, body: str) -> CannedResponse:
    shortcut = shortcut.strip().lstrip("/").lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", shortcut):
        raise InboxSettingInvalid("A shortcut is letters, digits, - and _, at most 40, like “refund-policy”.")
    body = message_body_clean(body)
    if CannedResponse.objects.filter(shortcut=shortcut).exists():
        raise InboxSettingInvalid(f"/{shortcut} exists already.")
    return CannedResponse.objects.create(shortcut=shortcut, body=body)


def canned_response_delete(*, canned_response: CannedResponse) -> None:
    canned_response.delete()


def inbox_settings_update(*, auto_assign: bool, auto_assign_limit: int) -> InboxSettings:
    if not 1 <= auto_assign_limit <= 500:
        raise InboxSettingInvalid("The limit is between 1 and 500 open conversations.")
    current = InboxSettings.current()
    current.auto_assign, current.auto_assign_limit = auto_assign, auto_assign_limit
    current.save(update_fields=["auto_assign", "auto_assign_limit"])
    return current
