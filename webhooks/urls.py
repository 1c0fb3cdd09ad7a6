"""Webhook endpoints and their delivery log, on a workspace host (managers only)."""

from django.urls import path

from webhooks import views as webhook_views

urlpatterns = [
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
]
