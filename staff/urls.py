"""The staff console, on the public host only (included by config/urls_public.py; a workspace host has
no /staff/ at all)."""

from django.urls import path

from staff import suspension_views, views

urlpatterns = [
    path("", views.workspace_list, name="staff_workspaces"),
    path("workspaces/<int:workspace_id>/", views.workspace_detail, name="staff_workspace"),
    path(
        "workspaces/<int:workspace_id>/suspend/",
        suspension_views.workspace_suspend,
        name="staff_workspace_suspend",
    ),
    path(
        "workspaces/<int:workspace_id>/unsuspend/",
        suspension_views.workspace_unsuspend,
        name="staff_workspace_unsuspend",
    ),
    path(
        "workspaces/<int:workspace_id>/delete/",
        suspension_views.workspace_delete,
        name="staff_workspace_delete",
    ),
    path(
        "workspaces/<int:workspace_id>/restore/",
        suspension_views.workspace_restore,
        name="staff_workspace_restore",
    ),
]
