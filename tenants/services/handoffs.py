"""One-time links that carry a user to a workspace's host (sessions stay per host)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from tenants import app_settings
from tenants.exceptions import (
    HandoffInvalid,
)
from tenants.models import Membership, Workspace, WorkspaceHandoff

HANDOFF_LIFETIME = timedelta(seconds=60)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def handoff_create(*, user: User, workspace: Workspace) -> str:
    """Return a one-time token that logs `user` into `workspace`'s host within a minute."""
    if not Membership.objects.filter(user=user, workspace=workspace).exists():
        raise HandoffInvalid("Not a member of that workspace.")
    raw = secrets.token_urlsafe(32)
    WorkspaceHandoff.objects.create(
        token_hash=token_hash(raw),
        user=user,
        workspace=workspace,
        expires_at=timezone.now() + HANDOFF_LIFETIME,
    )
    return raw


def handoff_url(*, user: User, workspace: Workspace) -> str:
    """A one-time link that signs `user` in on `workspace`'s own host (a handoff_create token)."""
    token = handoff_create(user=user, workspace=workspace)
    return app_settings.workspace_url(workspace.slug, f"/handoff/?token={token}")


def handoff_redeem(*, raw_token: str, workspace: Workspace) -> User:
    """Spend a handoff token on the host of `workspace`; return its user or raise HandoffInvalid."""
    with transaction.atomic():
        handoff = (
            WorkspaceHandoff.objects.select_for_update()
            .select_related("user")
            .filter(token_hash=token_hash(raw_token or ""), workspace=workspace)
            .first()
        )
        if handoff is None or handoff.used_at is not None or handoff.expires_at <= timezone.now():
            raise HandoffInvalid("This sign-in link has expired or was already used.")
        if (
            not handoff.user.is_active
            or not Membership.objects.filter(user=handoff.user, workspace=workspace).exists()
        ):
            raise HandoffInvalid("This sign-in link is no longer valid.")
        handoff.used_at = timezone.now()
        handoff.save(update_fields=["used_at"])
        return handoff.user
