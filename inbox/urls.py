"""The inbox on a workspace host: the agents' pages, reports, and the inbox's and websites' settings."""

from django.urls import path

from inbox import agent_views, home_views, report_views, settings_views, website_views

urlpatterns = [
    path("", home_views.workspace_home, name="workspace_home"),
    path("inbox/", agent_views.inbox, name="inbox"),
    path("inbox/list/", agent_views.conversation_list, name="inbox_list"),
    path("inbox/c/<int:conversation_id>/", agent_views.inbox, name="inbox_conversation"),
    path("inbox/c/<int:conversation_id>/messages/", agent_views.conversation_messages, name="inbox_messages"),
    path("inbox/c/<int:conversation_id>/reply/", agent_views.conversation_reply, name="inbox_reply"),
    path("inbox/c/<int:conversation_id>/assign/", agent_views.conversation_assign, name="inbox_assign"),
    path("inbox/c/<int:conversation_id>/status/", agent_views.conversation_status, name="inbox_status"),
    path("inbox/c/<int:conversation_id>/priority/", agent_views.conversation_priority, name="inbox_priority"),
    path("inbox/c/<int:conversation_id>/labels/", agent_views.conversation_labels, name="inbox_labels"),
    path("inbox/canned.json", agent_views.canned_responses, name="inbox_canned"),
    path("reports/", report_views.reports_page, name="reports"),
    path("settings/inbox/", settings_views.inbox_settings, name="inbox_settings"),
    path("settings/inbox/assignment/", settings_views.assignment_update, name="assignment_update"),
    path("settings/inbox/labels/", settings_views.label_create, name="label_create"),
    path("settings/inbox/labels/<int:label_id>/delete/", settings_views.label_delete, name="label_delete"),
    path("settings/inbox/canned/", settings_views.canned_response_create, name="canned_create"),
    path(
        "settings/inbox/canned/<int:canned_id>/delete/",
        settings_views.canned_response_delete,
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
]
