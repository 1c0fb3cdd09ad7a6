"""The staff console's export of a workspace's data: request it (with a reason, audited), watch it being
built, download it. The panel is the owner's (templates/exports/partials/export_panel.html)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from exports import selectors as export_selectors
from exports.files import download_response
from exports.panels import panel_context
from staff import services
from staff.permissions import staff_only
from staff.views import workspace_of


@staff_only  # first: anyone else gets a 404 whatever the method
@require_http_methods(["GET", "POST"])
def workspace_export(request: HttpRequest, workspace_id: int) -> HttpResponse:
    """GET: the panel (polled while a staff export is queued or running). POST: request one."""
    workspace = workspace_of(workspace_id)
    error = ""
    if request.method == "POST":
        try:
            _, created = services.workspace_export_request(
                staff=request.user,
                workspace=workspace,
                reason=request.POST.get("reason", ""),
                ip_address=request.META.get("REMOTE_ADDR"),
            )
        except services.StaffError as exc:
            error = str(exc)
            if not request.htmx:
                messages.error(request, error)
        else:
            if not request.htmx:
                messages.success(
                    request, "Export requested." if created else "A staff export is already being prepared."
                )
        if not request.htmx:  # without JavaScript: back to the workspace's page, which shows the panel
            return redirect("staff_workspace", workspace_id=workspace.pk)
    # An error answers 200: htmx swaps no 4xx answer, and the panel is where it must be read.
    return render(
        request,
        "exports/partials/export_panel.html",
        panel_context(workspace=workspace, for_staff=True, error=error),
    )


@staff_only  # first: anyone else gets a 404 whatever the method
@require_GET
def workspace_export_download(request: HttpRequest, workspace_id: int) -> HttpResponse:
    """The newest ready export staff asked for (never an owner's: each staff export is audited)."""
    workspace = workspace_of(workspace_id)
    export = export_selectors.downloadable_export(workspace=workspace, by_staff=True)
    if export is None:  # expired since the link was shown, or only the owners have one
        messages.info(request, "No staff export of this workspace is ready to download.")
        return redirect("staff_workspace", workspace_id=workspace.pk)
    return download_response(export)
