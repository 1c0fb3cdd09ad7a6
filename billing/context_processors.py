"""What every page shows of billing: whether it is on (the nav entry), and the owners' banner."""

from django.http import HttpRequest

from billing import plans
from billing.selectors import owner_notice


def billing(request: HttpRequest) -> dict:
    return {
        "billing_on": plans.billing_enabled(),
        "billing_notice": _billing_notice(request, getattr(request, "membership", None)),
    }


def _billing_notice(request: HttpRequest, membership) -> dict | None:
    """For owners, while billing is on: a failed payment or the month's conversations running out."""
    if membership is None or membership.role != membership.Role.OWNER or not plans.billing_enabled():
        return None
    return owner_notice(request.workspace)
