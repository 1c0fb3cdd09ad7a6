"""Reads of the exports app: a workspace's exports for its panels, and what an export writes, read in
keyset batches (those run in the workspace's schema, which the caller sets)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import BooleanField, ExpressionWrapper, Max, Model, Q
from django.utils import timezone

from exports.models import WorkspaceExport
from inbox.models import Contact, Conversation, Message
from tenants.models import Membership, Workspace

# --- The panels (owner's settings page, the staff console's workspace page)


@dataclass(frozen=True)
class ExportPanel:
    latest: WorkspaceExport | None  # the newest export, whatever its state
    downloadable: WorkspaceExport | None  # the newest whose file can be downloaded now

    @property
    def polling(self) -> bool:
        """Whether the panel reloads itself: while an export is queued or running."""
        return self.latest is not None and self.latest.is_active


def _downloadable() -> Q:
    """The one rule of an export whose file can be downloaded now: done, not past its expiry, its file
    named. Both the panel's annotation and downloadable_export's filter use it."""
    return Q(status=WorkspaceExport.Status.DONE, expires_at__gt=timezone.now()) & ~Q(file_name="")


def export_panel(*, workspace: Workspace, by_staff: bool) -> ExportPanel:
    """The newest export of one side (owners' or staff's) and its newest downloadable one: often the
    same row (one query), else two."""
    latest = (
        WorkspaceExport.objects.filter(workspace=workspace, by_staff=by_staff)
        .annotate(downloadable=ExpressionWrapper(_downloadable(), output_field=BooleanField()))
        .select_related("requested_by")
        .order_by("-id")
        .first()
    )
    if latest is not None and latest.downloadable:
        return ExportPanel(latest=latest, downloadable=latest)
    return ExportPanel(
        latest=latest, downloadable=downloadable_export(workspace=workspace, by_staff=by_staff)
    )


def downloadable_export(*, workspace: Workspace, by_staff: bool) -> WorkspaceExport | None:
    """The newest export of one side that is done and not expired (its file is there), or None."""
    return (
        WorkspaceExport.objects.filter(_downloadable(), workspace=workspace, by_staff=by_staff)
        .order_by("-id")
        .first()
    )


def active_export(*, workspace: Workspace, by_staff: bool) -> WorkspaceExport | None:
    """The export of one side that is queued or running, if any (there is at most one)."""
    return WorkspaceExport.objects.filter(
        workspace=workspace, by_staff=by_staff, status__in=WorkspaceExport.ACTIVE
    ).first()


def expired_exports(*, now) -> list[WorkspaceExport]:
    """Exports whose file is past its expiry."""
    return list(
        WorkspaceExport.objects.filter(status=WorkspaceExport.Status.DONE, expires_at__lte=now).order_by("id")
    )


# --- What an export writes (in the workspace's schema)

# The rows of one export, each read by id up to the newest id there was when the build began: a
# message written during the build is left out, so the counts the build started with are its counts.
EXPORTED_MODELS: dict[str, type[Model]] = {
    "conversation": Conversation,
    "message": Message,
    "contact": Contact,
}


def newest_ids() -> dict[str, int]:
    """The newest id of each exported kind of row (0 for none): one query each, by primary key."""
    return {
        kind: model.objects.aggregate(newest=Max("id"))["newest"] or 0
        for kind, model in EXPORTED_MODELS.items()
    }


def row_counts(upto: dict[str, int]) -> dict[str, int]:
    """How many rows of each kind there are up to the ids of `upto`."""
    return {kind: model.objects.filter(id__lte=upto[kind]).count() for kind, model in EXPORTED_MODELS.items()}


def id_batches(kind: str, *, upto: int, size: int) -> Iterator[list[int]]:
    """The ids of `kind` up to `upto`, oldest first, `size` at a time: one query per batch, each starting
    after the last id of the one before (keyset), so a big table is never held in memory."""
    model = EXPORTED_MODELS[kind]
    after = 0
    while True:
        ids = list(
            model.objects.filter(id__gt=after, id__lte=upto)
            .order_by("id")
            .values_list("id", flat=True)[:size]
        )
        if not ids:
            return
        yield ids
        if len(ids) < size:
            return
        after = ids[-1]


def member_count(*, workspace: Workspace) -> int:
    """How many members the workspace has (public schema): one count, no rows loaded."""
    return Membership.objects.filter(workspace=workspace).count()


def members_of_workspace(*, workspace: Workspace) -> list[Membership]:
    """The workspace's members with their users, oldest first (public schema)."""
    return list(
        Membership.objects.filter(workspace=workspace).select_related("user").order_by("created_at", "id")
    )
