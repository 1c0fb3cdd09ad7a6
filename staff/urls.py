"""The staff console, on the public host only (included by config/urls_public.py; a workspace host has
no /staff/ at all)."""

from django.urls import path

from staff import export_views, views

urlpatterns = [
    path("", views.workspace_list, name="staff_workspaces"),
    path("workspaces/<int:workspace_id>/", views.workspace_detail, name="staff_workspace"),
    path(
        "workspaces/<int:workspace_id>/export/", export_views.workspace_export, name="staff_workspace_export"
    ),
    path(
        "workspaces/<int:workspace_id>/export/download/",
        export_views.workspace_export_download,
        name="staff_workspace_export_download",
    ),
]
