"""Writes for API keys: made (shown once), used, revoked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from api.models import ApiKey
from billing import limits
from tenants.models import Membership

KEY_PREFIX = "sk_"
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiKeyInvalid(Exception):
    code = "invalid_key"


def api_key_hash(raw: str) -> str:
    # The key is 32 random bytes: a plain SHA-256 cannot be reversed or guessed, and is fast to check.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(*, name: str, scope: str, by: User) -> tuple[ApiKey, str]:
    """A new key; returns it and the key itself, shown only this once."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ApiKeyInvalid("Give the key a name of at most 80 characters, like “CRM sync”.")
    if scope not in ApiKey.Scope.values:
        raise ApiKeyInvalid("The scope is read or write.")
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        limits.limit_check(limits.API_KEYS)
        key = ApiKey.objects.create(
            name=name, prefix=raw[:11], key_hash=api_key_hash(raw), scope=scope, created_by_id=by.pk
        )
    return key, raw


def api_key_revoke(*, key: ApiKey, reason: str = "") -> None:
    """Refuse the key from now on."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.revoked_reason = reason
        key.save(update_fields=["revoked_at", "revoked_reason"])


def api_keys_revoke_of(*, workspace, user_id: int, reason: str) -> int:
    """Revoke every live key `user_id` made in `workspace` (they left it); returns how many."""
    from tenants.context import workspace_schema

    with workspace_schema(workspace.schema_name):
        return ApiKey.objects.filter(created_by_id=user_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_reason=reason
        )


def member_removed(*, workspace, user: User, by: User) -> None:
    """tenants.hooks.member_removed: the keys they made in the workspace stop with them."""
    api_keys_revoke_of(workspace=workspace, user_id=user.pk, reason=f"{user.name} left the workspace.")


def account_taken_back(*, user: User, workspaces: list) -> dict:
    """tenants.hooks.account_taken_back: every key the account made is revoked; says how many."""
    revoked = sum(
        api_keys_revoke_of(workspace=workspace, user_id=user.pk, reason="Its maker's account was taken back.")
        for workspace in workspaces
    )
    return {"api_keys": revoked}


class KeyRefused(Exception):
    """A live key whose maker cannot act now; the message says why, for the API's 403."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def api_key_acting_member(*, key: ApiKey, workspace) -> Membership:
    """Who acts with `key`: the member who made it, with their rights as they are now. Keys are an
    owner's or admin's tool, so a maker demoted to agent suspends them, and one who left (or whose
    account is closed) stops them."""
    membership = (
        Membership.objects.filter(workspace=workspace, user_id=key.created_by_id, user__is_active=True)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise KeyRefused("key_owner_left", "The member who made this key has left the workspace.")
    if not membership.can_manage_workspace:
        raise KeyRefused(
            "key_suspended",
            f"The member who made this key is now {membership.get_role_display().lower()}: "
            "keys act with their maker's rights, and need an owner or admin.",
        )
    return membership


def api_key_for(raw: str) -> ApiKey | None:
    """The live key behind a bearer token, its last use noted (at most once a minute)."""
    if not raw.startswith(KEY_PREFIX):
        return None
    key = ApiKey.objects.filter(key_hash=api_key_hash(raw), revoked_at__isnull=True).first()
    if key is not None:
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
    return key
