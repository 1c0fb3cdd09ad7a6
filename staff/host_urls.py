"""The staff console's few pages on a workspace's host (included by config/urls.py): entering an
impersonation and stopping it. The console itself is the public host's alone (staff/urls.py)."""

from django.urls import path

from staff import impersonation_host_views

urlpatterns = [
    # Under /handoff/: open to a browser not yet signed in on this host (tenants.middleware).
    path("handoff/impersonate/", impersonation_host_views.impersonation_enter, name="impersonation_enter"),
    path("impersonation/stop/", impersonation_host_views.impersonation_stop, name="impersonation_stop"),
]
