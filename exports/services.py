"""Writes of the exports app: an export requested (and its job queued), built, and deleted at expiry."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from exports import archive, selectors
from exports.files import export_storage
from exports.models import WorkspaceExport
from tenants.context import workspace_schema
from tenants.models import Workspace

logger = logging.getLogger(__name__)

EXPORT_BUILD_TASK = "exports.tasks.export_build"  # the job's name in procrastinate_jobs (exports.tasks)


def export_request(
    *, workspace: Workspace, requested_by: User, by_staff: bool = False
) -> tuple[WorkspaceExport, bool]:
    """Queue an export of the workspace's data for its owners (or, `by_staff`, for staff: call it through
    staff.services, which audits it); (the export, True), or (the one of that side already queued or
    running, False)."""
    from exports.tasks import export_build

    with transaction.atomic():
        # The workspace's row lock orders two requests racing for it: the second sees the first's
        # export (the constraint would refuse a second one anyway).
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        active = selectors.active_export(workspace=workspace, by_staff=by_staff)
        if active is not None:
            return active, False
        export = WorkspaceExport.objects.create(
            workspace=workspace, requested_by=requested_by, by_staff=by_staff
        )
        # procrastinate's Django connector defers on this connection: the job commits with the row.
        # The lock: one build per workspace at a time (owners' and staff's alike), so one workspace never
        # takes two of the threads exports share; the others' exports run beside it. The queueing lock:
        # one waiting per workspace and side, as the constraint says.
        side = "staff" if by_staff else "owners"
        export_build.configure(
            lock=f"export-{workspace.pk}", queueing_lock=f"export-{workspace.pk}-{side}"
        ).defer(export_id=export.pk, workspace_id=workspace.pk)
    return export, True


def _file_name(export: WorkspaceExport) -> str:
    return f"ws{export.workspace_id}-export{export.pk}-{secrets.token_hex(16)}.zip"


def export_build(*, export_id: int) -> str:
    """Build a queued (or interrupted) export's ZIP, writing its progress once per batch; mark it done,
    with a file until it expires, or failed. Older files of the workspace are deleted once it is done."""
    with transaction.atomic():
        export = (
            WorkspaceExport.objects.select_for_update()
            .select_related("workspace")
            .filter(pk=export_id)
            .first()
        )
        if export is None or not export.is_active:
            return "nothing to build"
        # A stalled job run again starts over: its half-written file is replaced.
        export.status = WorkspaceExport.Status.RUNNING
        export.started_at = timezone.now()
        export.progress_done = 0
        export.file_name = _file_name(export)
        export.save(update_fields=["status", "started_at", "progress_done", "file_name"])

    storage = export_storage()
    final_path = storage.path(export.file_name)
    partial_path = final_path + ".part"  # never downloadable: the row names the final path only when done
    try:
        os.makedirs(storage.location, exist_ok=True)
        with workspace_schema(export.workspace.schema_name):
            upto = selectors.newest_ids()
            counts = selectors.row_counts(upto)
        total = sum(counts.values()) + selectors.member_count(workspace=export.workspace)
        WorkspaceExport.objects.filter(pk=export.pk).update(progress_total=total)

        done = 0

        def progress(rows: int) -> None:
            nonlocal done
            done += rows
            # Committed at once (no transaction is open): the panel's next poll shows it.
            WorkspaceExport.objects.filter(pk=export.pk).update(progress_done=done)

        written = archive.write(
            path=partial_path,
            export=export,
            upto=upto,
            batch_size=settings.PARLEY_EXPORT_BATCH,
            progress=progress,
        )
        os.replace(partial_path, final_path)
    except Exception as exc:
        with contextlib.suppress(OSError):  # none written, or no folder to write it in
            os.remove(partial_path)
        WorkspaceExport.objects.filter(pk=export.pk).update(
            status=WorkspaceExport.Status.FAILED,
            finished_at=timezone.now(),
            file_name="",
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise

    now, size = timezone.now(), os.path.getsize(final_path)
    with transaction.atomic():
        marked = WorkspaceExport.objects.filter(pk=export.pk).update(
            status=WorkspaceExport.Status.DONE,
            progress_done=done,
            file_size=size,
            counts=written,
            finished_at=now,
            expires_at=now + timedelta(days=settings.PARLEY_EXPORT_KEEP_DAYS),
        )
        if not marked:
            # The workspace was dropped while this was built (workspace_exports_discard ran before the
            # file was there): no row names the file, so nothing else would ever delete it.
            with contextlib.suppress(FileNotFoundError):  # already deleted by the discard's commit
                os.remove(final_path)
            return "workspace dropped meanwhile: file deleted"
        # One file per workspace and side: the newest, the only one its panel offers.
        superseded = list(
            WorkspaceExport.objects.select_for_update()
            .filter(
                workspace_id=export.workspace_id,
                by_staff=export.by_staff,
                status=WorkspaceExport.Status.DONE,
                pk__lt=export.pk,
            )
            .values_list("pk", "file_name")
        )
        _expire([pk for pk, _ in superseded], [name for _, name in superseded])
    return f"{sum(written.values())} objects, {size} bytes"


def _expire(export_ids: list[int], file_names: list[str]) -> None:
    """Mark the exports expired and delete their files once that commits (a rollback keeps both)."""
    if not export_ids:
        return
    WorkspaceExport.objects.filter(pk__in=export_ids).update(
        status=WorkspaceExport.Status.EXPIRED, file_name=""
    )

    def delete_files() -> None:
        storage = export_storage()
        for name in file_names:
            if name:
                storage.delete(name)  # no error if it is already gone

    transaction.on_commit(delete_files)


def exports_expired_delete(*, now: datetime | None = None) -> int:
    """Delete the files of exports past their expiry (PARLEY_EXPORT_KEEP_DAYS after they were ready);
    the rows stay, as expired. The number deleted."""
    with transaction.atomic():
        expired = selectors.expired_exports(now=now or timezone.now())
        _expire([export.pk for export in expired], [export.file_name for export in expired])
    return len(expired)


def workspace_exports_discard(*, workspace: Workspace) -> int:
    """Before a workspace is dropped (in the drop's transaction): expire all its exports, their files
    deleted once that commits, and take its export builds still queued off the queue. Its rows then go
    with the workspace by cascade; without this their files would stay in PARLEY_EXPORT_DIR for ever
    (the expiry job reads rows). The number of exports expired."""
    with transaction.atomic():
        # The workspace's row lock, as export_request takes it: no export is requested meanwhile.
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        exports = list(
            WorkspaceExport.objects.select_for_update()
            .filter(workspace=workspace)
            .exclude(status=WorkspaceExport.Status.EXPIRED)
            .values_list("pk", "file_name")
        )
        _expire([pk for pk, _ in exports], [name for _, name in exports])
        with connection.cursor() as cursor:
            # A running build ('doing') is left to end: its row gone, it deletes its own file.
            cursor.execute(
                "DELETE FROM procrastinate_jobs WHERE status = 'todo' AND task_name = %s "
                "AND args->>'workspace_id' = %s",
                [EXPORT_BUILD_TASK, str(workspace.pk)],
            )
    return len(exports)
