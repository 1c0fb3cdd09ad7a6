"""The staff console, on the public host only (included by config/urls_public.py; a workspace host has
no /staff/ at all)."""

from django.urls import path

from staff import health_views, views

urlpatterns = [
    path("", views.workspace_list, name="staff_workspaces"),
    path("workspaces/<int:workspace_id>/", views.workspace_detail, name="staff_workspace"),
    path("health/", health_views.platform_health, name="staff_health"),
]
