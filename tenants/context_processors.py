from django.http import HttpRequest

from billing import plans
from tenants import app_settings


def workspace(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    return {
        # Only members see which workspace this host is: a login page or a 404 names nothing.
        "workspace": request.workspace if membership is not None else None,
        "membership": membership,
        "public_url": app_settings.public_url(),
        "billing_on": plans.billing_enabled(),
        "billing_notice": _billing_notice(request, membership),
    }


def _billing_notice(request: HttpRequest, membership) -> dict | None:
    """For owners, while billing is on: a failed payment or the month's conversations running out."""
    if membership is None or membership.role != membership.Role.OWNER or not plans.billing_enabled():
        return None
    from billing.selectors import owner_notice

    return owner_notice(request.workspace)
