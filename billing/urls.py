"""The billing page on a workspace host (owners only); Stripe's webhook is on the public host."""

from django.urls import path

from billing import owner_views as billing_views

urlpatterns = [
    path("settings/billing/", billing_views.billing_page, name="billing"),
    path("settings/billing/status/", billing_views.billing_status, name="billing_status"),
    path("settings/billing/upgrade/", billing_views.billing_upgrade, name="billing_upgrade"),
    path("settings/billing/portal/", billing_views.billing_portal, name="billing_portal"),
]
