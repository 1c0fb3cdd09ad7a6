"""Where export files are kept, and how one is handed to whoever may download it."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404

from exports.models import WorkspaceExport


def export_storage() -> FileSystemStorage:
    """PARLEY_EXPORT_DIR: a folder no URL serves. Files leave it only through the download views, which
    check who asks each time."""
    return FileSystemStorage(location=settings.PARLEY_EXPORT_DIR, base_url=None)


def download_response(export: WorkspaceExport) -> FileResponse:
    """The export's ZIP as an attachment, kept by no cache; a 404 if its file is gone (expired since)."""
    try:
        file = export_storage().open(export.file_name, "rb")
    except FileNotFoundError:
        raise Http404("This export has expired.") from None
    finished = export.finished_at.strftime("%Y-%m-%d") if export.finished_at else "export"
    response = FileResponse(
        file,
        as_attachment=True,
        filename=f"parley-{export.workspace.slug or export.workspace_id}-{finished}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response
