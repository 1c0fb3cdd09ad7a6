"""URLs of the public host (PARLEY_BASE_DOMAIN): marketing, sign-up, the workspace chooser, and the staff
console and Django's admin (here only: config/urls.py must never include them)."""

from django.contrib import admin
from django.urls import include, path

from billing import views as billing_views
from config import csp
from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.landing, name="landing"),
    path("accounts/", include("accounts.urls")),
    path("workspaces/", tenant_views.workspace_list, name="workspace_list"),
    path("workspaces/<slug:slug>/open/", tenant_views.workspace_open, name="workspace_open"),
    path("", include("widget.urls")),
    path("csp-report/", csp.report, name="csp_report"),
    path("billing/stripe/webhook/", billing_views.stripe_webhook, name="stripe_webhook"),
    path("staff/", include("staff.urls")),
    path("admin/", admin.site.urls),  # superusers only (staff.admin_site)
]
