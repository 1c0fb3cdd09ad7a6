"""URLs of a workspace host (<slug>.PARLEY_BASE_DOMAIN); members only, see WorkspaceMembershipMiddleware."""

from django.urls import include, path

from inbox import views as inbox_views
from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.workspace_home, name="workspace_home"),
    path("settings/", tenant_views.workspace_settings, name="workspace_settings"),
    path("switch/<slug:slug>/", tenant_views.workspace_open, name="workspace_switch"),
    path("handoff/", tenant_views.handoff, name="workspace_handoff"),
    path("settings/websites/", inbox_views.website_list, name="website_list"),
    path("settings/websites/new/", inbox_views.website_create, name="website_create"),
    path("settings/websites/<int:website_id>/", inbox_views.website_detail, name="website_detail"),
    path(
        "settings/websites/<int:website_id>/rotate-key/",
        inbox_views.website_rotate_key,
        name="website_rotate_key",
    ),
    path(
        "settings/websites/<int:website_id>/rotate-identity-secret/",
        inbox_views.website_rotate_identity_secret,
        name="website_rotate_identity_secret",
    ),
    path("settings/websites/<int:website_id>/delete/", inbox_views.website_delete, name="website_delete"),
    path("accounts/", include("accounts.urls")),
]
