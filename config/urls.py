"""URLs of a workspace host (<slug>.PARLEY_BASE_DOMAIN); members only, see WorkspaceMembershipMiddleware."""

from django.urls import include, path

from accounts import views as account_views
from api import key_views as api_key_views
from api.rest import api
from billing import owner_views as billing_views
from config import csp
from inbox import home_views, inbox_views, report_views
from inbox import views as website_views
from tenants import team_views
from tenants import views as tenant_views
from webhooks import views as webhook_views

urlpatterns = [
    path("", home_views.workspace_home, name="workspace_home"),
    path("settings/", tenant_views.workspace_settings, name="workspace_settings"),
    path("switch/<slug:slug>/", tenant_views.workspace_open, name="workspace_switch"),
    path("handoff/", tenant_views.handoff, name="workspace_handoff"),
    path("profile/", account_views.profile, name="profile"),
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/list/", inbox_views.conversation_list, name="inbox_list"),
    path("inbox/c/<int:conversation_id>/", inbox_views.inbox, name="inbox_conversation"),
    path("inbox/c/<int:conversation_id>/messages/", inbox_views.conversation_messages, name="inbox_messages"),
    path("inbox/c/<int:conversation_id>/reply/", inbox_views.conversation_reply, name="inbox_reply"),
    path("inbox/c/<int:conversation_id>/assign/", inbox_views.conversation_assign, name="inbox_assign"),
    path("inbox/c/<int:conversation_id>/status/", inbox_views.conversation_status, name="inbox_status"),
    path("inbox/c/<int:conversation_id>/priority/", inbox_views.conversation_priority, name="inbox_priority"),
    path("settings/team/", team_views.team, name="team"),
    path("settings/team/<int:membership_id>/role/", team_views.member_role, name="team_member_role"),
    path("settings/team/<int:membership_id>/remove/", team_views.member_remove, name="team_member_remove"),
    path(
        "settings/team/invitations/<int:invitation_id>/revoke/",
        team_views.invitation_revoke,
        name="team_invitation_revoke",
    ),
    path("invite/<str:token>/", team_views.invitation_accept, name="invitation_accept"),
    path("inbox/c/<int:conversation_id>/labels/", inbox_views.conversation_labels, name="inbox_labels"),
    path("inbox/canned.json", inbox_views.canned_responses, name="inbox_canned"),
    path("reports/", report_views.reports_page, name="reports"),
    path("settings/inbox/", website_views.inbox_settings, name="inbox_settings"),
    path("settings/inbox/assignment/", website_views.assignment_update, name="assignment_update"),
    path("settings/inbox/labels/", website_views.label_create, name="label_create"),
    path("settings/inbox/labels/<int:label_id>/delete/", website_views.label_delete, name="label_delete"),
    path("settings/inbox/canned/", website_views.canned_response_create, name="canned_create"),
    path(
        "settings/inbox/canned/<int:canned_id>/delete/",
        website_views.canned_response_delete,
        name="canned_delete",
    ),
    path("settings/websites/", website_views.website_list, name="website_list"),
    path("settings/websites/new/", website_views.website_create, name="website_create"),
    path("settings/websites/<int:website_id>/", website_views.website_detail, name="website_detail"),
    path(
        "settings/websites/<int:website_id>/rotate-key/",
        website_views.website_rotate_key,
        name="website_rotate_key",
    ),
    path(
        "settings/websites/<int:website_id>/rotate-identity-secret/",
        website_views.website_rotate_identity_secret,
        name="website_rotate_identity_secret",
    ),
    path("settings/websites/<int:website_id>/delete/", website_views.website_delete, name="website_delete"),
    path("settings/webhooks/", webhook_views.endpoint_list, name="webhook_endpoints"),
    path("settings/webhooks/new/", webhook_views.endpoint_create, name="webhook_endpoint_create"),
    path("settings/webhooks/<int:endpoint_id>/", webhook_views.endpoint_detail, name="webhook_endpoint"),
    path(
        "settings/webhooks/<int:endpoint_id>/rotate-secret/",
        webhook_views.endpoint_rotate_secret,
        name="webhook_endpoint_rotate",
    ),
    path(
        "settings/webhooks/<int:endpoint_id>/toggle/",
        webhook_views.endpoint_toggle,
        name="webhook_endpoint_toggle",
    ),
    path(
        "settings/webhooks/<int:endpoint_id>/test/", webhook_views.endpoint_test, name="webhook_endpoint_test"
    ),
    path(
        "settings/webhooks/<int:endpoint_id>/delete/",
        webhook_views.endpoint_delete,
        name="webhook_endpoint_delete",
    ),
    path(
        "settings/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/",
        webhook_views.delivery_detail,
        name="webhook_delivery",
    ),
    path("settings/billing/", billing_views.billing_page, name="billing"),
    path("settings/billing/status/", billing_views.billing_status, name="billing_status"),
    path("settings/billing/upgrade/", billing_views.billing_upgrade, name="billing_upgrade"),
    path("settings/billing/portal/", billing_views.billing_portal, name="billing_portal"),
    path("settings/api-keys/", api_key_views.api_keys, name="api_keys"),
    path("settings/api-keys/<int:key_id>/revoke/", api_key_views.api_key_revoke, name="api_key_revoke"),
    path("api/v1/", api.urls),
    path("accounts/", include("accounts.urls")),
    path("csp-report/", csp.report, name="csp_report"),
]

# A number or date a view could not read is answered with what was wrong (config/request_input.py).
handler400 = "config.request_input.bad_request"
# allauth's rate limits answer through this (allauth.core.internal.ratelimit.respond_429).
handler429 = "config.error_pages.too_many_requests"
