"""A workspace's own pages on its host: its settings, its team, switching and handing off between hosts."""

from django.urls import path

from tenants import team_views
from tenants import views as tenant_views

urlpatterns = [
    path("settings/", tenant_views.workspace_settings, name="workspace_settings"),
    path("switch/<slug:slug>/", tenant_views.workspace_open, name="workspace_switch"),
    path("handoff/", tenant_views.handoff, name="workspace_handoff"),
    path("settings/team/", team_views.team, name="team"),
    path("settings/team/<int:membership_id>/role/", team_views.member_role, name="team_member_role"),
    path("settings/team/<int:membership_id>/remove/", team_views.member_remove, name="team_member_remove"),
    path(
        "settings/team/invitations/<int:invitation_id>/revoke/",
        team_views.invitation_revoke,
        name="team_invitation_revoke",
    ),
    path("invite/<str:token>/", team_views.invitation_accept, name="invitation_accept"),
]
