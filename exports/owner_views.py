"""Settings → Export, for the workspace's owners, on its host: request an export of the workspace's data,
watch it being built, download it. Rights are read on every request (owners only, as the settings
page); anyone who is not a member gets a 404 (WorkspaceMembershipMiddleware)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from exports import selectors, services
from exports.files import download_response
from exports.panels import panel_context
from tenants.permissions import owners_only


@require_http_methods(["GET", "POST"])
@owners_only
def workspace_export(request: HttpRequest) -> HttpResponse:
    """GET: the panel (polled while an export is queued or running). POST: request an export; while one
    is under way, that one is shown instead."""
    if request.method == "POST":
        _, created = services.export_request(workspace=request.workspace, requested_by=request.user)
        if not request.htmx:  # without JavaScript: back to the page, which shows the panel
            if created:
                messages.success(request, "Export requested: it is being prepared.")
            else:
                messages.info(request, "An export is already being prepared.")
            return redirect("workspace_settings")
    return render(
        request,
        "exports/partials/export_panel.html",
        panel_context(workspace=request.workspace, for_staff=False),
    )


@require_GET
@owners_only
def workspace_export_download(request: HttpRequest) -> HttpResponse:
    """The owners' newest ready export of this workspace (the host's): the URL names no file."""
    export = selectors.downloadable_export(workspace=request.workspace, by_staff=False)
    if export is None:  # expired since the link was shown, say: back to the panel, which says so
        messages.info(request, "No export is ready to download: request one below.")
        return redirect("workspace_settings")
    return download_response(export)
