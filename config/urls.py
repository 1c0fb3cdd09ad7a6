"""URLs of a workspace host (<slug>.PARLEY_BASE_DOMAIN); members only, see WorkspaceMembershipMiddleware.
Each app lists its own (<app>/urls.py); URL names are global (no namespaces)."""

from django.urls import include, path

from accounts import views as account_views
from config import csp

urlpatterns = [
    path("", include("inbox.urls")),
    path("", include("tenants.urls")),
    path("", include("webhooks.urls")),
    path("", include("billing.urls")),
    path("", include("api.urls")),
    path("", include("staff.host_urls")),  # entering and stopping an impersonation; no console here
    path("", include("exports.urls")),
    path("profile/", account_views.profile, name="profile"),
    path("accounts/", include("accounts.urls")),
    path("csp-report/", csp.report, name="csp_report"),
]

# A number or date a view could not read is answered with what was wrong (config/request_input.py).
handler400 = "config.request_input.bad_request"
# allauth's rate limits answer through this (allauth.core.internal.ratelimit.respond_429).
handler429 = "config.error_pages.too_many_requests"
