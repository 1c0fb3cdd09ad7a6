"""A workspace's export pages, on its host (config/urls.py); the staff console's are in staff/urls.py."""

from django.urls import path

from exports import owner_views

urlpatterns = [
    path("settings/export/", owner_views.workspace_export, name="workspace_export"),
    path(
        "settings/export/download/", owner_views.workspace_export_download, name="workspace_export_download"
    ),
]
