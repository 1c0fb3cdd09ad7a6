"""Reads for workspaces and memberships."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from tenants.models import Membership, Workspace


def workspace_for_hostname(hostname: str) -> Workspace | None:
    """The claimed workspace a host name routes to, or None."""
    return (
        Workspace.objects.filter(domains__domain=hostname, claimed_at__isnull=False)
        .only("id", "schema_name", "name", "slug", "suspended_at", "deletion_due_at")
        .first()
    )


def workspace_is_suspended(workspace_id: int) -> bool:
    """Whether the workspace is suspended now (read again, for a socket that has just subscribed)."""
    return Workspace.objects.filter(pk=workspace_id, suspended_at__isnull=False).exists()


def workspaces_due_for_deletion() -> list[Workspace]:
    """Workspaces whose deletion time has come, the longest due first."""
    return list(
        Workspace.objects.filter(deletion_due_at__lte=timezone.now()).order_by("deletion_due_at", "id")
    )


def membership_for(*, user: User, workspace: Workspace) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, workspace=workspace).first()


def memberships_of_user(*, user: User) -> QuerySet[Membership]:
    """The user's workspaces, by name, with the workspace loaded."""
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")


def members_of_workspace(*, workspace: Workspace) -> QuerySet[Membership]:
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("created_at")


def spare_count() -> int:
    return Workspace.objects.filter(claimed_at__isnull=True).count()
