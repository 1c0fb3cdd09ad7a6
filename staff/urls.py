"""The staff console, on the public host only (included by config/urls_public.py; a workspace host has
no /staff/ at all: the impersonation's two pages there are staff/host_urls.py)."""

from django.urls import path

from staff import (
    billing_views,
    export_views,
    health_views,
    impersonation_views,
    member_views,
    suspension_views,
    views,
)

urlpatterns = [
    path("", views.workspace_list, name="staff_workspaces"),
    path("workspaces/<int:workspace_id>/", views.workspace_detail, name="staff_workspace"),
    path("workspaces/<int:workspace_id>/plan/", billing_views.plan_override, name="staff_plan_override"),
    path(
        "workspaces/<int:workspace_id>/plan/clear/",
        billing_views.plan_override_clear,
        name="staff_plan_override_clear",
    ),
    path("workspaces/<int:workspace_id>/trial/", billing_views.trial_extend, name="staff_trial_extend"),
    path(
        "workspaces/<int:workspace_id>/verification/",
        member_views.verification_resend,
        name="staff_verification_resend",
    ),
    path(
        "workspaces/<int:workspace_id>/impersonate/",
        impersonation_views.impersonation_start,
        name="staff_impersonate",
    ),
    path(
        "workspaces/<int:workspace_id>/export/", export_views.workspace_export, name="staff_workspace_export"
    ),
    path(
        "workspaces/<int:workspace_id>/export/download/",
        export_views.workspace_export_download,
        name="staff_workspace_export_download",
    ),
    path("health/", health_views.platform_health, name="staff_health"),
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
