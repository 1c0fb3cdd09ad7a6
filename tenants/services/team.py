"""Writes of a workspace's team: invitations, roles, members leaving."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from mail import gateway
from tenants import app_settings, hooks
from tenants.exceptions import (
    InvitationAddressUnproven,
    InvitationInvalid,
    LastOwner,
    WorkspaceRoleRequired,
)
from tenants.models import Invitation, Membership, Workspace
from tenants.services.handoffs import token_hash


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
            token_hash=token_hash(raw),
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
        token_hash=token_hash(raw_token or ""), workspace=workspace
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
