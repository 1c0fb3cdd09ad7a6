"""Writes of workspaces themselves: the spare-schema pool, sign-up's claim of a spare, renaming."""

from __future__ import annotations

import contextlib
import logging
import re
import secrets

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from tenants import app_settings
from tenants.exceptions import (
    WorkspaceError,
    WorkspaceRoleRequired,
    WorkspaceSlugInvalid,
    WorkspaceSlugTaken,
)
from tenants.models import Domain, Membership, Workspace

logger = logging.getLogger(__name__)

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
SLUG_MIN, SLUG_MAX = 3, 40
# Any constant will do: it names the lock that keeps two workers from over-filling the pool.
_POOL_REFILL_LOCK = 7_316_042


def workspace_slug_validate(slug: str) -> str:
    """Return the slug normalised, or raise WorkspaceSlugInvalid / WorkspaceSlugTaken for the user."""
    slug = (slug or "").strip().lower()
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        raise WorkspaceSlugInvalid(f"Use {SLUG_MIN} to {SLUG_MAX} characters.")
    if not SLUG_PATTERN.match(slug):
        raise WorkspaceSlugInvalid(
            "Use lowercase letters, digits and hyphens, starting and ending with a letter or digit."
        )
    if "--" in slug:
        raise WorkspaceSlugInvalid("Two hyphens in a row are not allowed.")
    if slug in app_settings.reserved_slugs():
        raise WorkspaceSlugInvalid(f"“{slug}” is reserved. Choose another address.")
    if Workspace.objects.filter(slug=slug).exists():
        raise WorkspaceSlugTaken(f"{app_settings.workspace_hostname(slug)} is already taken.")
    return slug


def _new_schema_name() -> str:
    return f"ws_{secrets.token_hex(8)}"


def spare_schema_provision() -> Workspace:
    """Create and fully migrate one spare schema, ready to be claimed by a sign-up."""
    spare = Workspace(schema_name=_new_schema_name())
    spare.save(verbosity=0)  # auto_create_schema: CREATE SCHEMA + every tenant migration
    return spare


def spare_pool_refill(*, target: int | None = None) -> int:
    """Top the pool up to `target` spares (default: the setting); return how many were made.

    Safe to run from any number of workers at once: one holds the lock, the others return 0.
    """
    target = app_settings.spare_schema_target() if target is None else target
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_POOL_REFILL_LOCK])
        if not cursor.fetchone()[0]:
            return 0
    try:
        missing = target - Workspace.objects.filter(claimed_at__isnull=True).count()
        for _ in range(max(missing, 0)):
            spare_schema_provision()
        return max(missing, 0)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_POOL_REFILL_LOCK])


def _spare_lock_next() -> Workspace | None:
    # SKIP LOCKED: concurrent sign-ups each take a different spare instead of queueing on one.
    return (
        Workspace.objects.select_for_update(skip_locked=True)
        .filter(claimed_at__isnull=True)
        .order_by("id")
        .first()
    )


def workspace_create(*, owner: User, name: str, slug: str) -> Workspace:
    """Give `owner` a new workspace: claim a ready spare schema, or make one when the pool is empty."""
    slug = workspace_slug_validate(slug)
    with transaction.atomic():
        spare = _spare_lock_next()
        if spare is not None:
            return _workspace_claim(spare=spare, owner=owner, name=name, slug=slug)
    # The pool is empty: make a spare on the spot, then claim it like any other.
    logger.warning("spare schema pool empty; creating a schema during sign-up")
    made = spare_schema_provision()
    with transaction.atomic():
        spare = Workspace.objects.select_for_update().filter(pk=made.pk, claimed_at__isnull=True).first()
        spare = spare or _spare_lock_next()
        if spare is None:  # every spare, ours included, was claimed meanwhile: rare, so just go again
            return workspace_create(owner=owner, name=name, slug=slug)
        return _workspace_claim(spare=spare, owner=owner, name=name, slug=slug)


def _workspace_claim(*, spare: Workspace, owner: User, name: str, slug: str) -> Workspace:
    spare.name = name.strip() or slug
    spare.slug = slug
    spare.claimed_at = timezone.now()
    try:
        with transaction.atomic():
            spare.save(update_fields=["name", "slug", "claimed_at"])
            Domain.objects.create(tenant=spare, domain=app_settings.workspace_hostname(slug), is_primary=True)
    except IntegrityError as exc:  # lost a race for the same slug between validation and here
        raise WorkspaceSlugTaken(f"{app_settings.workspace_hostname(slug)} is already taken.") from exc
    Membership.objects.create(user=owner, workspace=spare, role=Membership.Role.OWNER)
    transaction.on_commit(_defer_pool_refill)
    return spare


def _defer_pool_refill() -> None:
    from procrastinate.exceptions import AlreadyEnqueued

    from tenants.tasks import refill_spare_pool

    # AlreadyEnqueued: a refill is already waiting, and it will count what is missing when it runs.
    with contextlib.suppress(AlreadyEnqueued):
        refill_spare_pool.defer()


def workspace_update(*, workspace: Workspace, by: Membership, name: str, slug: str) -> Workspace:
    """Rename a workspace and/or move it to another address. Owners only."""
    if by.role != Membership.Role.OWNER or by.workspace_id != workspace.pk:
        raise WorkspaceRoleRequired("Only an owner can rename the workspace.")
    name = name.strip()
    if not name:
        raise WorkspaceError("The workspace needs a name.")
    slug = (slug or "").strip().lower()
    with transaction.atomic():
        if slug != workspace.slug:
            slug = workspace_slug_validate(slug)
            try:
                with transaction.atomic():
                    Domain.objects.filter(tenant=workspace, is_primary=True).update(
                        domain=app_settings.workspace_hostname(slug)
                    )
                    workspace.slug = slug
                    workspace.name = name
                    workspace.save(update_fields=["name", "slug"])
            except IntegrityError as exc:
                raise WorkspaceSlugTaken(
                    f"{app_settings.workspace_hostname(slug)} is already taken."
                ) from exc
        else:
            workspace.name = name
            workspace.save(update_fields=["name"])
    return workspace
