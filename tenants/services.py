"""Writes for workspaces, their spare-schema pool, memberships and host handoffs."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import secrets
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from mail import gateway
from tenants import app_settings, hooks
from tenants.exceptions import (
    HandoffInvalid,
    InvitationAddressUnproven,
    InvitationInvalid,
    LastOwner,
    WorkspaceError,
    WorkspaceRoleRequired,
    WorkspaceSlugInvalid,
    WorkspaceSlugTaken,
    WorkspaceStateRefused,
)
from tenants.models import Domain, Invitation, Membership, Workspace, WorkspaceHandoff

logger = logging.getLogger(__name__)

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
SLUG_MIN, SLUG_MAX = 3, 40
HANDOFF_LIFETIME = timedelta(seconds=60)
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


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def handoff_create(*, user: User, workspace: Workspace) -> str:
    """Return a one-time token that logs `user` into `workspace`'s host within a minute."""
    if not Membership.objects.filter(user=user, workspace=workspace).exists():
        raise HandoffInvalid("Not a member of that workspace.")
    raw = secrets.token_urlsafe(32)
    WorkspaceHandoff.objects.create(
        token_hash=_hash_token(raw),
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
            .filter(token_hash=_hash_token(raw_token or ""), workspace=workspace)
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


def _lock_team(workspace: Workspace) -> None:
    """Serialise changes to a workspace's owners: every path that can take an owner away locks the
    workspace row first, so two owners demoting or removing each other at once cannot leave none."""
    Workspace.objects.select_for_update().filter(pk=workspace.pk).values_list("pk", flat=True).get()


def _other_owner_exists(membership: Membership) -> bool:
    return (
        Membership.objects.filter(workspace_id=membership.workspace_id, role=Membership.Role.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    )


def membership_remove(*, membership: Membership, by: User) -> None:
    """Take someone out of a workspace. In the same transaction, through tenants.hooks: the paid seats
    are recounted (billing), their open conversations become unassigned and every inbox they have open
    on it closes (inbox), and the API keys they made are revoked (api)."""
    workspace = membership.workspace
    with transaction.atomic():
        _lock_team(workspace)
        membership = Membership.objects.select_related("user").filter(pk=membership.pk).first()
        if membership is None:
            return  # already gone
        remover = Membership.objects.filter(workspace=workspace, user=by).first()
        if remover is None or not remover.can_manage_workspace:
            raise WorkspaceRoleRequired("Only owners and admins can remove people.")
        if membership.role == Membership.Role.OWNER and remover.role != Membership.Role.OWNER:
            raise WorkspaceRoleRequired("Only an owner can remove an owner.")
        if membership.role == Membership.Role.OWNER and not _other_owner_exists(membership):
            raise LastOwner("A workspace needs an owner: make someone else owner first.")
        membership.delete()
        hooks.members_changed(workspace=workspace)
        hooks.member_removed(workspace=workspace, user=membership.user, by=by)


INVITATION_LIFETIME = timedelta(days=7)


def invitation_create(
    *, workspace: Workspace, email: str, role: str, by: Membership
) -> tuple[Invitation, str]:
    """Invite `email` with `role`; returns the invitation and its link token (sent by email, not
    kept). Owners may invite owners; admins invite admins and agents."""
    if not by.can_manage_workspace:
        raise WorkspaceRoleRequired("Only owners and admins can invite people.")
    if role not in Membership.Role.values:
        raise InvitationInvalid("Unknown role.")
    if role == Membership.Role.OWNER and by.role != Membership.Role.OWNER:
        raise WorkspaceRoleRequired("Only an owner can invite another owner.")
    email = email.strip().lower()
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise InvitationInvalid(f"{email} is already a member of this workspace.")
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        hooks.before_invitation(workspace=workspace)  # billing: the plan's seats
        invitation = Invitation.objects.create(
            workspace=workspace,
            email=email,
            role=role,
            token_hash=_hash_token(raw),
            invited_by=by.user,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
    gateway.send(
        "invitation",
        to=email,
        context={
            "inviter": by.user.name,
            "inviter_email": by.user.email,
            "workspace_name": workspace.name,
            "role": invitation.get_role_display(),
            "link": app_settings.workspace_url(workspace.slug, f"/invite/{raw}/"),
            "lifetime_days": INVITATION_LIFETIME.days,
        },
    )
    return invitation, raw


def invitation_for_token(*, raw_token: str, workspace: Workspace) -> Invitation:
    """The usable invitation behind a link on this workspace's host, or InvitationInvalid."""
    invitation = Invitation.objects.filter(
        token_hash=_hash_token(raw_token or ""), workspace=workspace
    ).first()
    if invitation is None or invitation.revoked_at is not None:
        raise InvitationInvalid("This invitation does not exist or was withdrawn.")
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation was already used.")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid("This invitation has expired: ask for a new one.")
    return invitation


def invitation_accept(*, raw_token: str, workspace: Workspace, user: User) -> Membership:
    """Spend an invitation: `user` joins the workspace with its role (once, before it expires), if
    they have proven the invited address: holding the link, or the address unproven, is not enough."""
    from accounts.selectors import address_is_proven

    with transaction.atomic():
        invitation = invitation_for_token(raw_token=raw_token, workspace=workspace)
        if not address_is_proven(user=user, email=invitation.email):
            raise InvitationAddressUnproven(
                f"This invitation is for {invitation.email}: prove that address is yours to accept it."
            )
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:  # a concurrent accept won
            raise InvitationInvalid("This invitation was already used.")
        if not Membership.objects.filter(user=user, workspace=workspace).exists():
            hooks.before_joining(workspace=workspace)  # billing: the plan's seats
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        membership, joined = Membership.objects.get_or_create(
            user=user, workspace=workspace, defaults={"role": invitation.role}
        )
        if joined:
            hooks.members_changed(workspace=workspace)
        return membership


def invitation_revoke(*, invitation: Invitation) -> None:
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


def membership_role_set(*, membership: Membership, role: str, by: Membership) -> Membership:
    """Change someone's role. Owners may do anything; admins only between admin and agent, and never
    to an owner. A workspace keeps at least one owner. Both roles are read under the team's lock, as
    they are now. API keys follow their maker's role (api.services.api_key_acting_member)."""
    if role not in Membership.Role.values:
        raise WorkspaceRoleRequired("Unknown role.")
    with transaction.atomic():
        _lock_team(membership.workspace)
        by = Membership.objects.filter(pk=by.pk).first()
        membership = Membership.objects.select_related("user", "workspace").get(pk=membership.pk)
        if by is None or not by.can_manage_workspace:
            raise WorkspaceRoleRequired("Only owners and admins can change roles.")
        if by.role != Membership.Role.OWNER and Membership.Role.OWNER in (role, membership.role):
            raise WorkspaceRoleRequired("Only an owner can make or unmake an owner.")
        if (
            membership.role == Membership.Role.OWNER
            and role != membership.role
            and not _other_owner_exists(membership)
        ):
            raise LastOwner("A workspace needs an owner: make someone else owner first.")
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


# --- Suspension and deletion (the staff console's actions: staff.services.suspension audits each)


def _workspace_locked(workspace: Workspace) -> Workspace:
    """The workspace's row as it is now, locked until the transaction ends: two staff acting on it at
    once take turns, and the drop job cannot run between a restore's check and its write."""
    return Workspace.objects.select_for_update().get(pk=workspace.pk)


def workspace_suspend(*, workspace: Workspace, reason: str) -> Workspace:
    """Suspend a workspace: its pages, sockets, API and webhook deliveries stop (each checks
    `suspended_at`), and the sockets open on it close once this commits. Nothing is deleted."""
    with transaction.atomic():
        workspace = _workspace_locked(workspace)
        if workspace.is_suspended:
            raise WorkspaceStateRefused(f"{workspace.name} is already suspended.")
        _suspension_start(workspace, reason)
    return workspace


def _suspension_start(workspace: Workspace, reason: str) -> None:
    workspace.suspended_at = timezone.now()
    workspace.suspension_reason = reason.strip()
    workspace.save(update_fields=["suspended_at", "suspension_reason"])
    hooks.workspace_suspended(workspace=workspace)


def workspace_unsuspend(*, workspace: Workspace) -> Workspace:
    """Lift a suspension: everything works again, and the webhook deliveries held back go out."""
    with transaction.atomic():
        workspace = _workspace_locked(workspace)
        if not workspace.is_suspended:
            raise WorkspaceStateRefused(f"{workspace.name} is not suspended.")
        if workspace.deletion_due_at is not None:
            raise WorkspaceStateRefused(
                f"{workspace.name} is scheduled for deletion: restore it, which also lifts the suspension."
            )
        _suspension_end(workspace)
    return workspace


def _suspension_end(workspace: Workspace) -> None:
    workspace.suspended_at = None
    workspace.suspension_reason = ""
    workspace.deletion_due_at = None
    workspace.save(update_fields=["suspended_at", "suspension_reason", "deletion_due_at"])
    hooks.workspace_unsuspended(workspace=workspace)


def workspace_deletion_schedule(*, workspace: Workspace, reason: str) -> Workspace:
    """Delete a workspace after the grace period (PARLEY_DELETE_GRACE_DAYS): it is suspended at once
    (if it was not already) and its schema dropped by a job at `deletion_due_at`, unless restored."""
    with transaction.atomic():
        workspace = _workspace_locked(workspace)
        if workspace.deletion_due_at is not None:
            raise WorkspaceStateRefused(
                f"{workspace.name} is already scheduled for deletion on {workspace.deletion_due_at:%d %b %Y}."
            )
        if not workspace.is_suspended:
            _suspension_start(workspace, reason)
        workspace.deletion_due_at = timezone.now() + timedelta(days=app_settings.delete_grace_days())
        workspace.save(update_fields=["deletion_due_at"])
    return workspace


def workspace_restore(*, workspace: Workspace) -> Workspace:
    """Take back a deletion before it is due: the workspace is no longer scheduled for deletion, nor
    suspended. Refused once the time has come (the drop job may be dropping its schema)."""
    with transaction.atomic():
        workspace = _workspace_locked(workspace)
        if workspace.deletion_due_at is None:
            raise WorkspaceStateRefused(f"{workspace.name} is not scheduled for deletion.")
        if workspace.deletion_due_at <= timezone.now():
            raise WorkspaceStateRefused(
                f"{workspace.name} was due for deletion on {workspace.deletion_due_at:%d %b %Y, %H:%M} UTC: "
                "too late to restore it."
            )
        _suspension_end(workspace)
    return workspace


def workspace_drop(*, workspace: Workspace) -> None:
    """Drop a workspace whose deletion is due: its schema (every conversation, contact, message,
    website, webhook and API key in it) and its rows in the public schema (domains, memberships,
    invitations, site keys, activity, billing account; audit entries keep the slug and name copied in
    them). Its jobs still queued are taken off the queue. WorkspaceStateRefused if it is not due
    (restored meanwhile): nothing is dropped, and the caller's transaction may roll back with it."""
    with transaction.atomic():
        locked = (
            Workspace.objects.select_for_update()
            .filter(pk=workspace.pk, deletion_due_at__lte=timezone.now())
            .first()
        )
        if locked is None:
            raise WorkspaceStateRefused(f"{workspace.name} is not due for deletion.")
        with connection.cursor() as cursor:
            # Jobs of a workspace's schema name it in their arguments (webhooks.tasks.deliver): left
            # queued, each would fail, and be retried, against a schema that is gone.
            cursor.execute(
                "DELETE FROM procrastinate_jobs WHERE status = 'todo' AND args->>'schema_name' = %s",
                [locked.schema_name],
            )
        # DROP SCHEMA … CASCADE, then the row, and its public rows by cascade. PostgreSQL's DDL is
        # transactional: the schema and the rows go together, at the commit, or not at all.
        locked.delete(force_drop=True)
